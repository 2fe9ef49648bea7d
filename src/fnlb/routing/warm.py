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
2. **Queue**: no idle container anywhere, but K has busy ones on a node that *queues
   first* (it lets a call wait for a busy container of its function when that frees
   sooner than a cold start, as one pooled node would): the first such node of K's
   order. The node then decides, wait or start, with what it knows and the balancer does
   not; sending the call to a node with room elsewhere starts a container for certain.
   A node queues first when most calls sent there to start a container *beside busy ones
   of their function* waited, but less than ``cold_wait``: they waited for a busy one and
   added none (``QUEUE_AT``). A node that starts a container as soon as none is idle
   cold-starts those calls; counting only calls beside busy containers keeps the many
   calls of functions new to a node out of the share. Unless it is full: then it makes
   calls wait for a slot and hands them their function's containers as they free, so a
   node that evicted (a call sent to reuse a container paid a cold start) does not count
   as queueing first for ``FULL_FOR``. On a node that queues first the container of an
   ended call goes to a call of its function waiting there, so the estimate counts it
   busy, not idle (``_hand_over``). Measured on ``tight --on-busy queue``, seeds 1-5:
   434 -> 390 cold starts (the floor 297), p99 139-178 ms against 186-194; the scenarios
   of nodes that cold-start unchanged.
3. **Grow**: no idle container anywhere, so the call starts a container. It goes to the first
   node of K's order that already holds containers of K, else to the first node of the
   order, that has *room*: fewer containers than ``max(load_floor, warm_factor * (C + 1)
   / n + SLACK)``, where C counts the containers of all keys on all n nodes (bounded
   loads, applied to containers instead of requests), and where K's wait is not high. Keeping
   every node's containers near the mean leaves each node free slots, so a new container
   evicts nothing, in a cluster whose working set fits. Among those nodes, the ones whose
   oldest idle container is older than ``VICTIM_AGE`` come first: if such a node is
   full after all, what it evicts has not been used for a while.
4. **Otherwise** (every node is full or slow): K's first node that holds it, else home.
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
QUEUE_AT = 0.5          # share of calls sent to start a container beside busy ones of their
                        # function that waited for one, above which a node queues first
QUEUE_ALPHA = 0.1       # weight of one such call in a node's share (about the last ten)
FULL_FOR = 30.0         # seconds: a node that evicted may still be full (its waits are for slots)


