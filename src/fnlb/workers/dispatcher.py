"""A worker's Dispatcher: its own routing replica, kept in step with every other process.

Theory of operation
-------------------
Each worker holds a full ``Router`` (the same policy as ``fnlb.app.Balancer``'s) and is
the proxy's ``Dispatcher`` (``fnlb.proxy.dispatcher``). It applies its own calls at once,
like the single-process balancer does, and appends each to its ring (``events.py``). Before
each decision (``begin``, ``begin_retry``) and on a short timer (``sync``: every
``SYNC_INTERVAL``, so an idle worker does not fall behind), it applies what the others
appended since its last look: the peers' calls (``started``/``finished``, a failure as
``finished(wait None, status 502)``) and the supervisor's node set and releases. Every
replica therefore sees every call of the whole balancer, its own at once and the others'
a few microseconds to ``SYNC_INTERVAL`` late, and places as one balancer would.

Events are applied at the applier's clock (``now`` of the call that syncs; never less
than what it applied before), so each replica's time-aged estimates see them in order.

Workers record no stats and run no health checks: the supervisor replays the same rings
into its own ``Balancer`` (stats, passive health, /1/lb/route), see ``supervisor.py``.
"""

from __future__ import annotations

import logging

from fnlb.routing.failover import next_try
from fnlb.routing.router import Router
from fnlb.routing.waitheader import _cache as _wait_cache
from fnlb.routing.waitheader import parse_wait
from fnlb.workers import events
from fnlb.workers.ring import RingReader, RingWriter

log = logging.getLogger("fnlb.workers")
_MISS = object()
SYNC_INTERVAL = 0.005


def wait_seconds(wait_header: bytes | None) -> float | None:
    if wait_header is None:
        return None
    wait = _wait_cache.get(wait_header, _MISS)
    if wait is _MISS:
        wait = parse_wait(wait_header)
    return wait  # type: ignore[return-value]


class WorkerDispatcher:
    def __init__(self, router: Router, retries: int, ring: RingWriter, peers: list[RingReader],
                 control: RingReader):
        self.router = router
        self.retries = retries
        self.ring = ring
        self.peers = peers
        self.control = control
        self.readers = [control, *peers]
        self.encode = events.Encoder()
        self.applied = 0
        self._last = 0.0
        self._begin = router.policy.begin
        self._started = router.started
        self._finished = router.finished
        self._write = ring.write

    # -- fnlb.proxy.dispatcher.Dispatcher -------------------------------------------------

    def begin(self, key: str, now: float) -> str | None:
        for reader in self.readers:
            if reader.pending():
                self.sync(now)
                break
        nodeset = self.router.nodeset
        if not nodeset.nodes:
            return None
        node = self._begin(key, nodeset, now)
        self._write(self.encode.started(node, key, now))
        return node

    def begin_retry(self, key: str, tried: list[str], now: float) -> str | None:
        self.sync(now)
        node = next_try(self.router.order(key, now), tried, self.retries)
        if node is not None:
            self._started(node, key, now)
            self._write(self.encode.started(node, key, now))
        return node

    def request_done(self, node: str, key: str, status: int, latency: float, wait_header: bytes | None,
                     now: float) -> None:
        self._finished(node, key, now, wait_seconds(wait_header), latency, status)
        self._write(self.encode.finished(node, key, now, status, latency, wait_header))

    def upstream_failed(self, node: str, key: str, now: float) -> None:
        self._finished(node, key, now, None, 0.0, 502)
        self._write(self.encode.failed(node, key, now))

    # -- the others' events ---------------------------------------------------------------

    def sync(self, now: float) -> None:
        """Apply every event the supervisor and the peers appended since the last sync."""
        if now < self._last:
            now = self._last
        self._last = now
        router = self.router
        started, finished = self._started, self._finished
        for reader in self.readers:
            chunk = reader.read()
            if not chunk:
                continue
            for ev in events.decode(chunk):
                kind = ev[0]
                self.applied += 1
                if kind == events.STARTED:
                    started(ev[2], ev[3], now)
                elif kind == events.FINISHED:
                    finished(ev[2], ev[3], now, wait_seconds(ev[6]), ev[5], ev[4])
                elif kind == events.FAILED:
                    finished(ev[2], ev[3], now, None, 0.0, 502)
                elif kind == events.NODES:
                    router.set_nodes(ev[2])
                    self._begin = router.policy.begin
                elif kind == events.RELEASED:
                    for _ in range(ev[4]):
                        finished(ev[2], ev[3], now, None, 0.0, 499)
