"""The ``sticky`` policy (the default of earlier releases), *sticky spill*: keep each key on few nodes, spill only what hurts.

Theory of operation
-------------------
What matters for functions is the tail of the time before a function starts, and a cold
start is the most expensive thing a balancer can cause: every call sent to a node where
its key has no idle hot container starts a container (and, on a full node, evicts another
key's idle one, whose next call there cold-starts in turn). So a key should run on as few
nodes as its load needs, reuse the containers it already has, and leave a node only when
that node is measurably full or slow. The policy keeps, per key, where it has *hot
containers*: for each node the key ran on, its calls in flight there and the peak of that
count within the last ``hot_window`` seconds (a node keeps a container for its idle timeout
after its last use and reuses the most recent one first, so the recent peak is about how
many containers the key has there). A call on a node where in flight < peak finds an idle
hot container. With ``limit = max(load_floor, load_factor * (total + 1) / n)`` (bounded
loads on in-flight requests) and ``hard = max(load_floor, hot_factor * load_factor *
(total + 1) / n)``, for each request:

1. **Stay home** (the jump-hash primary) when the key has an idle hot container there and
   home has fewer than ``hard`` in flight; or when home has fewer than ``limit`` in flight
   (room for a new container) and the key has no idle hot container elsewhere. Below
   ``load_floor`` in flight, with a low or no wait, home always takes the call (fast path).
   A key with *nothing* in flight at home and a hot container there (a light key: one
   call reusing its container) stays up to ``IDLE_FACTOR`` (1.5) times ``hard``, so a
   small key is not moved because its node is momentarily busy with others' calls.
   *Slow* home: with ``w`` the key's time-aged wait average there (``waits.py``), the
   request stays if ``w <= spill_wait``, otherwise with a probability falling linearly
   from 1 at ``spill_wait`` to ``spill_keep`` at ``spill_wait_max`` and beyond.
2. **Go where it is hot**: a node where the key has an idle hot container, fewer than
   ``hard`` in flight, and an expected wait for the key of at most ``spill_wait`` or
   ``spill_gain`` times lower than home's. This is the hysteresis: a key that spilled
   keeps using the containers it started there while it needs them, instead of starting
   new ones at home the moment home has room again (and leaving the spilled ones to
   expire). Small keys thus never move because a node is momentarily busy with others'
   calls: with a hot container at home they stay until home passes ``hard``.
3. **Spill** to the first node of the key's spill order (``NodeSet.spill_order``: per-key
   rendezvous order, identical on every balancer) that has fewer than ``limit`` in flight
   and whose expected wait for the key is at most ``spill_wait`` or ``spill_gain`` times
   lower than home's (any such node when home is full). The expected wait is the key's own
   average on that node if it has a live one, else the node's average over all its keys
   (``node_waits``): what a newcomer would meet there. A key's new containers thus go to
   the same few nodes, in the same order, on every balancer.
4. **Otherwise stay home** when home has room: when every node is about as slow (the whole
   cluster is busy), moving would only add cold starts and spread every key's working set
   over more nodes. If home is full and so is every other node (cannot happen with
   ``load_factor >= 1``): the node with the fewest requests in flight.

``hot_window = 0`` turns the hot-container tracking off (steps 1-2 reduce to "home while
it has room": the policy of earlier releases).

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

Cost: the common case, a primary with fewer than ``load_floor`` in flight and a low or
no average, is two dictionary lookups and one (node, key) tuple. Otherwise one lookup of
the key's hot nodes (a dict of the few nodes it ran on recently) and one wait lookup per
node considered. ``begin`` (the proxy's call) is ``choose`` then ``started`` with that
lookup of the key's hot nodes done once for both; ``choose`` and ``started`` (the
simulator's calls) each do it and then run the same code, so both decide alike.
``started``/``finished`` update the key's entry for the node (O(1));
memory is bounded by pruning keys with nothing in flight and no recent peak once the
table holds ``wait_table_size`` keys.
"""

from __future__ import annotations

import random

from fnlb.routing.nodeset import NodeSet
from fnlb.routing.policy import Params, Policy
from fnlb.routing.waits import WaitTable

NODE_TABLE_SIZE = 4096  # nodes whose overall wait average is kept
IDLE_FACTOR = 1.5       # a key with nothing in flight at home reuses its idle container there up to this x hard
_INF = float("inf")


