"""The Dispatcher: the four calls the data path makes, the whole of what it knows of routing.

Theory of operation
-------------------
The proxy never sees routing, the node list or observability; it holds one object that
answers these four calls (``fnlb.app.Balancer`` in fnlb, a stub in bench/roundtrip.py).
``now`` is the caller's ``time.monotonic()``, read once and shared by everything done for
that event:

* ``begin(key, now)`` picks a node for a new request and counts the request as sent to it
  (None when no node is healthy; then nothing was counted);
* then exactly one of
  ``request_done(node, key, status, latency, wait_header, now)`` when the exchange ended
  (status is the node's status; 499 if the client went away first; 0 if the node broke
  the connection after part of the response was sent; 502/504 when fnlb answered), or
  ``upstream_failed(node, key, now)`` when the node refused, reset or timed out before any
  byte of the response (a passive health failure; the proxy then asks
  ``begin_retry(key, tried, now)``, which is ``begin`` for the node that
  ``fnlb.routing.failover.next_try`` names: the next node of the key's order that is not in
  ``tried``, or None once the request has used its failover budget, ``--retries``; a node
  it returns is again followed by exactly one of the two).

``tried`` lists the nodes that failed the request, in order; the proxy owns it and only
appends to it. ``latency`` is seconds since ``begin``; ``wait_header`` is the raw
``XXX-FXLB-WAIT`` value the node sent (None without one).

The exchange (exchange.py) keeps that promise in ``_report``. The protocol is
``runtime_checkable`` so that a test can assert that the Balancer provides all four calls
(``isinstance`` checks the names, not the signatures: those are for the type checker).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Dispatcher(Protocol):
    def begin(self, key: str, now: float) -> str | None: ...

    def begin_retry(self, key: str, tried: list[str], now: float) -> str | None: ...

    def request_done(self, node: str, key: str, status: int, latency: float, wait_header: bytes | None,
                     now: float) -> None: ...

    def upstream_failed(self, node: str, key: str, now: float) -> None: ...
