"""A worker's Dispatcher: its own routing replica, kept in step with every other process.

Theory of operation
-------------------
Each worker holds a full ``Router`` (the same policy as ``fnlb.app.Balancer``'s) and is
the proxy's ``Dispatcher`` (``fnlb.proxy.dispatcher``). It applies its own calls at once,
like the single-process balancer does, and appends each to its ring (``events.py``). Before
each routing call (the decisions ``begin``, ``begin_retry`` and the outcomes) and on a short timer (``sync``: every
``SYNC_INTERVAL``, so an idle worker does not fall behind), it applies what the others
appended since its last look: the peers' calls (``started``/``finished``, a failure as
``finished(wait None, status 502)``) and the supervisor's node set and releases. Every
replica therefore sees every call of the whole balancer, its own at once and the others'
before its next decision while it routes and ``SYNC_INTERVAL`` (5 ms) late while it
idles, and places as one balancer would.

Every call syncs first when there is something new (``CATCH_UP`` = 0): a replica that
decides with the others' calls of the last millisecond still unapplied places noticeably
worse (``fnlb simulate --scenario tight --workers 2 --sync-lag 1ms``: 1.8x the cold
starts of one balancer; 100 µs: 1.16x; 10 µs: the same as one). Syncing at most once a
millisecond was tried first, to save CPU: one run showed 9.2k req/s against 7.1k, a
second window 9.3k for both (docs/proxy.md). An outcome applied without a sync first
changes the order a replica sees events in and, in ``tests/workers/test_replicas.py``'s
drive, changed half the picks. With syncs
before every call the replicas decide call for call as one Router does (that test).

Events are applied at the time they happened (``t``, the writer's ``time.monotonic()``:
CLOCK_MONOTONIC is one clock for all processes on Linux), clamped to be no earlier than
anything the replica applied before and no later than the syncing call's ``now``: each
replica's time-aged estimates (containers' idle times, wait averages) see a time that
never goes back, and the same times the single-process balancer would have used
whenever events arrive in the order they happened. (Applying them at the applier's clock
instead shifts every peer's event by the sync lag: in ``tests/workers/test_replicas.py``
that alone made two replicas decide differently from one balancer within 30 calls.)

Workers record no stats and run no health checks: the supervisor replays the same rings
into its own ``Balancer`` (stats, passive health, /1/lb/route), see ``supervisor.py``.
"""

from __future__ import annotations

import logging
import struct

from fnlb.routing.failover import next_try
from fnlb.routing.router import Router
from fnlb.routing.waitheader import parse_wait
from fnlb.workers import events
from fnlb.workers.ring import RingReader, RingWriter

log = logging.getLogger("fnlb.workers")
SYNC_INTERVAL = 0.005      # the timer's sync: an idle worker's replica is at most this far behind
CATCH_UP = 0.0             # a decision syncs first when the last sync is at least this old


def _time(ev: tuple) -> float:
    return ev[1]


def wait_seconds(wait_header: bytes | None) -> float | None:
    return None if wait_header is None else parse_wait(wait_header)


class WorkerDispatcher:
    def __init__(self, router: Router, retries: int, ring: RingWriter, peers: list[RingReader],
                 control: RingReader, catch_up: float = CATCH_UP):
        self.router = router
        self.retries = retries
        self.ring = ring
        self.peers = peers
        self.control = control
        self.readers = [control, *peers]
        self.encode = events.Encoder()
        self.applied = 0
        self.bad = 0
        self._last = 0.0
        self._synced = 0.0          # when sync last ran
        self._every = catch_up
        self._begin = router.policy.begin
        self._started = router.started
        self._finished = router.finished
        self._write = ring.write

    # -- fnlb.proxy.dispatcher.Dispatcher -------------------------------------------------

    def _catch_up(self, now: float) -> None:
        if now - self._synced < self._every:
            return
        for reader in self.readers:
            if reader.head[0] != reader.pos:    # RingReader.pending(), inline
                self.sync(now)
                return

    def _tick(self, now: float) -> float:
        """Before a routing call: the others' new events applied, and the call's time,
        never earlier than anything this replica applied (its estimates' time order)."""
        self._catch_up(now)
        if now < self._last:
            return self._last
        self._last = now
        return now

    def begin(self, key: str, now: float) -> str | None:
        now = self._tick(now)
        nodeset = self.router.nodeset
        if not nodeset.nodes:
            return None
        node = self._begin(key, nodeset, now)
        self._write(self.encode.started(node, key, now))
        return node

    def begin_retry(self, key: str, tried: list[str], now: float) -> str | None:
        now = self._tick(now)
        node = next_try(self.router.order(key, now), tried, self.retries)
        if node is not None:
            self._started(node, key, now)
            self._write(self.encode.started(node, key, now))
        return node

    def request_done(self, node: str, key: str, status: int, latency: float, wait_header: bytes | None,
                     now: float) -> None:
        now = self._tick(now)   # the others' earlier events first: every replica applies in one order
        self._finished(node, key, now, wait_seconds(wait_header), latency, status)
        self._write(self.encode.finished(node, key, now, status, latency, wait_header))

    def upstream_failed(self, node: str, key: str, now: float) -> None:
        now = self._tick(now)
        self._finished(node, key, now, None, 0.0, 502)
        self._write(self.encode.failed(node, key, now))

    # -- the others' events ---------------------------------------------------------------

    def sync(self, now: float) -> None:
        """Apply every event the supervisor and the peers appended since the last sync."""
        self._synced = now
        last = self._last
        if now < last:
            now = last
        router = self.router
        started, finished = self._started, self._finished
        chunk, more = b"", None
        for reader in self.readers:
            if reader.head[0] != reader.pos:
                data = reader.read()
                if not chunk:
                    chunk = data
                elif data:
                    more = [chunk, data] if more is None else [*more, data]
        if not chunk:
            return
        try:
            if more is None:
                batch = list(events.decode(chunk))
            else:   # several writers: merge their events in the order they happened
                batch = sorted((ev for c in more for ev in events.decode(c)), key=_time)
        except (struct.error, UnicodeDecodeError, IndexError) as exc:   # never seen; never into the proxy
            self.bad += 1
            log.error("undecodable events skipped (%r)", exc)
            return
        for ev in batch:
            kind, t = ev[0], ev[1]
            if t < last:
                t = last
            elif t > now:
                t = now
            last = t
            self.applied += 1
            if kind == events.STARTED:
                started(ev[2], ev[3], t)
            elif kind == events.FINISHED:
                finished(ev[2], ev[3], t, wait_seconds(ev[6]), ev[5], ev[4])
            elif kind == events.FAILED:
                finished(ev[2], ev[3], t, None, 0.0, 502)
            elif kind == events.NODES:
                router.set_nodes(ev[2])
            elif kind == events.RELEASED:
                for _ in range(ev[4]):
                    finished(ev[2], ev[3], t, None, 0.0, 499)
        self._last = last
