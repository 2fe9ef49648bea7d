"""The Router: the balancer's single entry point into routing.

Theory of operation
-------------------
``Router(policy)`` holds the current healthy node list as a ``NodeSet`` and one placement
policy (``policies.make_policy``); it adds nothing but the glue. It is pure: no clock
(``now`` is an argument, seconds, monotonic or virtual), no I/O, randomness only in the
policy's injected ``random.Random``. The proxy, ``fnlb route``, ``GET /1/lb/route`` and the
placement simulator all use it; the simulator builds it as::

    Router(make_policy("default", Params(spill_wait=0.2), random.Random(seed)))

The contract the balancer relies on:

  set_nodes(nodes)                       replace the healthy node set (any order; kept sorted
                                         by the address string's bytes)
  pick(key, now) -> node | None          node for a new request (None: no healthy node)
  order(key, now) -> [node, ...]         the policy's full try order for the key, primary first
                                         (retries, /1/lb/route)
  explain(key, now) -> (node, reason)    what pick would answer and why (policy.REASONS; the
                                         policy's own ``decide``), (None, None) with no node
  is_primary(key, node) -> bool          node is the key's jump-hash home
  started(node, key, now)                a request was sent (in-flight +1)
  finished(node, key, now, wait, latency, status)
                                         it ended (in-flight -1; wait in seconds or None;
                                         status 502 with wait None: the node failed first)
Read by observability (about once a second):
  in_flight_by_node() -> {node: int}     nodes with requests in flight
  wait_table(now) -> [(node, key, seconds), ...]   current time-aged wait averages
  warm_by_node(now) -> {node: int} | None          the policy's estimate of containers per node
                                                   (None: the policy keeps none)
  warm(key, now) -> {node: {"busy", "idle"}} | None   the same for one key
``build_router(cfg)`` builds one from a ``RoutingConfig`` (the flags of ``routing/options.py``).
"""

from __future__ import annotations

import random

from fnlb.routing.containers import Containers
from fnlb.routing.hashing import HashCache
from fnlb.routing.nodeset import KEY_CACHE_SIZE, NodeSet
from fnlb.routing.options import RoutingConfig
from fnlb.routing.policies import make_policy
from fnlb.routing.policy import Policy


class Router:
    def __init__(self, policy: Policy, cache_size: int = KEY_CACHE_SIZE):
        self.policy = policy
        self._cache_size = cache_size
        self._hashes = HashCache(cache_size)  # survives node changes: hashes do not depend on them
        self.nodeset = NodeSet((), self._hashes, cache_size)
        # The data path calls these per request: bind them straight to the policy.
        self.started = policy.started
        self.finished = policy.finished

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.nodeset.nodes

    def set_nodes(self, nodes) -> None:
        nodeset = NodeSet(nodes, self._hashes, self._cache_size)
        if nodeset.nodes != self.nodeset.nodes:
            self.nodeset = nodeset

    def pick(self, key: str, now: float) -> str | None:
        nodeset = self.nodeset
        if not nodeset.nodes:
            return None
        return self.policy.choose(key, nodeset, now)

    def explain(self, key: str, now: float) -> tuple[str | None, str | None]:
        nodeset = self.nodeset
        if not nodeset.nodes:
            return None, None
        return self.policy.decide(key, nodeset, now)

    def order(self, key: str, now: float) -> list[str]:
        if not self.nodeset.nodes:
            return []
        return list(self.policy.order(key, self.nodeset, now))

    def is_primary(self, key: str, node: str) -> bool:
        return self.nodeset.primary(key) == node

    def in_flight_by_node(self) -> dict[str, int]:
        return dict(self.policy.inflight.by_node)

    def wait_table(self, now: float) -> list[tuple[str, str, float]]:
        return self.policy.waits.snapshot(now)

    def _containers(self, now: float) -> Containers | None:
        """The policy's container estimate, lapsed containers forgotten (None: it keeps none)."""
        estimate = getattr(self.policy, "containers", None)
        if not isinstance(estimate, Containers):
            return None
        estimate.sweep(now)
        return estimate

    def warm_by_node(self, now: float) -> dict[str, int] | None:
        estimate = self._containers(now)
        return None if estimate is None else dict(estimate.per_node)

    def warm(self, key: str, now: float) -> dict[str, dict[str, int]] | None:
        estimate = self._containers(now)
        if estimate is None:
            return None
        return {node: {"busy": pool.busy, "idle": len(pool.idle)} for node, pool in (estimate.of(key) or {}).items()}


def build_router(cfg: RoutingConfig, rng: random.Random | None = None) -> Router:
    """The router a routing config describes (its policy name and the policies' parameters)."""
    return Router(make_policy(cfg.policy, cfg.params, rng))
