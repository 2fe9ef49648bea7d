"""The default policy, *sticky spill*: keep each key on few nodes, spill only what hurts.

Theory of operation
-------------------
What matters for functions is the tail of the time before a function starts, and a cold
start is the most expensive thing a balancer can cause. So a key should run on as few
nodes as possible (its containers stay hot there) and leave its node only when the node
is measurably slow for it. The policy walks the key's spill order (``NodeSet.spill_order``:
the jump-hash primary, then the other nodes by per-key rendezvous score, identical on
every balancer) and takes the first node it *accepts*:

1. **Load bound** (immediate signal). A node is refused when it already has at least
   ``max(load_floor, ceil(load_factor * (total + 1) / n))`` requests in flight: consistent
   hashing with bounded loads, with a floor so that a quiet cluster never scatters a key's
   concurrent calls (which would cost cold starts for nothing).
2. **Wait** (feedback signal). With ``w`` the key's wait average on that node (time-aged,
   see ``waits.py``): accept if ``w <= spill_wait``; otherwise accept with probability
   falling linearly from 1 at ``spill_wait`` to ``spill_keep`` at ``spill_wait_max`` and
   beyond. Spilling is thus proportional: a slightly slow node sheds a little traffic, a
   very slow one sheds most, and ``spill_keep`` of it still probes the node so its average
   stays current. Because the next node in the order is the one the key spilled to
   before, spilled traffic lands where the key is already hot.
3. If every node refuses, the node with the fewest requests in flight (earliest in the
   key's order on ties).

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
lookups and one (node, key) tuple, with no call into the wait table.
"""

from __future__ import annotations

import random

from fnlb.routing.nodeset import NodeSet
from fnlb.routing.policy import Params, Policy


class StickySpill(Policy):
    name = "default"

    def __init__(self, params: Params | None = None, rng: random.Random | None = None):
        super().__init__(params, rng)
        p = self.params
        self._floor, self._factor = p.load_floor, p.load_factor
        self._low, self._high, self._keep = p.spill_wait, p.spill_wait_max, p.spill_keep
        self._cold: dict[tuple[str, str], int] = {}  # in flight, sent where the key had no live average

    def _accepts(self, node: str, key: str, now: float, n: int) -> bool:
        inflight = self.inflight
        count = inflight.by_node.get(node, 0)
        # count >= max(floor, ceil(factor * (total + 1) / n)), without the ceil: count is whole.
        if count >= self._floor and count >= self._factor * (inflight.total + 1) / n:
            return False
        wait = self.waits.get(node, key, now)
        if wait <= self._low:
            return True
        if wait >= self._high:
            keep = self._keep
        else:
            keep = 1.0 - (1.0 - self._keep) * (wait - self._low) / (self._high - self._low)
        return self.rng.random() < keep

    def choose(self, key: str, nodes: NodeSet, now: float) -> str:
        primary = nodes.primary(key)
        # Fast path: few requests in flight and a stored average (an upper bound of the
        # aged one) that is low or absent.
        if self.inflight.by_node.get(primary, 0) < self._floor:
            entry = self.waits.entries.get((primary, key))
            if entry is None or entry[0] <= self._low:
                return primary
        n = len(nodes.nodes)
        if self._accepts(primary, key, now, n):
            return primary
        order = nodes.spill_order(key)
        for i in range(1, n):
            if self._accepts(order[i], key, now, n):
                return order[i]
        by_node = self.inflight.by_node
        return min(order, key=lambda node: by_node.get(node, 0))  # min() keeps the first of ties

    def started(self, node: str, key: str, now: float) -> None:
        self.inflight.start(node)
        if not self.waits.known(node, key, now):
            pair = (node, key)
            self._cold[pair] = self._cold.get(pair, 0) + 1

    def finished(self, node: str, key: str, now: float, wait: float | None, latency: float, status: int) -> None:
        self.inflight.finish(node)
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
