"""The placement policies selectable with ``--policy``, and ``make_policy`` to build one.

Theory of operation
-------------------
Each policy is a small subclass of ``Policy`` (see ``policy.py`` for the interface):

* ``seed``: the reference fnlb's rule, with the correct hash. Walk the sorted nodes from
  the key's primary, wrapping; accept a node whose wait average for the key is under
  500 ms, between 500 ms and 2 s with a probability falling linearly from 40% to 10%,
  above 2 s with 10%. (Its waits do age with time: see ``waits.py``.)
* ``consistent``: the jump-hash primary, always. No spill.
* ``round-robin``: the sorted nodes in turn, ignoring the key.
* ``least-loaded``: power of two choices: two random distinct nodes, the one with fewer
  requests in flight.
* ``bounded``: consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam
  2017; HAProxy's hash-balance-factor): walk the key's spill order and take the first
  node whose in-flight count + 1 is at most ``ceil(bounded_factor * (total + 1) / n)``.
* ``default``: warm first (``warm.py``), fnlb's own: each call goes where its function
  has an idle container, new containers where they evict nothing.
* ``sticky``: sticky spill (``sticky.py``), the default of earlier releases: keep a key
  home until home is full or slow, spill along its own order. It does better than
  ``default`` when several balancers each see only part of the traffic (docs/routing.md).
"""

from __future__ import annotations

import math
import random

from fnlb.routing.nodeset import NodeSet
from fnlb.routing.policy import Params, Policy
from fnlb.routing.sticky import StickySpill
from fnlb.routing.warm import WarmFirst

# The reference's thresholds (seconds) and acceptance probabilities.
SEED_LOW, SEED_HIGH = 0.5, 2.0
SEED_P_LOW, SEED_P_HIGH = 0.4, 0.1
# The reference walked until something accepted (each node accepts >= 10%); we stop
# after this many passes and take the primary, so a broken RNG cannot hang the loop.
SEED_MAX_PASSES = 64


class Seed(Policy):
    name = "seed"

    def _accepts(self, wait: float) -> bool:
        if wait < SEED_LOW:
            return True
        if wait > SEED_HIGH:
            p = SEED_P_HIGH
        else:
            p = SEED_P_LOW - (SEED_P_LOW - SEED_P_HIGH) * (wait - SEED_LOW) / (SEED_HIGH - SEED_LOW)
        return self.rng.random() < p

    def choose(self, key: str, nodes: NodeSet, now: float) -> str:
        primary = nodes.home(key)
        if self.waits.get(primary, key, now) < SEED_LOW:
            return primary
        walk = nodes.sorted_walk(key)
        for _ in range(SEED_MAX_PASSES):
            for node in walk:
                if self._accepts(self.waits.get(node, key, now)):
                    return node
        return primary

    def order(self, key: str, nodes: NodeSet, now: float) -> list[str]:
        return nodes.sorted_walk(key)


class Consistent(Policy):
    name = "consistent"

    def choose(self, key: str, nodes: NodeSet, now: float) -> str:
        return nodes.home(key)


class RoundRobin(Policy):
    name = "round-robin"

    def __init__(self, params: Params | None = None, rng: random.Random | None = None):
        super().__init__(params, rng)
        self._next = 0

    def choose(self, key: str, nodes: NodeSet, now: float) -> str:
        i = self._next % len(nodes.nodes)
        self._next = i + 1
        return nodes.nodes[i]


class LeastLoaded(Policy):
    name = "least-loaded"

    def choose(self, key: str, nodes: NodeSet, now: float) -> str:
        n = len(nodes.nodes)
        if n == 1:
            return nodes.nodes[0]
        a = self.rng.randrange(n)
        b = self.rng.randrange(n - 1)
        if b >= a:
            b += 1  # two distinct nodes, uniformly
        node_a, node_b = nodes.nodes[a], nodes.nodes[b]
        by_node = self.inflight.by_node
        return node_b if by_node.get(node_b, 0) < by_node.get(node_a, 0) else node_a


def load_bound(factor: float, total_in_flight: int, n: int) -> int:
    """Most requests a node may have in flight, the new one included: ceil(c * (m + 1) / n).
    Always >= 1, and n nodes at the bound hold more than m, so some node accepts."""
    return math.ceil(factor * (total_in_flight + 1) / n)


class Bounded(Policy):
    name = "bounded"

    def choose(self, key: str, nodes: NodeSet, now: float) -> str:
        by_node = self.inflight.by_node
        bound = load_bound(self.params.bounded_factor, self.inflight.total, len(nodes.nodes))
        primary = nodes.home(key)
        if by_node.get(primary, 0) < bound:
            return primary
        for node in nodes.spill_order(key):
            if by_node.get(node, 0) < bound:
                return node
        return primary  # unreachable while counts are consistent; never fail a pick


# The --policy names: each class's ``name``, the only place a name is spelled. This order
# is the one help texts, ``fnlb simulate`` and its tables list them in (options.POLICIES).
POLICIES: dict[str, type[Policy]] = {
    policy.name: policy for policy in (WarmFirst, StickySpill, Seed, Consistent, RoundRobin, LeastLoaded, Bounded)
}


def make_policy(name: str, params: Params | None = None, rng: random.Random | None = None) -> Policy:
    """A fresh policy by its ``--policy`` name (KeyError if unknown)."""
    return POLICIES[name](params, rng)
