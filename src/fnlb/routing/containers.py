"""The container estimate: each function's warm containers per node, as this balancer sees them.

Theory of operation
-------------------
An Fn-style node runs each call in a container of its function; when the call ends the
container stays idle (warm) for the node's idle timeout, is reused by the next call of the
same function (the most recently used first), and is then reaped. A call that finds no
idle container of its function pays a cold start, and on a full node it also evicts
another function's idle container. Nodes do not report their containers, but a balancer
sees every call it sends, so it can replay the node's bookkeeping:

* a call sent to (node, key) *takes* an idle container of the key there if the estimate
  has one (the most recent, as the node does), else it counts as a *new* container;
* when the call ends its container becomes idle at that instant (unless the node failed
  before answering: then its containers are presumed gone);
* an idle container is forgotten ``idle_timeout`` seconds after it became idle.

The estimate corrects itself call by call: a call that expected an idle container but
paid a cold start (the node had evicted or reaped it) still leaves one container behind
when it ends, exactly as the node does; so does a call that expected to start a
container but found one another balancer had left. Containers are counted per node too
(``per_node``, busy and idle), which is what the policy uses to judge whether a node has
room for one more without evicting.

Expiry needs no timer: idle containers become idle in time order, so one FIFO of
(time, key, pool) entries, popped while its head is older than ``idle_timeout``, finds
every lapsed container in amortised O(1) (``sweep``). The FIFO is three parallel deques,
not a deque of tuples: it holds an entry per call of the last ``idle_timeout`` (250,000 at
25k calls a second), and as tuples those were GC-tracked objects that made every full
collection of the cyclic GC walk them (29 ms measured, the proxy's p99 tail). Memory is bounded: beyond ``capacity``
idle containers the oldest are forgotten early, as if they had lapsed.

Pure: no sockets, no clock (``now`` is passed in), no randomness.
"""

from __future__ import annotations

from collections import deque


class Pool:
    """One key's containers on one node: ``busy`` calls in flight, idle-since times oldest first."""

    __slots__ = ("node", "busy", "idle")

    def __init__(self, node: str):
        self.node = node
        self.busy = 0
        self.idle: deque[float] = deque()

    @property
    def containers(self) -> int:
        return self.busy + len(self.idle)


class Containers:
    __slots__ = ("idle_timeout", "capacity", "pools", "per_node", "total", "_lapse_t", "_lapse_k", "_lapse_p",
                 "_idle_count", "_on_node")

    def __init__(self, idle_timeout: float, capacity: int = 100_000):
        self.idle_timeout = idle_timeout
        self.capacity = max(1, capacity)
        self.pools: dict[str, dict[str, Pool]] = {}  # key -> {node: Pool}, nodes in first-use order
        self.per_node: dict[str, int] = {}           # node -> containers (busy + idle) of all keys
        self.total = 0
        # The lapse FIFO (idle since, key, pool), in time order, as three deques (see above).
        self._lapse_t: deque[float] = deque()
        self._lapse_k: deque[str] = deque()
        self._lapse_p: deque[Pool] = deque()
        self._idle_count = 0
        self._on_node: dict[str, dict[str, Pool]] = {}  # node -> {key: Pool}: the same pools by node

    # -- reading ------------------------------------------------------------------------

    def of(self, key: str) -> dict[str, Pool] | None:
        """The key's pools by node (None when it has no container anywhere). Do not mutate."""
        return self.pools.get(key)

    def on(self, node: str) -> int:
        return self.per_node.get(node, 0)

    def warm(self, key: str) -> dict[str, int]:
        """{node: containers} of the key (busy and idle)."""
        mine = self.pools.get(key)
        return {node: p.containers for node, p in mine.items()} if mine else {}

    def oldest_idle(self, nodes, scan: int = 512) -> dict[str, float]:
        """{node: idle-since of its least recently used idle container} for those of
        ``nodes`` found among the ``scan`` oldest idle entries (what a full node evicts)."""
        want = set(nodes)
        found: dict[str, float] = {}
        for i, (since, pool) in enumerate(zip(self._lapse_t, self._lapse_p)):
            if i >= scan or len(found) == len(want):
                break
            node = pool.node
            if node in want and node not in found and pool.idle and pool.idle[0] <= since:
                found[node] = pool.idle[0]
        return found

    # -- the policy's calls ---------------------------------------------------------------

    def take(self, node: str, key: str, now: float) -> float | None:
        """A call of ``key`` is sent to ``node``: the idle-since time of the container it
        reuses, or None when it starts a new one."""
        self.sweep(now)
        mine = self.pools.get(key)
        if mine is None:
            mine = self.pools[key] = {}
        pool = mine.get(node)
        if pool is None:
            pool = mine[node] = Pool(node)
            self._on_node.setdefault(node, {})[key] = pool
        pool.busy += 1
        if pool.idle:
            self._idle_count -= 1
            return pool.idle.pop()  # the most recently used, as the node picks it
        self.per_node[node] = self.per_node.get(node, 0) + 1
        self.total += 1
        return None

    def release(self, node: str, key: str, now: float, alive: bool = True) -> None:
        """A call of ``key`` on ``node`` ended; ``alive`` False: the node failed, its container is gone."""
        mine = self.pools.get(key)
        pool = mine.get(node) if mine else None
        if mine is None or pool is None or not pool.busy:
            return  # not sent by us (or already ended): nothing to undo
        pool.busy -= 1
        if alive:
            pool.idle.append(now)
            self._lapse_t.append(now)
            self._lapse_k.append(key)
            self._lapse_p.append(pool)
            self._idle_count += 1
            if self._idle_count > self.capacity:
                self._forget()
        else:
            self._drop(node, 1)
            if not pool.containers:
                self._remove(key, mine, node)

    def sweep(self, now: float) -> None:
        """Forget the containers idle for ``idle_timeout`` or longer."""
        times = self._lapse_t
        horizon = now - self.idle_timeout
        while times and times[0] <= horizon:
            self._forget()

    def evicted(self, node: str, since: float) -> None:
        """The node no longer had a container idle since ``since``: a node evicts the least
        recently used idle container first, so every container of any key idle on it since
        then or earlier is gone too."""
        for key, pool in list(self._on_node.get(node, {}).items()):
            self._expire(key, pool, since)

    # -- internals ----------------------------------------------------------------------

    def _forget(self) -> None:
        """Take the oldest lapse entry: every idle entry of its pool at or before its time
        lapses with it (a pool's entries are in time order); the entry itself may have
        been reused already."""
        since = self._lapse_t.popleft()
        self._expire(self._lapse_k.popleft(), self._lapse_p.popleft(), since)

    def _expire(self, key: str, pool: Pool, since: float) -> None:
        """The pool's containers idle since ``since`` or earlier are gone; an empty pool
        is removed (unless it was removed already and the key has a new one there)."""
        idle = pool.idle
        n = 0
        while idle and idle[0] <= since:
            idle.popleft()
            n += 1
        if n:
            self._idle_count -= n
            self._drop(pool.node, n)
        if not pool.busy and not idle:
            mine = self.pools.get(key)
            if mine is not None and mine.get(pool.node) is pool:
                self._remove(key, mine, pool.node)

    def _drop(self, node: str, n: int) -> None:
        left = self.per_node.get(node, 0) - n
        if left > 0:
            self.per_node[node] = left
        else:
            self.per_node.pop(node, None)
        self.total -= n

    def _remove(self, key: str, mine: dict[str, Pool], node: str) -> None:
        del mine[node]
        if not mine:
            del self.pools[key]
        on_node = self._on_node[node]
        del on_node[key]
        if not on_node:
            del self._on_node[node]
