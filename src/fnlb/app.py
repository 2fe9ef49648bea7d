"""The balancer: wires the data path to routing, the node list and observability.

Theory of operation
-------------------
``Balancer`` owns one instance of each component and is the only object that knows them
all. The data path (``fnlb.proxy``) sees it as a ``Dispatcher``: the four calls
``begin``, ``begin_retry``, ``request_done`` and ``upstream_failed``, specified in
``fnlb.proxy.dispatcher`` (what each means, when the proxy makes it, and the promise that
every node handed out gets exactly one outcome). ``begin_retry`` applies the failover
rule of ``fnlb.routing.failover`` with ``--retries``.

Everything else (health checks, store sync, stats, metrics, the management API of
``fnlb.api``) hangs off the same object. All routing state lives in pure objects that the
simulator also uses.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from fnlb.api.http import MgmtApp
from fnlb.config.serve import ServeConfig
from fnlb.routing.failover import next_try
from fnlb.routing.waitheader import _cache as _wait_cache
from fnlb.routing.waitheader import parse_wait  # fast path for the forms nodes send

log = logging.getLogger("fnlb")
_MISS = object()


class Balancer:
    def __init__(self, cfg):
        from fnlb.nodes.registry import NodeRegistry
        from fnlb.observability.stats import make_recorder
        from fnlb.routing.router import build_router

        # A ServeConfig, or a parsed namespace of the serve flags (tests, benchmarks, which
        # becomes one here, once); each component then gets its own concern's config.
        self.cfg = cfg = ServeConfig.of(cfg)
        self.router = build_router(cfg.routing)
        # One --cold-wait: the stats count cold starts by the threshold the policy reads waits with.
        self.stats = make_recorder(cfg.observability, cfg.routing.params.cold_wait)
        self.registry = NodeRegistry(cfg.nodes, on_healthy_change=self.router.set_nodes)
        self.mgmt = MgmtApp(admin_token=cfg.nodes.admin_token)
        self.retries = cfg.nodes.retries
        self.server = None
        self.workers = None  # set by a --workers supervisor: what /metrics reports of its workers
        self._register_endpoints()
        # the per-request calls, bound once (the components never replace them)
        self._begin = self.router.policy.begin
        self._started = self.router.started
        self._finished = self.router.finished
        self._record = self.stats.record
        self._passive_success = self.registry.passive_success
        self._suspects = self.registry.suspects  # the registry mutates it, never replaces it

    def _register_endpoints(self) -> None:
        from fnlb.api import nodes, observability, routing

        nodes.register(self.mgmt, self)
        routing.register(self.mgmt, self)
        observability.register(self.mgmt, self)

    # -- the data path's interface, fnlb.proxy.dispatcher (hot: keep these lean) --------

    def begin(self, key: str, now: float) -> str | None:
        nodeset = self.router.nodeset
        if not nodeset.nodes:
            return None
        return self._begin(key, nodeset, now)

    def begin_retry(self, key: str, tried: list[str], now: float) -> str | None:
        node = next_try(self.router.order(key, now), tried, self.retries)
        if node is not None:
            self._started(node, key, now)
        return node

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
        self._record(node, key, status, latency, wait, nodeset.primary(key) != node, now)
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
        self.server = ProxyServer(self, self.cfg.proxy, self.mgmt, self.cfg.routing.expose_wait_header)
        await self.registry.start()
        await self.server.start()

    async def shutdown(self) -> None:
        if self.server is not None:
            await self.server.shutdown(self.cfg.proxy.shutdown_timeout)
        await self.registry.stop()


async def serve(cfg: ServeConfig) -> None:
    from fnlb.observability.logs import setup_logging

    setup_logging(cfg.observability)
    balancer = Balancer(cfg)
    await balancer.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    await balancer.shutdown()


def run_balancer(cfg: ServeConfig) -> int:
    import uvloop

    uvloop.run(serve(cfg))
    return 0
