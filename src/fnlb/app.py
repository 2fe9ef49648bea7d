"""The balancer: wires the data path to routing, the node list and observability.

Theory of operation
-------------------
``Balancer`` owns one instance of each component and is the only object that knows them
all. The data path (``fnlb.proxy``) sees it through four calls; ``now`` is the caller's
``time.monotonic()``, read once and shared by everything done for that event:

* ``begin(key, now)`` picks a node for a new request and counts the request as sent to it
  (None when no node is healthy; then nothing was counted);
* then exactly one of
  ``request_done(node, key, status, latency, wait_header, now)`` when the exchange ended
  (status is the node's status; 499 if the client went away first; 0 if the node broke
  the connection after part of the response was sent; 502/504 when fnlb answered), or
  ``upstream_failed(node, key, now)`` when the node refused, reset or timed out before any
  byte of the response (a passive health failure; the proxy may then retry on
  ``begin_retry(key, tried, now)``, which is ``begin`` for the next node of the key's
  order that is not in ``tried``, and is again followed by exactly one of the two).

Everything else (health checks, store sync, stats, metrics, the management API) hangs off
the same object. All routing state lives in pure objects that the simulator also uses.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from fnlb.admin.http import MgmtApp
from fnlb.routing.waitheader import _cache as _wait_cache
from fnlb.routing.waitheader import parse_wait  # fast path for the forms nodes send

log = logging.getLogger("fnlb")
_MISS = object()


class Balancer:
    def __init__(self, cfg):
        from fnlb.nodes.registry import NodeRegistry
        from fnlb.observability.stats import make_recorder
        from fnlb.routing.router import build_router

        self.cfg = cfg
        self.router = build_router(cfg)
        self.stats = make_recorder(cfg)
        self.registry = NodeRegistry(cfg, on_healthy_change=self.router.set_nodes)
        self.mgmt = MgmtApp(admin_token=cfg.admin_token)
        self.server = None
        self._register_endpoints()
        # the per-request calls, bound once (the components never replace them)
        self._begin = self.router.policy.begin
        self._started = self.router.started
        self._finished = self.router.finished
        self._record = self.stats.record
        self._passive_success = self.registry.passive_success
        self._suspects = self.registry.suspects  # the registry mutates it, never replaces it

    def _register_endpoints(self) -> None:
        from fnlb.nodes import api as nodes_api
        from fnlb.observability import api as observability_api
        from fnlb.routing import api as routing_api

        nodes_api.register(self.mgmt, self)
        routing_api.register(self.mgmt, self)
        observability_api.register(self.mgmt, self)

    # -- the data path's interface (hot: keep these lean) -------------------------------

    def begin(self, key: str, now: float) -> str | None:
        nodeset = self.router.nodeset
        if not nodeset.nodes:
            return None
        return self._begin(key, nodeset, now)

    def begin_retry(self, key: str, tried: list[str], now: float) -> str | None:
        for node in self.router.order(key, now):
            if node not in tried:
                self._started(node, key, now)
                return node
        return None

    def request_done(self, node: str, key: str, status: int, latency: float, wait_header: bytes | None,
                     now: float) -> None:
        if wait_header is None:
            wait = None
        else:
            wait = _wait_cache.get(wait_header, _MISS)   # parse_wait's own cache, inline
            if wait is _MISS:
                wait = parse_wait(wait_header)
            if wait is None:
                self.stats.count_invalid_wait(node, key, now)
        self._finished(node, key, now, wait, latency, status)
        nodeset = self.router.nodeset
        self._record(node, key, status, latency, wait, (nodeset.primaries.get(key) or nodeset.primary(key)) != node,
                     now)
        if 0 < status < 500 or status == 499:
            if node in self._suspects:  # else its passive-failure count is 0 already
                self._passive_success(node)
        elif status == 0:
            # The node cut a response it had started: the client saw a broken answer, so it
            # counts against the node like a refused connection does. Without this a node
            # whose health endpoint answers but whose responses break kept its keys forever.
            self.registry.passive_failure(node)

    def upstream_failed(self, node: str, key: str, now: float) -> None:
        self._finished(node, key, now, None, 0.0, 502)
        self.stats.count_retry(node, key, now)
        self.registry.passive_failure(node)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        from fnlb.proxy.server import ProxyServer

        # Built first: it validates the TLS files, and a usage error must come before any
        # node-store activity is logged.
        self.server = ProxyServer(self, self.cfg, self.mgmt)
        await self.registry.start()
        await self.server.start()

    async def shutdown(self) -> None:
        if self.server is not None:
            await self.server.shutdown(self.cfg.shutdown_timeout)
        await self.registry.stop()


async def serve(cfg) -> None:
    from fnlb.observability.logs import setup_logging

    setup_logging(cfg)
    balancer = Balancer(cfg)
    await balancer.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    await balancer.shutdown()


def run_balancer(cfg) -> int:
    import uvloop

    uvloop.run(serve(cfg))
    return 0
