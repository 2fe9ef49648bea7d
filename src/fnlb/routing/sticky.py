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
are a signal; each key has its own spill order; and the **first** sample of a (node, key)
pair, which usually includes that key's cold start on the node, is capped at
``spill_wait`` so one cold start cannot push the key off its node (a real overload shows
in the next samples and in the load bound).

The common case, an unloaded primary, costs two dictionary lookups and no allocation
beyond the (node, key) tuple.
"""

from __future__ import annotations

import math

from fnlb.routing.nodeset import NodeSet
from fnlb.routing.policy import Policy


class StickySpill(Policy):
    name = "default"

    def _bound(self, n: int) -> int:
        p = self.params
        return max(p.load_floor, math.ceil(p.load_factor * (self.inflight.total + 1) / n))

    def _accepts(self, node: str, key: str, now: float, bound: int) -> bool:
        if self.inflight.by_node.get(node, 0) >= bound:
            return False
        p = self.params
        wait = self.waits.get(node, key, now)
        if wait <= p.spill_wait:
            return True
        if wait >= p.spill_wait_max:
            keep = p.spill_keep
        else:
            keep = 1.0 - (1.0 - p.spill_keep) * (wait - p.spill_wait) / (p.spill_wait_max - p.spill_wait)
        return self.rng.random() < keep

    def choose(self, key: str, nodes: NodeSet, now: float) -> str:
        bound = self._bound(len(nodes.nodes))
        primary = nodes.primary(key)
        if self._accepts(primary, key, now, bound):
            return primary
        order = nodes.spill_order(key)
        for i in range(1, len(order)):
            if self._accepts(order[i], key, now, bound):
                return order[i]
        by_node = self.inflight.by_node
        return min(order, key=lambda node: by_node.get(node, 0))  # min() keeps the first of ties

    def observe_wait(self, node: str, key: str, wait: float, now: float) -> None:
        if not self.waits.known(node, key, now):
            wait = min(wait, self.params.spill_wait)  # likely a cold start: not evidence of load
        self.waits.add(node, key, wait, now)
