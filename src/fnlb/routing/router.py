"""STUB (to be replaced by the routing work): the Router contract the balancer relies on.

Router(policy) keeps the sorted healthy node list and answers, for a key (URL path):
  set_nodes(nodes)                       replace the healthy node set (any order; kept sorted)
  pick(key, now) -> node | None          node for a new request
  order(key, now) -> [node, ...]         the full spill order, primary first
  is_primary(key, node) -> bool          node is the key's consistent-hash home
  started(node, key, now)                a request was sent (in-flight +1)
  finished(node, key, now, wait, latency, status)   it ended (in-flight -1; wait in s or None)
Read by observability (cheap, called about once a second):
  in_flight_by_node() -> {node: int}
  wait_table(now) -> [(node, key, seconds), ...]   current (decayed) wait averages
build_router(cfg) constructs it from the serve flags (see routing/options.py).
"""

from __future__ import annotations

import zlib


class Router:
    def __init__(self):
        self.nodes: tuple[str, ...] = ()

    def set_nodes(self, nodes) -> None:
        self.nodes = tuple(sorted(set(nodes)))

    def _home(self, key: str) -> int:
        return zlib.crc32(key.encode()) % len(self.nodes)

    def pick(self, key: str, now: float) -> str | None:
        return self.nodes[self._home(key)] if self.nodes else None

    def order(self, key: str, now: float) -> list[str]:
        if not self.nodes:
            return []
        i = self._home(key)
        return list(self.nodes[i:] + self.nodes[:i])

    def is_primary(self, key: str, node: str) -> bool:
        return bool(self.nodes) and self.nodes[self._home(key)] == node

    def started(self, node: str, key: str, now: float) -> None:
        pass

    def finished(self, node: str, key: str, now: float, wait, latency: float, status: int) -> None:
        pass

    def in_flight_by_node(self) -> dict[str, int]:
        return {}

    def wait_table(self, now: float) -> list[tuple[str, str, float]]:
        return []


def build_router(cfg) -> Router:
    return Router()
