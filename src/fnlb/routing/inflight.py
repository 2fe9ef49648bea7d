"""Requests in flight per node: the immediate load signal.

Theory of operation
-------------------
A wait sample arrives only when a request ends; the count of requests sent and not yet
finished moves the moment a burst starts, so policies use both. ``start`` and ``finish``
bracket every request (the router calls them from ``started``/``finished``); a count never
goes below zero, so a stray ``finish`` cannot corrupt it, and a node's entry is deleted at
zero, so memory is bounded by the nodes that have requests in flight. (Per (node, key)
in-flight counts that a policy needs, such as the default policy's count of requests sent
to a node where the key was cold, live in that policy.)
"""

from __future__ import annotations


class InFlight:
    __slots__ = ("by_node", "total")

    def __init__(self):
        self.by_node: dict[str, int] = {}
        self.total = 0

    def start(self, node: str) -> None:
        self.by_node[node] = self.by_node.get(node, 0) + 1
        self.total += 1

    def finish(self, node: str) -> None:
        count = self.by_node.get(node)
        if not count:
            return  # never started (or already finished): ignore
        if count == 1:
            del self.by_node[node]
        else:
            self.by_node[node] = count - 1
        self.total -= 1

    def node(self, node: str) -> int:
        return self.by_node.get(node, 0)
