"""`fnlb sim-node` as a real process on an ephemeral port, spoken to over real sockets."""

import http.client
import json
import socket
import threading
import time

import pytest

from fnlb.config.goduration import parse_ns
from tests.sim.helpers import SimNodes
from tests.support.procs import Proc, fnlb_argv


def get(addr: str, path: str, conn: http.client.HTTPConnection | None = None):
    host, port = addr.rsplit(":", 1)
    conn = conn or http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path)
    resp = conn.getresponse()
    return resp.status, resp.headers, json.loads(resp.read())


def wait_of(headers) -> float:
    # http.client decodes headers as latin-1; the node writes UTF-8 ("µs"), as Go does
    return parse_ns(headers["XXX-FXLB-WAIT"].encode("latin-1").decode("utf-8")) / 1e9


@pytest.fixture
def node():
    with SimNodes(1, "--slots", "1", "--cold-start", "200ms", "--exec", "20ms", "--idle-timeout", "1m") as nodes:
        yield nodes.addresses[0]


def test_version_and_unknown_paths(node):
    status, _, body = get(node, "/version")
    assert status == 200 and body == {"version": "0.3.700"}
    status, _, body = get(node, "/nope")
    assert status == 404 and "error" in body
    status, _, _ = get(node, "/r/app/fn?ms=abc")
    assert status == 400


def test_cold_then_hot_with_the_measured_wait(node):
    status, headers, body = get(node, "/r/app/fn")
    assert status == 200
    assert body["node"] == node and body["function"] == "/r/app/fn" and body["cold"] is True
    assert 0.19 <= wait_of(headers) < 2.0
    assert body["wait"] == pytest.approx(wait_of(headers), abs=1e-5)
    status, headers, body = get(node, "/r/app/fn?ms=5")
    assert body["cold"] is False and body["exec"] == pytest.approx(0.005)
    assert wait_of(headers) < 0.1


def test_queueing_when_the_slot_is_busy(node):
    get(node, "/r/app/fn?ms=1")  # warm it up so only queueing counts
    results = []

    def call():
        results.append(get(node, "/r/app/fn?ms=400"))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join(10)
    waits = sorted(wait_of(h) for _, h, _ in results)
    assert waits[0] < 0.2 and 0.3 <= waits[1] < 3.0
    assert all(not body["cold"] for _, _, body in results)


def test_eviction_of_the_idle_container_of_another_route(node):
    assert get(node, "/r/app/f")[2]["cold"] is True
    assert get(node, "/r/app/g")[2]["cold"] is True   # one slot: f's container is evicted
    assert get(node, "/r/app/f")[2]["cold"] is True
    _, _, stats = get(node, "/stats")
    assert stats["calls"] == 3 and stats["cold_starts"] == 3 and stats["evictions"] == 2
    assert stats["hot"] == {"/r/app/f": {"busy": 0, "idle": 1}} and stats["queue"] == 0


def test_keep_alive_and_pipelining(node):
    host, port = node.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET /r/app/slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        deadline = time.monotonic() + 10
        while data.count(b"HTTP/1.1 200") < 2 and time.monotonic() < deadline:
            data += s.recv(65536)
    first, second = data.index(b"/r/app/slow"), data.index(b'"version"')
    assert first < second  # answered in order although /version was ready first


def test_sim_node_prints_its_address_and_flags_take_go_durations():
    proc = Proc(fnlb_argv("sim-node", "--listen", "127.0.0.1:0", "--cold-start", "1ms",
                          "--idle-timeout", "1m", "--slow", "0s", "--version-string", "0.9.1"))
    try:
        deadline = time.monotonic() + 10
        while not proc.output().strip() and time.monotonic() < deadline:
            time.sleep(0.02)
        addr = proc.output().split()[0]
        assert get(addr, "/version")[2] == {"version": "0.9.1"}
    finally:
        assert proc.stop() == 0