class _Sent:
    """One (node, key)'s calls in flight: the idle-since times of the containers those sent
    to reuse one expect; how many were sent to start one, and how many of those were sent
    while the key had busy containers there (a node that queues first lets them wait);
    and how many of those were handed an ended call's container (``_hand_over``)."""

    __slots__ = ("reused", "fresh", "behind", "handed")

    def __init__(self):
        self.reused: list[float] = []
        self.fresh = 0
        self.behind = 0
        self.handed = 0


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
        # node -> share of calls sent to start a container beside busy ones of their
        # function that waited for one instead (step 2 of the module docstring).
        self.queue_share: dict[str, float] = {}
        self.evicted_at: dict[str, float] = {}  # node -> when a call last found its container evicted

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
            queued = self._queue_behind(key, mine, nodes, now)
            if queued is not None:
                return queued, "queue"
        elif self.shared() and not self._is_slow(primary, key, now):
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

    def _queue_behind(self, key: str, mine: dict[str, Pool], nodes: NodeSet, now: float) -> str | None:
        """The first node of the key's order that holds busy containers of it, queues first
        and is not slow for it; None if there is none."""
        if not self.queue_share:
            return None
        for node in nodes.spill_order(key):
            pool = mine.get(node)
            if pool is not None and pool.busy and self.queues_first(node, now) \
                    and not self._is_slow(node, key, now):
                return node
        return None

    def queues_first(self, node: str, now: float) -> bool:
        """Does ``node`` let a call wait for a busy container of its function (``--on-busy
        queue``) rather than start one? Most calls sent beside busy ones waited for one,
        and it has not evicted a container for ``FULL_FOR``: a full node that cold-starts
        when busy also makes calls wait, for a slot, and hands them their function's
        containers as they free; sending it more calls then feeds its backlog (measured:
        the simulator's flash crowd started twice the containers)."""
        return self.queue_share.get(node, 0.0) > QUEUE_AT and now - self.evicted_at.get(node, -FULL_FOR) >= FULL_FOR

    def _grow(self, key: str, mine: dict[str, Pool] | None, nodes: NodeSet, now: float,
              limit: float) -> tuple[str, str]:
        """Where a new container of the key goes (the module docstring, step 3)."""
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
            if self.containers.pools[key][node].busy > 1:
                sent.behind += 1  # beside busy containers of the key (the queue share's calls)
        else:
            sent.reused.append(since)

    def finished(self, node: str, key: str, now: float, wait: float | None, latency: float, status: int) -> None:
        self.inflight.finish(node)
        alive = not (wait is None and status == 502)  # a node that failed first lost its containers
        pair = (node, key)
        sent = self._sent.get(pair)
        new = False
        if sent is not None:
            new = self._settle(sent, node, wait, now)
            if new and wait is not None and QUEUED_MIN < wait < self._cold:
                alive = False  # sent to start a container, it waited for a busy one: none was added
            elif alive and self._hand_over(sent, node, now):
                alive = False  # its container went on to a call waiting there: busy, and none was added
            if not sent.fresh and not sent.reused and not sent.handed:
                del self._sent[pair]
        self.containers.release(node, key, now, alive)
        if wait is None:
            return
        self.node_waits.add(node, "", wait, now)  # raw: what any key would meet there
        if new and wait > self._slow:
            wait = self._slow  # the cold start this call was sent to pay, not load
        self.waits.add(node, key, wait, now)

    def _hand_over(self, sent: _Sent, node: str, now: float) -> bool:
        """A node that queues first hands the container of an ended call to the oldest call
        of its function waiting there: if one of the pair's calls sent to start a container
        beside busy ones is in flight, it is taken to have got this one (True). Counting
        the container idle instead sent the next call to it, to wait in turn: measured
        live, a state where most calls of the hot function queued (p50 110-127 ms)."""
        if not sent.behind or not self.queues_first(node, now):
            return False
        sent.behind -= 1
        sent.fresh -= 1
        sent.handed += 1
        return True

    def _note_queue(self, node: str, queued: bool) -> None:
        """A call sent beside busy containers of its function waited for one (or not)."""
        share = self.queue_share.get(node, 0.0)
        self.queue_share[node] = share + QUEUE_ALPHA * ((1.0 if queued else 0.0) - share)

    def _settle(self, sent: _Sent, node: str, wait: float | None, now: float) -> bool:
        """Match an ended call with one the (node, key) pair sent; True if it was sent to start a
        container. Calls are not told apart, so a cold one is taken for one sent to start
        a container, a warm one for one sent to reuse. A call sent to reuse that paid a
        cold start means the node had evicted the container, and so (LRU) every
        container idle there since then or earlier. A call handed a container waited for
        it, unless it paid a cold start (the node started one after all). Each answered
        call also updates the shares ``shared`` reads (found warm, missed), and one sent
        to start a container beside busy ones the node's ``queue_share``."""
        reused = sent.reused
        cold = wait is not None and wait >= self._cold
        new = missed = False
        if sent.handed and ((cold and not sent.fresh) or (not cold and wait is not None and wait > QUEUED_MIN)
                            or (not sent.fresh and not reused)):
            sent.handed -= 1
            new = cold
            if wait is not None:
                self._note_queue(node, not cold)
        elif sent.fresh and (cold or not reused):
            # One sent beside busy containers if all are, or if it waited: one that did
            # not was more likely sent while the key had none busy there.
            if sent.behind and (sent.behind == sent.fresh or (wait is not None and wait > QUEUED_MIN)):
                sent.behind -= 1
                if wait is not None:
                    self._note_queue(node, QUEUED_MIN < wait < self._cold)
            sent.fresh -= 1
            new = True
        elif reused:
            if cold:
                self.containers.evicted(node, reused.pop())
                missed = True
                self.evicted_at[node] = now
            else:
                reused.pop(0)
        if wait is not None:
            found = new and wait <= QUEUED_MIN
            self.found += SHARED_ALPHA * ((1.0 if found else 0.0) - self.found)
            self.missed += SHARED_ALPHA * ((1.0 if missed else 0.0) - self.missed)
        return new
