"""The in-process node list (``--db memory``, the original's ``sqlite3://:memory:``)."""

from __future__ import annotations

from fnlb.nodes.store import NodeStore


class MemoryStore(NodeStore):
    description = "memory"

    def __init__(self):
        self._addresses: set[str] = set()

    async def add(self, addr: str) -> bool:
        new = addr not in self._addresses
        self._addresses.add(addr)
        return new

    async def remove(self, addr: str) -> bool:
        known = addr in self._addresses
        self._addresses.discard(addr)
        return known

    async def addresses(self) -> set[str]:
        return set(self._addresses)
