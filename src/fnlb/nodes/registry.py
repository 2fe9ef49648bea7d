"""STUB (to be replaced by the nodes work): the NodeRegistry contract.

NodeRegistry(cfg, on_healthy_change) owns the node list (store + health checks) and calls
on_healthy_change(sorted healthy addresses) whenever that set changes.
  async start() / async stop()
  async add(addr) -> bool (True if new)      raises on store failure
  async remove(addr) -> bool (True if known)
  snapshot() -> {addr: "online" | "offline"}
  passive_success(addr) / passive_failure(addr)   outcomes seen by the data path
Read by observability:
  details() -> {addr: {"state": "unknown"|"healthy"|"unhealthy", "online": bool,
                       "successes": int, "failures": int, "last_check": unix seconds | None,
                       "last_error": str | None, "version": str | None}}
  check_counts() -> {(addr, "success" | "failure"): int}   health-check results so far
"""

from __future__ import annotations


class NodeRegistry:
    def __init__(self, cfg, on_healthy_change):
        self._nodes: set[str] = set(cfg.nodes)
        self._notify = on_healthy_change

    async def start(self) -> None:
        self._notify(sorted(self._nodes))

    async def stop(self) -> None:
        pass

    async def add(self, addr: str) -> bool:
        new = addr not in self._nodes
        self._nodes.add(addr)
        self._notify(sorted(self._nodes))
        return new

    async def remove(self, addr: str) -> bool:
        known = addr in self._nodes
        self._nodes.discard(addr)
        self._notify(sorted(self._nodes))
        return known

    def snapshot(self) -> dict[str, str]:
        return {n: "online" for n in sorted(self._nodes)}

    def details(self) -> dict[str, dict]:
        return {n: {"state": "healthy", "online": True, "successes": 0, "failures": 0,
                    "last_check": None, "last_error": None, "version": None} for n in sorted(self._nodes)}

    def check_counts(self) -> dict[tuple[str, str], int]:
        return {}

    def passive_success(self, addr: str) -> None:
        pass

    def passive_failure(self, addr: str) -> None:
        pass
