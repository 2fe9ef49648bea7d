"""The events the processes of ``--workers`` exchange through their rings (ring.py).

Theory of operation
-------------------
Every worker appends one event per routing call it makes, so that every other process
can replay the call on its own replica of the routing state:

  STARTED(node, key)                          after ``begin``/``begin_retry`` picked node
  FINISHED(node, key, status, latency, wait)  ``request_done``; wait = the raw XXX-FXLB-WAIT
                                              bytes the node sent, or None
  FAILED(node, key)                           ``upstream_failed``

The supervisor appends to its own ring, read by every worker:

  NODES(nodes)                                the healthy node set changed (and at start)
  RELEASED(node, key, count)                  a dead worker's calls that never finished:
                                              count them as ended (in-flight -1 each)

Each event also carries ``t``, the writer's ``time.monotonic()`` (CLOCK_MONOTONIC is
system-wide on Linux): only to measure the replication lag. Appliers use their own
clock, so each replica's estimates see events in the order it applied them.

Record: ``<IBd`` (total length, kind, t), then the kind's fields; strings are ``<H``
length + UTF-8. ``Encoder`` caches the encoded form of node and key strings; ``decode``
caches the decoded ones (both bounded).
"""

from __future__ import annotations

import struct
from typing import Iterator

STARTED, FINISHED, FAILED, NODES, RELEASED = 1, 2, 3, 4, 5

HEAD = struct.Struct("<IBd")
_FIN = struct.Struct("<Hd")      # status, latency
_H = struct.Struct("<H")
_I = struct.Struct("<I")
NO_WAIT = 0xFFFF                 # wait length meaning "the node sent no wait header"
MAX_WAIT = 1024                  # a longer wait header is invalid anyway: sent as b"invalid"
CACHE_MAX = 8192


def _field(text: str) -> bytes:
    raw = text.encode("utf-8", "surrogatepass")
    return _H.pack(len(raw)) + raw


class Encoder:
    __slots__ = ("_fields",)

    def __init__(self):
        self._fields: dict[str, bytes] = {}

    def field(self, text: str) -> bytes:
        f = self._fields.get(text)
        if f is None:
            if len(self._fields) >= CACHE_MAX:
                self._fields.clear()
            f = self._fields[text] = _field(text)
        return f

    def started(self, node: str, key: str, t: float) -> bytes:
        return self._pair(STARTED, node, key, t)

    def failed(self, node: str, key: str, t: float) -> bytes:
        return self._pair(FAILED, node, key, t)

    def _pair(self, kind: int, node: str, key: str, t: float) -> bytes:
        n, k = self.field(node), self.field(key)
        return HEAD.pack(HEAD.size + len(n) + len(k), kind, t) + n + k

    def finished(self, node: str, key: str, t: float, status: int, latency: float, wait: bytes | None) -> bytes:
        if wait is None:
            w = _H.pack(NO_WAIT)
        else:
            if len(wait) > MAX_WAIT:
                wait = b"invalid"
            w = _H.pack(len(wait)) + wait
        n, k = self.field(node), self.field(key)
        body = _FIN.pack(status & 0xFFFF, latency) + w + n + k
        return HEAD.pack(HEAD.size + len(body), FINISHED, t) + body

    def released(self, node: str, key: str, t: float, count: int) -> bytes:
        n, k = self.field(node), self.field(key)
        return HEAD.pack(HEAD.size + len(n) + len(k) + 4, RELEASED, t) + n + k + _I.pack(count)

    def nodes(self, nodes, t: float) -> bytes:
        body = _H.pack(len(nodes)) + b"".join(_field(n) for n in nodes)
        return HEAD.pack(HEAD.size + len(body), NODES, t) + body


_strings: dict[bytes, str] = {}


def _string(chunk: bytes, off: int) -> tuple[str, int]:
    n = _H.unpack_from(chunk, off)[0]
    off += 2
    raw = chunk[off:off + n]
    s = _strings.get(raw)
    if s is None:
        if len(_strings) >= CACHE_MAX:
            _strings.clear()
        s = _strings[raw] = raw.decode("utf-8", "surrogatepass")
    return s, off + n


def decode(chunk: bytes) -> Iterator[tuple]:
    """The events of a chunk of whole records, as tuples:
    (STARTED|FAILED, t, node, key), (FINISHED, t, node, key, status, latency, wait),
    (NODES, t, [nodes]), (RELEASED, t, node, key, count)."""
    off, end = 0, len(chunk)
    head = HEAD.unpack_from
    while off < end:
        length, kind, t = head(chunk, off)
        nxt = off + length
        off += HEAD.size
        if kind == STARTED or kind == FAILED:
            node, off = _string(chunk, off)
            key, off = _string(chunk, off)
            yield kind, t, node, key
        elif kind == FINISHED:
            status, latency = _FIN.unpack_from(chunk, off)
            off += _FIN.size
            n = _H.unpack_from(chunk, off)[0]
            off += 2
            if n == NO_WAIT:
                wait = None
            else:
                wait = chunk[off:off + n]
                off += n
            node, off = _string(chunk, off)
            key, off = _string(chunk, off)
            yield kind, t, node, key, status, latency, wait
        elif kind == NODES:
            count = _H.unpack_from(chunk, off)[0]
            off += 2
            nodes = []
            for _ in range(count):
                node, off = _string(chunk, off)
                nodes.append(node)
            yield kind, t, nodes
        elif kind == RELEASED:
            node, off = _string(chunk, off)
            key, off = _string(chunk, off)
            yield kind, t, node, key, _I.unpack_from(chunk, off)[0]
        off = nxt   # unknown kinds are skipped whole
