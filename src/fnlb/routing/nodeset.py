"""One healthy node list and, per key, its primary and spill orders (pure, no load state).

Theory of operation
-------------------
A ``NodeSet`` is immutable: the router builds a new one whenever the registry reports a
different healthy set, so everything derived from the list can be cached in it and is
thrown away with it. Nodes are sorted by the bytes of their address string (the
reference's rule, so that all balancers index the same list).

For a key it answers, from the key's hash (``hashing``):

* ``primary(key)``: the node the jump hash chooses, the key's home. Cached per key
  (bounded), since this is the question of every request.
* ``spill_order(key)``: the primary, then every other node in descending rendezvous score
  for this key. Distinct keys of one node spill to distinct neighbours; every balancer
  with the same list agrees. Computed on first use (O(n log n)) and cached per key
  (bounded), because only keys that spill or retry need it.
* ``sorted_walk(key)``: the primary, then the following nodes in sorted order, wrapping:
  the reference's spill order, kept for ``--policy seed``.

Caches are emptied when full (see ``HashCache``); their size is ``KEY_CACHE_SIZE``.
"""

from __future__ import annotations

from fnlb.routing.hashing import HashCache, jump, key_hash, spill_score

KEY_CACHE_SIZE = 65536


def _sort_key(node: str) -> bytes:
    return node.encode("utf-8", "surrogateescape")


class NodeSet:
    __slots__ = ("nodes", "index", "_node_hashes", "_hash", "primaries", "_orders", "_cap")

    def __init__(self, nodes, hash_cache: HashCache | None = None, cache_size: int = KEY_CACHE_SIZE):
        self.nodes: tuple[str, ...] = tuple(sorted(set(nodes), key=_sort_key))
        self.index = {node: i for i, node in enumerate(self.nodes)}
        self._node_hashes = [key_hash(node) for node in self.nodes]
        self._hash = hash_cache if hash_cache is not None else HashCache(cache_size)
        # key -> primary, filled by primary(); hot paths read it first (``primaries.get(key)
        # or primary(key)``) to save a call
        self.primaries: dict[str, str] = {}
        self._orders: dict[str, list[str]] = {}
        self._cap = cache_size

    def __len__(self) -> int:
        return len(self.nodes)

    def primary(self, key: str) -> str | None:
        node = self.primaries.get(key)
        if node is None:
            if not self.nodes:
                return None
            if len(self.primaries) >= self._cap:
                self.primaries.clear()
            node = self.primaries[key] = self.nodes[jump(self._hash(key), len(self.nodes))]
        return node

    def home(self, key: str) -> str:
        """``primary`` of a set that is not empty (what every policy is given)."""
        node = self.primaries.get(key) or self.primary(key)
        if node is None:
            raise LookupError("no node to be a home")
        return node

    def spill_order(self, key: str) -> list[str]:
        """Primary first, then the other nodes by descending rendezvous score. Do not mutate."""
        order = self._orders.get(key)
        if order is None:
            primary = self.primary(key)
            if primary is None:
                return []
            h = self._hash(key)
            hashes = self._node_hashes
            rest = sorted((i for i, node in enumerate(self.nodes) if node != primary),
                          key=lambda i: spill_score(h, hashes[i]), reverse=True)
            order = [primary, *(self.nodes[i] for i in rest)]
            if len(self._orders) >= self._cap:
                self._orders.clear()
            self._orders[key] = order
        return order

    def sorted_walk(self, key: str) -> list[str]:
        """Primary first, then the next nodes in sorted order, wrapping (the reference's walk)."""
        primary = self.primary(key)
        if primary is None:
            return []
        i = self.index[primary]
        return [*self.nodes[i:], *self.nodes[:i]]
