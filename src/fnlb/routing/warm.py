"""The default policy, *warm first*: send each call where its function has an idle container.

Theory of operation
-------------------
A cold start is the most expensive thing a balancer can cause: a call that reaches a node
with no idle container of its function starts one (hundreds of milliseconds), and on a
full node evicts another function's idle container, whose next call cold-starts in turn.
One node holding every slot of the cluster (the *pooled floor*) cold-starts a call only
when every container of its function is busy; a balancer gets close to that floor by
treating the cluster's containers as one pool. The policy keeps an estimate of each
function's containers per node (``containers.py``: it replays the node's bookkeeping from
the calls it sends) and, for each call of key K:

1. **Reuse**: the first node of K's spill order (home first, ``NodeSet.spill_order``:
   identical on every balancer) where K has an idle container and K's wait is not high.
   Starting there costs nothing, however busy the node is with other functions' calls: the
   container already holds its slot. Preferring the earliest node of the order keeps K's
   busy containers together and lets its idle ones at the end of the order lapse.
2. **Grow**: no idle container anywhere, so the call starts a container (or, on a node
   that queues first, waits for one of K's busy containers there). It goes to the first
   node of K's order that already holds containers of K, else to the first node of the
   order, that has *room*: fewer containers than ``max(load_floor, warm_factor * (C + 1)
   / n + SLACK)``, where C counts the containers of all keys on all n nodes (bounded
   loads, applied to containers instead of requests), and where K's wait is not high. Keeping
   every node's containers near the mean leaves each node free slots, so a new container
   evicts nothing, in a cluster whose working set fits. Among those nodes, the ones whose
   oldest idle container is older than ``VICTIM_AGE`` come first: if such a node is
   full after all, what it evicts has not been used for a while.
3. **Otherwise** (every node is full or slow): K's first node that holds it, else home.
   A new container evicts something wherever it goes then, so it should at least not
   spread K over more nodes (measured: sending it where the oldest idle container is, as
   one pooled node would evict, started 40% more containers on 4 x 12 slots).

"K's wait is high" means its time-aged average (``waits.py``) on that node is above
``spill_wait``; for a node new to K, the node's average over all its keys. A node becomes
slow when calls queue on it (all its slots busy), and stops repelling within
``wait_grace + wait_fade`` (4 s) of its last sample, so it gets traffic again. A call sent
to start a container pays the cold start by design, so its sample is capped at
``spill_wait`` (a burst of new containers does not make the node look overloaded).

With no load every call of K finds its idle container at home (or starts one there, home
having room): a function stays where it is hot. The policy draws no random numbers, so
every balancer with the same inputs decides alike. With several balancers each sees only
its own calls; a node's containers left by another balancer are found warm by chance and
then counted (``containers.py``), and all balancers grow K along the same order, so they
share K's containers on its first nodes. When the calls show that others share the nodes
(``shared``), a key this balancer knows no container of goes home rather than to the
first node with room by its own counts, which miss the others' containers.

Cost per call: one sweep of lapsed containers (amortised O(1)), one dict lookup of K's
pools, one wait lookup; the spill order is walked only when home has no idle container.
"""

from __future__ import annotations

import random

from fnlb.routing.containers import Containers, Pool
from fnlb.routing.nodeset import NodeSet
from fnlb.routing.policy import Params, Policy
from fnlb.routing.waits import WaitTable

NODE_TABLE_SIZE = 4096  # nodes whose overall wait average is kept
SLACK = 1.0             # containers a node may hold above the bound (small counts are not split)
VICTIM_AGE = 5.0        # seconds: a node whose oldest idle container is older evicts nothing of value
QUEUED_MIN = 0.002      # seconds: a call sent to start a container that waited longer (below
                        # --cold-wait) waited for a busy container instead
SHARED_AT = 0.01        # share of calls that found a container unknown to this balancer, and of
                        # calls that missed one it counted on, both above which the nodes are
                        # taken to be shared with other balancers
