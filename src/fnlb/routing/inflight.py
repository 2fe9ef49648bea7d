"""Requests in flight, per node and per (node, key): the immediate load signal.

Theory of operation
-------------------
A wait sample arrives only when a request ends; the count of requests sent and not yet
finished moves the moment a burst starts, so policies use both. ``start`` and ``finish``
bracket every request (the router calls them from ``started``/``finished``); counts never
go below zero, so a stray ``finish`` cannot corrupt them. Entries are deleted when they
reach zero, so memory is bounded by the number of requests actually in flight.
"""

from __future__ import annotations


class InFlight:
    __slots__ = ("by_node", "by_pair", "total")

    def __init__(self):
        self.by_node: dict[str, int] = {}
        self.by_pair: dict[tuple[str, str], int] = {}
        self.total = 0

    def start(self, node: str, key: str) -> None:
        self.by_node[node] = self.by_node.get(node, 0) + 1
        pair = (node, key)
        self.by_pair[pair] = self.by_pair.get(pair, 0) + 1
        self.total += 1

    def finish(self, node: str, key: str) -> None:
        pair = (node, key)
        count = self.by_pair.get(pair)
        if not count:
            return  # never started (or already finished): ignore
        if count == 1:
            del self.by_pair[pair]
        else:
            self.by_pair[pair] = count - 1
        left = self.by_node[node] - 1
        if left:
            self.by_node[node] = left
        else:
            del self.by_node[node]
        self.total -= 1

    def node(self, node: str) -> int:
        return self.by_node.get(node, 0)

    def pair(self, node: str, key: str) -> int:
        return self.by_pair.get((node, key), 0)
