"""Keep-alive connections to nodes: at most ``--pool-size`` idle ones per node, each
closed after ``--pool-idle-timeout`` unused.

Idle connections are kept newest-last and handed out newest first (a connection that was
just used is the least likely to have been closed by the node); the idle sweep closes the
oldest. A pooled connection can still turn out dead when used; the exchange then replays
the request on a fresh connection (see exchange.py), so a stale pool never fails a request.
"""

from __future__ import annotations

import asyncio
from collections import deque

from fnlb.nodes import address
from fnlb.proxy.options import ProxyConfig
from fnlb.proxy.upstream import UpstreamProtocol


class Pool:
    __slots__ = ("loop", "size", "idle_timeout", "connect_timeout", "expose_wait", "idle", "_tasks", "closing")

    def __init__(self, loop, cfg: ProxyConfig, expose_wait: bool = False):
        self.loop = loop
        self.size = cfg.pool_size
        self.idle_timeout = cfg.pool_idle_timeout
        self.connect_timeout = cfg.connect_timeout or None
        self.expose_wait = expose_wait  # --expose-wait-header (RoutingConfig), read by each connection
        self.idle: dict[str, deque[UpstreamProtocol]] = {}
        self._tasks: set[asyncio.Task] = set()
        self.closing = False

    def acquire(self, node: str) -> UpstreamProtocol | None:
        idle = self.idle.get(node)
        while idle:
            up = idle.pop()
            if not up.closed:
                return up
        return None

    def release(self, up: UpstreamProtocol) -> None:
        """Take back a connection whose exchange ended cleanly."""
        idle = self.idle.get(up.node)
        if idle is not None and len(idle) < self.size and not self.closing and not up.closed:
            up.idle_since = 0.0     # the usual case: room in the node's list; the sweep stamps it
            idle.append(up)
            return
        if up.closed:
            return
        if idle is None:
            idle = self.idle[up.node] = deque()
        if self.closing or len(idle) >= self.size:
            up.close()
            return
        up.idle_since = 0.0
        idle.append(up)

    def forget(self, up: UpstreamProtocol) -> None:
        """A connection closed: drop it from the idle list."""
        idle = self.idle.get(up.node)
        if idle:
            try:
                idle.remove(up)
            except ValueError:
                pass

    def connect(self, node: str, exchange) -> None:
        """Open a fresh connection; calls exchange.connected(up) or exchange.connect_failed()."""
        task = self.loop.create_task(self._connect(node, exchange))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, node: str, exchange) -> None:
        try:
            host, port = address.split(node)
            async with asyncio.timeout(self.connect_timeout):
                _, up = await self.loop.create_connection(lambda: UpstreamProtocol(self, node), host, port)
        except (OSError, ValueError, TimeoutError) as exc:
            exchange.connect_failed(node, exc)
            return
        exchange.connected(up)

    def sweep(self, now: float) -> None:
        """Close connections idle longer than --pool-idle-timeout (busy ones are checked
        through their exchanges, see ProxyServer._sweep)."""
        if self.idle_timeout <= 0:
            return
        deadline = now - self.idle_timeout
        for idle in self.idle.values():
            for up in reversed(idle):       # newest first: stamp the ones released since
                if up.idle_since:
                    break
                up.idle_since = now
            while idle and idle[0].idle_since <= deadline:
                idle.popleft().close()

    def close(self) -> None:
        self.closing = True
        for task in list(self._tasks):
            task.cancel()
        for idle in self.idle.values():
            while idle:
                idle.pop().close()