class StickySpill(Policy):
    name = "sticky"

    def __init__(self, params: Params | None = None, rng: random.Random | None = None):
        super().__init__(params, rng)
        p = self.params
        self._floor, self._factor = p.load_floor, p.load_factor
        self._hard = p.hot_factor * p.load_factor
        self._low, self._high, self._keep = p.spill_wait, p.spill_wait_max, p.spill_keep
        self._gain = p.spill_gain
        self._window = p.hot_window
        self._cold: dict[tuple[str, str], int] = {}  # in flight, sent where the key had no live average
        # Each node's wait over all its keys: the estimate for a key that never ran there.
        self.node_waits = WaitTable(NODE_TABLE_SIZE, p.wait_grace, p.wait_fade)
        # key -> {node: [in flight, hot containers (peak in flight lately), when in flight last reached it]}
        self.hot: dict[str, dict[str, list]] = {}
        self._hot_cap = max(64, p.wait_table_size)

    def _keeps(self, wait: float) -> bool:
        """Does a node with this wait average keep this request of the key? (random draw)"""
        if wait <= self._low:
            return True
        if wait >= self._high:
            keep = self._keep
        else:
            keep = 1.0 - (1.0 - self._keep) * (wait - self._low) / (self._high - self._low)
        return self.rng.random() < keep

    def begin(self, key: str, nodes: NodeSet, now: float) -> str:
        """``choose`` then ``started`` (the proxy's call): the key's hot table is looked up once."""
        mine = self.hot.get(key)
        node = self._choose(key, nodes, now, mine)
        self._start(node, key, now, mine)
        return node

    def choose(self, key: str, nodes: NodeSet, now: float) -> str:
        return self._choose(key, nodes, now, self.hot.get(key))

    def started(self, node: str, key: str, now: float) -> None:
        self._start(node, key, now, self.hot.get(key))

    def _choose(self, key: str, nodes: NodeSet, now: float, mine: dict | None) -> str:
        # mine: the key's hot table (None when it has none; always None with hot_window 0)
        primary = nodes.primaries.get(key) or nodes.home(key)
        by_node = self.inflight.by_node
        load = by_node.get(primary, 0)
        # Fast path: few requests in flight and a stored average (an upper bound of the
        # aged one) that is low or absent.
        if load < self._floor:
            entry = self.waits.entries.get((primary, key))
            if entry is None or entry[0] <= self._low:
                return primary
        n = len(nodes.nodes)
        mean = (self.inflight.total + 1) / n
        # Bounds: max(floor, ceil(factor * (total + 1) / n)); counts are whole, so
        # "count >= bound" is "count >= both terms", no ceil needed. (Written out: the
        # builtin max() costs more than the comparisons.)
        limit, hard, floor = self._factor * mean, self._hard * mean, self._floor
        if limit < floor:
            limit = floor
        if hard < floor:
            hard = floor
        window = self._window
        home_wait = _INF  # the primary is full: any node beats it
        e = mine.get(primary) if mine else None
        free = e is not None and e[0] < e[1] and now - e[2] < window  # an idle hot container at home
        # A key with nothing in flight at home and a container there is a single call
        # reusing it: it stays up to IDLE_FACTOR * hard (a light key never moves because
        # its node is busy with others' calls).
        if load < hard or (free and e is not None and not e[0] and load < IDLE_FACTOR * hard):
            if free or (
                    load < limit and not (mine and self._hot_node(key, mine, primary, nodes, now, hard, _INF))):
                home_wait = self.waits.get(primary, key, now)
                if home_wait <= self._low or self._keeps(home_wait):
                    return primary
        enough = home_wait / self._gain
        if mine:
            node = self._hot_node(key, mine, primary, nodes, now, hard, enough)
            if node is not None:
                return node
        # Leave home for the first node of the key's order that has room and is fast for
        # the key, or at least spill_gain times faster than home (any node with room when
        # home is full). Earlier nodes of the order are where the key spilled before.
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

    def _hot_node(self, key: str, mine: dict, primary: str, nodes: NodeSet, now: float, hard: float,
                  enough: float) -> str | None:
        """A node other than home where the key has an idle hot container, fewer than
        ``hard`` in flight and an expected wait of at most spill_wait or below ``enough``.
        The key's nodes are tried in the order it first ran on them (deterministic)."""
        by_node, index, window = self.inflight.by_node, nodes.index, self._window
        for node, e in mine.items():
            if e[0] < e[1] and now - e[2] < window and node != primary and node in index \
                    and by_node.get(node, 0) < hard:
                if enough == _INF:
                    return node
                wait = self._expected_wait(node, key, now)
                if wait <= self._low or wait < enough:
                    return node
        return None

    def _expected_wait(self, node: str, key: str, now: float) -> float:
        if self.waits.known(node, key, now):
            return self.waits.get(node, key, now)
        return self.node_waits.get(node, "", now)

    def _start(self, node: str, key: str, now: float, mine: dict | None) -> None:
        self.inflight.start(node)
        if not self.waits.known(node, key, now):
            pair = (node, key)
            self._cold[pair] = self._cold.get(pair, 0) + 1
        if mine is not None:  # (a key has a hot table only with hot_window > 0)
            e = mine.get(node)
            if e is None:
                mine[node] = [1, 1, now]
            else:
                c = e[0] = e[0] + 1
                if c >= e[1] or now - e[2] >= self._window:
                    e[1] = c  # a new peak, or the old one lapsed: the containers it needed did too
                    e[2] = now
        elif self._window > 0:
            if len(self.hot) >= self._hot_cap:
                self._prune(now)
            self.hot[key] = {node: [1, 1, now]}

    def _prune(self, now: float) -> None:
        """Forget keys with nothing in flight and no recent peak (bounds the table)."""
        window = self._window
        self.hot = {k: m for k, m in self.hot.items() if any(e[0] or now - e[2] < window for e in m.values())}
        if len(self.hot) >= self._hot_cap // 2:  # a flood of distinct keys: keep only those in flight
            self.hot = {k: m for k, m in self.hot.items() if any(e[0] for e in m.values())}

    def finished(self, node: str, key: str, now: float, wait: float | None, latency: float, status: int) -> None:
        self.inflight.finish(node)
        mine = self.hot.get(key)
        if mine is not None:
            e = mine.get(node)
            if e is not None:
                if wait is None and status == 502:
                    del mine[node]  # the node failed before answering: its containers are gone
                elif e[0] > 0:
                    e[0] -= 1
        if wait is not None:
            self.node_waits.add(node, "", wait, now)  # raw: what any key would meet there
        if self._cold and self._cold_done(node, key) and wait is not None and wait > self._low:
            wait = self._low  # probably the key's cold start here, not load
        if wait is not None:
            self.waits.add(node, key, wait, now)

    def _cold_done(self, node: str, key: str) -> bool:
        """A request of the pair ended: was it one sent while the key was cold there?"""
        pair = (node, key)
        cold = self._cold.get(pair)
        if not cold:
            return False
        if cold == 1:
            del self._cold[pair]
        else:
            self._cold[pair] = cold - 1
        return True
