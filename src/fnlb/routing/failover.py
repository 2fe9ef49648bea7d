"""Failover: which nodes a request tries, and at most how many.

Theory of operation
-------------------
A request's first node is the policy's pick. When a try fails before any byte of the
response (the node refused, reset or timed out), the request moves on to the next node
of the key's try order (``Router.order``: the policy's order, primary first) that has not
failed it yet, as long as it has tries left: ``retries`` more after the first
(``--retries``, default RETRIES), so a request reaches at most ``retries + 1`` nodes and
never the same node twice. With every node of the order tried, or the budget spent, the
request fails (the proxy answers 502).

``next_try`` is that rule, and the only place it is written: the balancer's
``begin_retry`` (``fnlb.app``, called by the proxy's exchange) and the placement
simulator's failover (``fnlb.sim.des``) both ask it, so a simulated request is refused by
no more nodes than a proxied one. (One difference is left, on purpose: a simulated
request whose node crashed while running it gets a fresh pick, within the same budget,
where the proxy takes the order's next node; the published simulator numbers were made
that way.) Pure: no clock, no state.
"""

from __future__ import annotations

from typing import Collection, Iterable

RETRIES = 2     # the default of --retries: tries after the first


def has_tries_left(tried: Collection[str], retries: int = RETRIES) -> bool:
    """True while a request that the nodes in ``tried`` failed may try one more node."""
    return len(tried) <= retries


def next_try(order: Iterable[str], tried: Collection[str], retries: int = RETRIES) -> str | None:
    """The node a request tries next after the nodes in ``tried`` failed it, or None when
    it may try no other (no tries left, or every node of ``order`` failed it)."""
    if len(tried) > retries:    # has_tries_left, inline
        return None
    for node in order:
        if node not in tried:
            return node
    return None
