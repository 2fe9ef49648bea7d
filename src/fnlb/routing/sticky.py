"""The default policy, *sticky spill*: keep each key on few nodes, spill only what hurts.

Theory of operation
-------------------
What matters for functions is the tail of the time before a function starts, and a cold
start is the most expensive thing a balancer can cause. So a key should run on as few
nodes as possible (its containers stay hot there) and leave its node only when the node
is measurably slow for it *and* another node is measurably faster. For each request:

1. **Stay home** (the jump-hash primary) unless it is full or slow. *Full*: it already has
   at least ``max(load_floor, ceil(load_factor * (total + 1) / n))`` requests in flight
   (consistent hashing with bounded loads, with a floor near a node's concurrency so that
   a quiet cluster never scatters a key's concurrent calls). *Slow*: with ``w`` the key's
   time-aged wait average there (``waits.py``), a request stays if ``w <= spill_wait``,
   otherwise with a probability falling linearly from 1 at ``spill_wait`` to
   ``spill_keep`` at ``spill_wait_max`` and beyond. Spilling is proportional: a slightly
   slow node sheds a little traffic, a very slow one most of it, and ``spill_keep`` of it
   keeps probing the node so its average stays current.
2. **Spill** to the first node of the key's spill order (``NodeSet.spill_order``: per-key
   rendezvous order, identical on every balancer) that is not full and whose expected wait
   for the key is at most ``spill_wait`` or ``spill_gain`` times lower than home's (when
   home is full, any node with room). The expected wait is the key's own average on that
   node if it has a live one, else the node's average over all its keys (``node_waits``):
   what a newcomer would meet there. Earlier nodes of the order are where the key spilled
   before, so spilled traffic lands where the key is already hot.
3. **Otherwise stay home** when home has room: when every node is about as slow (the whole
   cluster is busy), moving would only add cold starts and spread every key's working set
   over more nodes, the spiral a cold-start-bound cluster must avoid. If home is full and
   so is every other node (cannot happen with ``load_factor >= 1``): the node with the
   fewest requests in flight.

Fixes of the reference (``seed``): waits age with time, so a node that traffic left stops
repelling its keys within ``wait_grace + wait_fade`` (4 s by default); in-flight counts
are a signal; each key has its own spill order; and a cold start does not panic the
router. A request sent to a node where the key has no live wait average (it never ran
there, or not for seconds) probably pays the key's cold start there, so its sample is
capped at ``spill_wait`` when it comes back: the policy counts such requests per
(node, key) while they are in flight. A burst spilled onto a fresh node, whose calls all
cold-start at once, therefore does not make that node look overloaded and cascade the
key further; a real overload shows in the samples of later requests and, at once, in the
in-flight bound.

The common case, an unloaded primary with a low or no average, costs two dictionary
lookups and one (node, key) tuple, with no call into the wait table. Spilling costs one
wait lookup per node tried.
"""

from __future__ import annotations

import random

from fnlb.routing.nodeset import NodeSet
from fnlb.routing.policy import Params, Policy
from fnlb.routing.waits import WaitTable

NODE_TABLE_SIZE = 4096  # nodes whose overall wait average is kept
_INF = float("inf")


class StickySpill(Policy):
    name = "default"

    def __init__(self, params: Params | None = None, rng: random.Random | None = None):
        super().__init__(params, rng)
        p = self.params
        self._floor, self._factor = p.load_floor, p.load_factor
        self._low, self._high, self._keep = p.spill_wait, p.spill_wait_max, p.spill_keep
        self._gain = p.spill_gain
        self._cold: dict[tuple[str, str], int] = {}  # in flight, sent where the key had no live average
        # Each node's wait over all its keys: the estimate for a key that never ran there.
        self.node_waits = WaitTable(NODE_TABLE_SIZE, p.wait_grace, p.wait_fade)

    def _keeps(self, wait: float) -> bool:
        """Does a node with this wait average keep this request of the key? (random draw)"""
        if wait <= self._low:
            return True
        if wait >= self._high:
            keep = self._keep
        else:
            keep = 1.0 - (1.0 - self._keep) * (wait - self._low) / (self._high - self._low)
        return self.rng.random() < keep

    def choose(self, key: str, nodes: NodeSet, now: float) -> str:
        primary = nodes.primary(key)
        by_node = self.inflight.by_node
        # Fast path: few requests in flight and a stored average (an upper bound of the
        # aged one) that is low or absent.
        if by_node.get(primary, 0) < self._floor:
            entry = self.waits.entries.get((primary, key))
            if entry is None or entry[0] <= self._low:
                return primary
        n = len(nodes.nodes)
        # In-flight bound: max(floor, ceil(factor * (total + 1) / n)); counts are whole, so
        # "count >= bound" is "count >= both terms", no ceil needed.
        limit = max(self._floor, self._factor * (self.inflight.total + 1) / n)
        home_wait = _INF  # the primary is full: any node beats it
        if by_node.get(primary, 0) < limit:
            home_wait = self.waits.get(primary, key, now)
            if self._keeps(home_wait):
                return primary
        # Leave home for the first node of the key's order that has room and is fast for
        # the key, or at least spill_gain times faster than home (any node with room when
        # home is full). Earlier nodes of the order are where the key spilled before.
        enough = home_wait / self._gain
        order = nodes.spill_order(key)
        for i in range(1, n):
            node = order[i]
            if by_node.get(node, 0) < limit:
                wait = self._expected_wait(node, key, now)
                if wait <= self._low or wait < enough:
                    return node
        if home_wait != _INF:
            return primary  # nothing clearly faster: moving would only add cold starts
        return min(order, key=lambda node: by_node.get(node, 0))  # all full; min() keeps the first of ties

    def _expected_wait(self, node: str, key: str, now: float) -> float:
        if self.waits.known(node, key, now):
            return self.waits.get(node, key, now)
        return self.node_waits.get(node, "", now)

    def started(self, node: str, key: str, now: float) -> None:
        self.inflight.start(node)
        if not self.waits.known(node, key, now):
            pair = (node, key)
            self._cold[pair] = self._cold.get(pair, 0) + 1

    def finished(self, node: str, key: str, now: float, wait: float | None, latency: float, status: int) -> None:
        self.inflight.finish(node)
        if wait is not None:
            self.node_waits.add(node, "", wait, now)
        if self._cold:
            pair = (node, key)
            cold = self._cold.get(pair)
            if cold:
                if cold == 1:
                    del self._cold[pair]
                else:
                    self._cold[pair] = cold - 1
                if wait is not None and wait > self._low:
                    wait = self._low  # probably the key's cold start here, not load
        if wait is not None:
            self.waits.add(node, key, wait, now)