SHARED_ALPHA = 0.0002   # weight of one call in those shares (they follow the last ~5,000 calls)


class _Sent:
    """One (node, key)'s calls in flight: the idle-since times of the containers those sent
    to reuse one expect, and how many were sent to start one."""

    __slots__ = ("reused", "fresh")

    def __init__(self):
        self.reused: list[float] = []
        self.fresh = 0


class WarmFirst(Policy):
    name = "default"

    def __init__(self, params: Params | None = None, rng: random.Random | None = None):
        super().__init__(params, rng)
        p = self.params
        self.containers = Containers(p.warm_window, p.wait_table_size)
        self._floor, self._factor = p.load_floor, p.warm_factor
        self._slow, self._cold = p.spill_wait, p.cold_wait
        # Each node's wait over all its keys: the estimate for a key new to it.
        self.node_waits = WaitTable(NODE_TABLE_SIZE, p.wait_grace, p.wait_fade)
        self._sent: dict[tuple[str, str], _Sent] = {}
        self.found = 0.0   # share of calls sent to start a container that found one warm
        self.missed = 0.0  # share of calls sent to reuse a container that paid a cold start

    # -- deciding -------------------------------------------------------------------------

    def choose(self, key: str, nodes: NodeSet, now: float) -> str:
        return self.decide(key, nodes, now)[0]

    def begin(self, key: str, nodes: NodeSet, now: float) -> str:
        node = self.decide(key, nodes, now)[0]  # choose, one call fewer (the proxy's, per request)
        self.started(node, key, now)
        return node

    def decide(self, key: str, nodes: NodeSet, now: float) -> tuple[str, str]:
        """The node for a call of ``key`` and the step that chose it (``policy.REASONS``).
        Changes no state but forgetting lapsed containers (what any call at ``now`` does)."""
        self.containers.sweep(now)
        mine = self.containers.pools.get(key)
        limit = self._limit(len(nodes.nodes))
        primary = nodes.primaries.get(key) or nodes.home(key)
        if mine is not None:
            home = mine.get(primary)
            if home is not None and home.idle and self.containers.per_node.get(primary, 0) <= limit \
                    and not self._is_slow(primary, key, now):
                return primary, "home"  # the common case: an idle container at home
            reused = self._reuse(key, mine, nodes, now, limit)
            if reused is not None:
                return reused
        if mine is None and self.shared() and not self._is_slow(primary, key, now):
            return primary, "shared"
        return self._grow(key, mine, nodes, now, limit)

    def _limit(self, n: int) -> float:
        """Most containers a node may hold and still take a new one (bounded loads)."""
        limit = self._factor * (self.containers.total + 1) / n + SLACK
        return limit if limit > self._floor else self._floor

    def _reuse(self, key: str, mine: dict[str, Pool], nodes: NodeSet, now: float,
               limit: float) -> tuple[str, str] | None:
        """The first node of the key's order with an idle container of it, not slow for it;
        nodes over the limit last (their idle containers of the key may then lapse)."""
        per_node = self.containers.per_node
        seen, held, crowded = 0, len(mine), None
        for node in nodes.spill_order(key):
            pool = mine.get(node)
            if pool is not None:
                if pool.idle and not self._is_slow(node, key, now):
                    if per_node.get(node, 0) <= limit:
                        return node, "warm"
                    if crowded is None:
                        crowded = node
                seen += 1
                if seen == held:
                    break  # the key's nodes are usually the first few of its order
        return (crowded, "crowded") if crowded is not None else None

    def _grow(self, key: str, mine: dict[str, Pool] | None, nodes: NodeSet, now: float,
              limit: float) -> tuple[str, str]:
        """Where a new container of the key goes (the module docstring, step 2)."""
        per_node = self.containers.per_node
        order = nodes.spill_order(key)
        room = [node for node in order if per_node.get(node, 0) < limit and not self._is_slow(node, key, now)]
        if room:
            oldest = self.containers.oldest_idle(room)
            young = now - VICTIM_AGE
            cheap = [node for node in room
                     if per_node.get(node, 0) < self._floor or node not in oldest or oldest[node] < young]
            return self._first_holding(mine, cheap if cheap else room), "grow"
        # Every node is full: whatever the new container evicts, it should not spread the
        # key over more nodes (more containers in all): its first node that holds it, else home.
        return self._first_holding(mine, order), "full"

    @staticmethod
    def _first_holding(mine: dict[str, Pool] | None, candidates: list[str]) -> str:
        """The first candidate that holds containers of the key, else the first candidate
        (``candidates`` is not empty)."""
        if mine:
            for node in candidates:
                if node in mine:
                    return node
        return candidates[0]

    def shared(self) -> bool:
        """Do other balancers share the nodes? Their calls show in two ways at once: calls
        sent to start a container find one warm (one they left), and calls sent to reuse
        one pay a cold start (they took it). A lone balancer sees one at a time: the first
        when ``--warm-window`` is below the nodes' idle timeout, the second where nodes
        evict. A key this balancer knows no container of then goes home, where every
        balancer starts it: its room count misses the others' containers (measured: in
        the simulator's four-balancer scenario, 40% fewer cold starts)."""
        return self.found > SHARED_AT and self.missed > SHARED_AT

    def _is_slow(self, node: str, key: str, now: float) -> bool:
        if self.waits.known(node, key, now):
            return self.waits.get(node, key, now) > self._slow
        return self.node_waits.get(node, "", now) > self._slow

    # -- observing ------------------------------------------------------------------------

    def started(self, node: str, key: str, now: float) -> None:
        self.inflight.start(node)
        since = self.containers.take(node, key, now)
        pair = (node, key)
        sent = self._sent.get(pair)
        if sent is None:
            sent = self._sent[pair] = _Sent()
        if since is None:
            sent.fresh += 1
        else:
            sent.reused.append(since)

    def finished(self, node: str, key: str, now: float, wait: float | None, latency: float, status: int) -> None:
        self.inflight.finish(node)
        alive = not (wait is None and status == 502)  # a node that failed first lost its containers
        new = self._settle(node, key, wait)
        if new and wait is not None and QUEUED_MIN < wait < self._cold:
            alive = False  # sent to start a container, it waited for a busy one: none was added
        self.containers.release(node, key, now, alive)
        if wait is None:
            return
        self.node_waits.add(node, "", wait, now)  # raw: what any key would meet there
        if new and wait > self._slow:
            wait = self._slow  # the cold start this call was sent to pay, not load
        self.waits.add(node, key, wait, now)

    def _settle(self, node: str, key: str, wait: float | None) -> bool:
        """Match an ended call with one the pair sent; True if it was sent to start a
        container. Calls are not told apart, so a cold one is taken for one sent to start
        a container, a warm one for one sent to reuse. A call sent to reuse that paid a
        cold start means the node had evicted the container, and so (LRU) every
        container idle there since then or earlier. Each answered call also updates the
        shares ``shared`` reads (found warm, missed)."""
        pair = (node, key)
        sent = self._sent.get(pair)
        if sent is None:
            return False
        reused = sent.reused
        cold = wait is not None and wait >= self._cold
        new = missed = False
        if sent.fresh and (cold or not reused):
            sent.fresh -= 1
            new = True
        elif reused:
            if cold:
                self.containers.evicted(node, reused.pop())
                missed = True
            else:
                reused.pop(0)
        if not sent.fresh and not reused:
            del self._sent[pair]
        if wait is not None:
            found = new and wait <= QUEUED_MIN
            self.found += SHARED_ALPHA * ((1.0 if found else 0.0) - self.found)
            self.missed += SHARED_ALPHA * ((1.0 if missed else 0.0) - self.missed)
        return new