def test_fail_rate_answers_500_with_the_wait_header():
    with SimNodes(1, "--fail-rate", "1", "--cold-start", "0s") as nodes:
        status, headers, body = get(nodes.addresses[0], "/r/app/fn?ms=1")
        assert status == 500 and "error" in body and wait_of(headers) >= 0


def test_bad_flag_is_one_line_and_exit_2():
    proc = Proc(fnlb_argv("sim-node", "--cold-start", "fast"))
    assert proc.popen.wait(10) == 2
    assert "--cold-start" in proc.output() and len(proc.output().splitlines()) <= 3


def test_request_bodies_and_expect_100_continue(node):
    host, port = node.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"POST /r/app/fn?ms=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(b"hello")
        data = b""
        while b'"exec"' not in data:
            chunk = s.recv(65536)
            assert chunk
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK") and b"XXX-FXLB-WAIT: " in data


def test_slow_delays_every_function_and_version_response():
    with SimNodes(1, "--slow", "300ms", "--cold-start", "0s") as nodes:
        for path in ("/version", "/r/app/fn?ms=0"):
            t0 = time.monotonic()
            status, headers, _ = get(nodes.addresses[0], path)
            assert status == 200 and 0.28 <= time.monotonic() - t0 < 5
        assert wait_of(headers) < 0.1  # the delay comes after the function: it is no wait


def _free_port_run(count: int) -> int:
    """A base port with `count` consecutive free ports (a lone free port's neighbours may
    be taken by another test's ephemeral sockets, which made this test flaky)."""
    import socket

    from tests.support.procs import free_port

    for _ in range(50):
        base = free_port()
        try:
            for port in range(base, base + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError(f"no run of {count} free ports found")


def test_sim_cluster_uses_consecutive_ports_from_base_port():
    base = _free_port_run(3)
    with SimNodes(3, "--base-port", str(base)) as nodes:
        assert nodes.addresses == [f"127.0.0.1:{base + i}" for i in range(3)]
        for addr in nodes.addresses:
            assert get(addr, "/r/app/fn?ms=1")[2]["node"] == addr


def test_sim_node_on_busy_queue_waits_for_the_busy_container():
    """Two overlapping calls of one function: the second waits for the first's container
    (it frees well before a 1 s cold start) instead of starting a new one."""
    proc = Proc(fnlb_argv("sim-node", "--listen", "127.0.0.1:0", "--on-busy", "queue", "--slots", "4",
                          "--cold-start", "1s", "--idle-timeout", "1m"))
    try:
        deadline = time.monotonic() + 10
        while not proc.output().strip() and time.monotonic() < deadline:
            time.sleep(0.02)
        addr = proc.output().split()[0]
        assert get(addr, "/r/app/fn?ms=1")[2]["cold"] is True  # one warm container
        results = {}

        def call(name, ms):
            results[name] = get(addr, f"/r/app/fn?ms={ms}")

        first = threading.Thread(target=call, args=("first", 600))
        second = threading.Thread(target=call, args=("second", 10))
        first.start()
        time.sleep(0.1)                  # the first runs (hot) until about 0.6 s
        second.start()
        for t in (first, second):
            t.join(10)
        _, headers, body = results["second"]
        assert body["cold"] is False
        assert 0.1 <= wait_of(headers) < 0.95  # waited for the first call, less than a cold start
        assert results["first"][2]["cold"] is False and wait_of(results["first"][1]) < 0.1
        _, _, stats = get(addr, "/stats")
        assert stats["on_busy"] == "queue" and stats["queued_hot"] == 1
        assert stats["cold_starts"] == 1 and stats["containers"] == 1 and stats["queue"] == 0
    finally:
        assert proc.stop() == 0


def test_on_busy_takes_cold_or_queue_only():
    proc = Proc(fnlb_argv("sim-node", "--on-busy", "wait"))
    assert proc.popen.wait(10) == 2
    assert "--on-busy" in proc.output()
