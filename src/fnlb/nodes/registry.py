"""The node list: the store, one health-check loop per node, and the healthy set.

Theory of operation
-------------------
``NodeRegistry`` is the thin I/O shell around :mod:`fnlb.nodes.health`. It owns:

* the **store** (:mod:`fnlb.nodes.store`), the list every balancer sharing it agrees on;
* the **local list**: one :class:`~fnlb.nodes.health.Health` per node in the last list
  loaded from the store (or changed through this balancer's API). Routing only ever reads
  the local list, so a store outage changes nothing for traffic;
* one **check loop** task per node: check at once, then every ``--hc-interval`` (measured
  start to start). A loop awaits its check before scheduling the next, so checks of one
  node never overlap however long ``--hc-timeout`` is. Deleting a node cancels its loop and
  forgets its Health, and a result arriving for a forgotten Health is dropped, so a node
  deleted while it is down cannot come back when it recovers;
* the **sync loop**: reload the list from the store when the store says it changed
  (PostgreSQL NOTIFY) or every ``--hc-interval``; on failure keep the last list, log once,
  retry with back-off (0.5 s doubling to 10 s) and log again on recovery. The ``--nodes``
  given at start are routed at once and written to the store as soon as it answers.

A reload that raced with a change made through this balancer is discarded and retried
(``_generation``), so a list read just before a PUT cannot undo it locally.

Whenever the set of healthy nodes changes, ``on_healthy_change(sorted addresses)`` is
called; every balancer sorts alike, so they hash keys alike.

Contract (others code against it):
  async start() / async stop()
  async add(addr) -> bool (True if new)      raise StoreUnavailable when not saved
  async remove(addr) -> bool (True if known)
  snapshot() -> {addr: "online" | "offline"}
  passive_success(addr) / passive_failure(addr)   outcomes seen by the data path (O(1))
Read by observability:
  details() -> {addr: {"state": "unknown"|"healthy"|"unhealthy", "online": bool,
                       "successes": int, "failures": int, "last_check": unix seconds | None,
                       "last_error": str | None, "version": str | None}}
  check_counts() -> {(addr, "success" | "failure"): int}   health-check results so far
                                                            (dropped with the node)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

from fnlb.nodes import checker
from fnlb.nodes.health import CHECK_FAILED, CHECK_OK, HEALTHY, PASSIVE_FAILED, Health
from fnlb.nodes.options import NodesConfig
from fnlb.nodes.store import StoreUnavailable, from_url

__all__ = ["NodeRegistry", "StoreUnavailable"]

log = logging.getLogger("fnlb.nodes")

RETRY_MIN = 0.5    # seconds before retrying a failed store, doubling...
RETRY_MAX = 10.0   # ...up to this


class _Info:
    """What the last check found, for details(); the routing decision lives in Health."""

    __slots__ = ("task", "last_check", "last_error", "version")

    def __init__(self):
        self.task: asyncio.Task | None = None
        self.last_check: float | None = None
        self.last_error: str | None = None
        self.version: str | None = None


class NodeRegistry:
    def __init__(self, cfg: NodesConfig, on_healthy_change):
        self._cfg = cfg
        self._store = from_url(cfg.db)  # a bad --db is a UsageError before anything starts
        self._notify = on_healthy_change
        self._thresholds = cfg.thresholds
        self._min_version = cfg.min_api_version or None
        self._health: dict[str, Health] = {}   # the data path reads this one: keep it flat
        # Nodes whose passive-failure count may be above 0 (a request to them failed since
        # their last good one): the data path resets the count only for these, checking
        # membership instead of calling passive_success() for every good request.
        self.suspects: set[str] = set()
        self._info: dict[str, _Info] = {}
        self._counts: Counter = Counter()
        self._healthy: list[str] = []
        self._seed = list(cfg.nodes)            # --nodes not yet written to the store
        self._opened = False
        self._store_failing = False
        self._generation = 0
        self._sync_task: asyncio.Task | None = None

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self._notify([])
        self._replace(set(self._cfg.nodes))
        try:
            await self._sync()
        except StoreUnavailable as exc:
            self._store_down(exc)
        self._sync_task = asyncio.create_task(self._sync_loop(), name="fnlb-node-sync")
        log.info("node list in %s: %d node(s)", self._store.description, len(self._health))

    async def stop(self) -> None:
        tasks = [t for t in [self._sync_task, *(i.task for i in self._info.values())] if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sync_task = None
        await self._store.close()

    # -- changes through the management API ---------------------------------------------

    async def add(self, addr: str) -> bool:
        await self._ensure_open()
        new = await self._store.add(addr)
        self._generation += 1
        if addr not in self._health:
            self._start_node(addr)
            log.info("node %s added", addr)
        return new

    async def remove(self, addr: str) -> bool:
        await self._ensure_open()
        known = await self._store.remove(addr)
        self._generation += 1
        if addr in self._health:
            self._drop_node(addr)
            log.info("node %s deleted", addr)
            return True
        return known

    # -- reads --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, str]:
        return {a: "online" if self._health[a].state == HEALTHY else "offline" for a in sorted(self._health)}

    def details(self) -> dict[str, dict]:
        out = {}
        for addr in sorted(self._health):
            health, info = self._health[addr], self._info[addr]
            out[addr] = {"state": health.state, "online": health.online, "successes": health.successes,
                         "failures": health.failures, "passive_failures": health.passive_failures,
                         "last_check": info.last_check, "last_error": info.last_error, "version": info.version}
        return out

    def check_counts(self) -> dict[tuple[str, str], int]:
        return dict(self._counts)

    # -- the data path (per request: O(1), no allocation) --------------------------------

    def passive_success(self, addr: str) -> None:
        self.suspects.discard(addr)
        health = self._health.get(addr)
        if health is not None:
            health.passive_failures = 0

    def passive_failure(self, addr: str) -> None:
        self.suspects.add(addr)
        health = self._health.get(addr)
        if health is not None and health.handle(PASSIVE_FAILED):
            log.warning("node %s offline after %d failed requests in a row", addr,
                        self._thresholds.passive_unhealthy)
            self._publish()

    # -- the local list -----------------------------------------------------------------

    def _replace(self, addresses: set[str]) -> None:
        for addr in set(self._health) - addresses:
            self._drop_node(addr)
            log.info("node %s removed from the shared list", addr)
        for addr in addresses - set(self._health):
            self._start_node(addr)
            log.info("node %s added from the shared list", addr)

    def _start_node(self, addr: str) -> None:
        health = Health(self._thresholds)
        info = _Info()
        self._health[addr] = health
        self._info[addr] = info
        info.task = asyncio.create_task(self._check_loop(addr, health, info), name=f"fnlb-check {addr}")

    def _drop_node(self, addr: str) -> None:
        self._health.pop(addr)
        info = self._info.pop(addr)
        if info.task is not None:
            info.task.cancel()
        self._counts.pop((addr, "success"), None)
        self._counts.pop((addr, "failure"), None)
        self._publish()

    def _publish(self) -> None:
        healthy = sorted(a for a, h in self._health.items() if h.state == HEALTHY)
        if healthy != self._healthy:
            self._healthy = healthy
            self._notify(list(healthy))

    # -- health checks ------------------------------------------------------------------

    async def _check_loop(self, addr: str, health: Health, info: _Info) -> None:
        cfg = self._cfg
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                result = await checker.check(addr, cfg.hc_path, cfg.hc_timeout, self._min_version)
            except Exception as exc:  # a bug must not silently stop the checks of a node
                log.exception("health check of %s failed unexpectedly", addr)
                result = checker.CheckResult(False, f"internal error: {exc!r}")
            if self._health.get(addr) is not health:
                return  # deleted (and maybe re-added) while the check ran: not ours any more
            self._record(addr, health, info, result)
            await asyncio.sleep(max(0.0, cfg.hc_interval - (loop.time() - started)))

    def _record(self, addr: str, health: Health, info: _Info, result: checker.CheckResult) -> None:
        info.last_check = time.time()
        info.last_error = result.error
        if result.version is not None:
            info.version = result.version
        self._counts[(addr, "success" if result.ok else "failure")] += 1
        before = health.state
        health.handle(CHECK_OK if result.ok else CHECK_FAILED)
        if health.state != before:
            if health.online:
                log.info("node %s online (version %s)", addr, info.version or "?")
            else:
                log.warning("node %s offline: %s", addr, result.error)
            self._publish()

    # -- the store ----------------------------------------------------------------------

    async def _ensure_open(self) -> None:
        if not self._opened:
            await self._store.open()
            self._opened = True

    async def _sync(self) -> None:
        await self._ensure_open()
        while self._seed:
            await self._store.add(self._seed[0])
            self._seed.pop(0)
        while True:
            generation = self._generation
            self._store.mark_seen()
            addresses = await self._store.addresses()
            if generation == self._generation:
                break  # nothing changed through us while we read
        self._replace(addresses)

    async def _sync_loop(self) -> None:
        delay = RETRY_MIN
        while True:
            if not self._store_failing:
                await self._store.wait_change(self._cfg.hc_interval)
            try:
                await self._sync()
            except StoreUnavailable as exc:
                self._store_down(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            if self._store_failing:
                self._store_failing = False
                log.info("node list store %s is back: %d node(s)", self._store.description, len(self._health))
            delay = RETRY_MIN

    def _store_down(self, exc: Exception) -> None:
        if not self._store_failing:
            log.error("node list store unavailable, routing with the last known %d node(s) and retrying: %s",
                      len(self._health), exc)
        self._store_failing = True
