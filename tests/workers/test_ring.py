"""The shared-memory ring and the event codec of --workers, without processes."""

from __future__ import annotations

import logging

import pytest

from fnlb.workers import events
from fnlb.workers.ring import HEADER, RingReader, RingWriter, init_segment, segment_bytes


def ring(size: int):
    buf = bytearray(segment_bytes(size))
    init_segment(buf, size)
    return buf


def test_write_then_read_whole_records():
    buf = ring(1024)
    w, r = RingWriter(buf), RingReader(buf)
    assert r.read() == b"" and not r.pending()
    w.write(b"abc")
    w.write(b"defg")
    assert r.pending()
    assert r.read() == b"abcdefg"
    assert r.read() == b""


def test_records_wrap_around_the_end():
    buf = ring(16)
    w, r = RingWriter(buf), RingReader(buf)
    for i in range(40):
        record = bytes([65 + i % 26]) * (1 + i % 7)
        w.write(record)
        assert r.read() == record
    assert w.pos > 16 * 5


def test_a_reader_lapped_by_the_writer_skips_to_the_writer(caplog):
    buf = ring(32)
    w, r = RingWriter(buf), RingReader(buf, name="ring-x")
    for _ in range(10):
        w.write(b"0123456789")       # 100 bytes into a 32-byte ring: r is lapped
    with caplog.at_level(logging.WARNING, "fnlb.workers"):
        assert r.read() == b""
    assert r.lapped == 1 and r.pos == w.pos and "ring-x" in caplog.text
    w.write(b"next")
    assert r.read() == b"next"      # and it follows again


def test_exactly_a_full_ring_behind_is_not_lapped():
    buf = ring(32)
    w, r = RingWriter(buf), RingReader(buf)
    w.write(b"x" * 20)
    assert r.read() == b"x" * 20
    w.write(b"a" * 16)
    w.write(b"b" * 16)
    assert r.read() == b"a" * 16 + b"b" * 16 and r.lapped == 0


def test_several_readers_each_at_their_own_position():
    buf = ring(64)
    w = RingWriter(buf)
    early = RingReader(buf)
    w.write(b"one")
    late = RingReader(buf)          # attaches at the current position
    w.write(b"two")
    assert early.read() == b"onetwo"
    assert late.read() == b"two"
    from_start = RingReader(buf, pos=0)
    assert from_start.read() == b"onetwo"


def test_a_new_writer_continues_where_the_last_one_stopped():
    buf = ring(64)
    r = RingReader(buf)
    RingWriter(buf).write(b"before")
    RingWriter(buf).write(b"after")     # a restarted worker takes over its ring
    assert r.read() == b"beforeafter"


def test_a_memoryview_segment_reads_as_bytes():
    buf = memoryview(ring(64))
    w, r = RingWriter(buf), RingReader(buf)
    w.write(b"hello")
    data = r.read()
    assert type(data) is bytes and data == b"hello"


def test_a_record_larger_than_the_ring_is_refused():
    buf = ring(16)
    with pytest.raises(ValueError):
        RingWriter(buf).write(b"x" * 17)
    assert buf[HEADER:HEADER + 16] == bytes(16)


def test_events_round_trip():
    enc = events.Encoder()
    chunk = b"".join([
        enc.started("10.0.0.1:8080", "/r/app/fn", 1.5),
        enc.finished("10.0.0.1:8080", "/r/app/fn", 2.5, 200, 0.25, b"12ms"),
        enc.finished("10.0.0.2:8080", "/r/app/\u00e9", 3.0, 0, 0.0, None),
        enc.finished("n", "k", 3.0, 200, 0.0, b"x" * 5000),
        enc.failed("10.0.0.2:8080", "/r/app/fn", 3.5),
        enc.nodes(["a:1", "b:2"], 4.0),
        enc.nodes([], 4.5),
        enc.released("a:1", "/k", 5.0, 3),
    ])
    assert list(events.decode(chunk)) == [
        (events.STARTED, 1.5, "10.0.0.1:8080", "/r/app/fn"),
        (events.FINISHED, 2.5, "10.0.0.1:8080", "/r/app/fn", 200, 0.25, b"12ms"),
        (events.FINISHED, 3.0, "10.0.0.2:8080", "/r/app/\u00e9", 0, 0.0, None),
        (events.FINISHED, 3.0, "n", "k", 200, 0.0, b"invalid"),
        (events.FAILED, 3.5, "10.0.0.2:8080", "/r/app/fn"),
        (events.NODES, 4.0, ["a:1", "b:2"]),
        (events.NODES, 4.5, []),
        (events.RELEASED, 5.0, "a:1", "/k", 3),
    ]


def test_events_through_a_wrapping_ring():
    buf = ring(100)
    w, r = RingWriter(buf), RingReader(buf)
    enc = events.Encoder()
    seen = []
    for i in range(50):
        w.write(enc.started(f"node{i % 3}", f"/k{i}", float(i)))
        if i % 2:
            seen.extend(events.decode(r.read()))
    seen.extend(events.decode(r.read()))
    assert [ev[3] for ev in seen] == [f"/k{i}" for i in range(50)]


def test_a_reader_in_another_process_sees_every_event_or_knows_it_was_lapped():
    """A writer process appending as fast as it can for 1 s, a reader following: every
    event arrives whole and in order, except across a lap, which the reader counts. (With
    struct.pack_into publishing the position, readers saw positions of 0: torn updates.)"""
    import os
    import time

    from fnlb.workers.ring import attach, create

    fd, buf = create("test-ring", 1 << 20)
    pid = os.fork()
    if pid == 0:
        try:
            w, enc, i, t0 = RingWriter(attach(fd)), events.Encoder(), 0, time.monotonic()
            while time.monotonic() - t0 < 1.0:
                w.write(enc.started("10.0.0.1:8080", f"/r/app/f{i % 50}", float(i)))
                i += 1
            w.write(enc.nodes([], -1.0))
        finally:
            os._exit(0)
    r = RingReader(attach(fd), 0)
    expect, seen, gaps, done = 0.0, 0, 0, False
    deadline = time.monotonic() + 10
    while not done and time.monotonic() < deadline:
        for ev in events.decode(r.read()):
            if ev[0] == events.NODES:
                done = True
                break
            assert ev[3] == f"/r/app/f{int(ev[1]) % 50}"
            if ev[1] != expect:
                gaps += 1
            expect, seen = ev[1] + 1, seen + 1
    os.waitpid(pid, 0)
    assert done and seen > 10000 and gaps <= r.lapped, (seen, gaps, r.lapped)
