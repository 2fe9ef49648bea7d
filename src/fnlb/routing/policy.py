"""The placement-policy interface, its parameters, and the state every policy observes.

Theory of operation
-------------------
A policy answers one question, *which node for this key now*, given a ``NodeSet`` (the
sorted healthy nodes and each key's primary and spill orders), and it observes the
outcome of each request. It is a plain object: no sockets, no event loop, no clock (time
comes in as ``now``, seconds on any monotonic or virtual scale) and no global randomness
(``rng`` is an injected ``random.Random``). The proxy drives it through ``Router``; the
placement simulator may drive a policy directly in virtual time.

Every policy owns the two observation tables, fed the same way whatever the policy (so
the dashboard shows waits under any policy):

* ``inflight`` (``InFlight``): requests started and not finished, per node;
* ``waits`` (``WaitTable``): the time-aware EWMA of reported waits per (node, key).

A policy overrides ``choose`` (and ``order`` when its spill order is not the key's
rendezvous order); one that observes more (the default policy) extends ``started`` and
``finished``. ``choose`` is only called with at least one node. ``begin`` is ``choose``
then ``started`` in one call (what the proxy calls per request); a policy may override it
to share work between the two, provided it decides exactly as the separate calls do
(the simulator makes the separate calls).

``decide`` answers "why": the node ``choose`` would return and a reason from ``REASONS``.
The base class says only whether that is the key's home (``home``) or not (``spill``); the
default policy implements ``choose`` as ``decide`` and says which step of its rule decided,
without changing its state, so ``GET /1/lb/route`` and ``fnlb route --explain`` give the
policy's own reason, not a re-derivation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from fnlb.routing.inflight import InFlight
from fnlb.routing.nodeset import NodeSet
from fnlb.routing.waits import WaitTable

# What ``Policy.decide`` may answer, and what each reason means (for people: the API's "why").
REASONS = {
    "home": "the key's home (its jump-hash primary); for the default policy: with an idle container of the key",
    "spill": "a node other than the key's home, by the policy's rule",
    "warm": "an idle container of the key there: the first node of its spill order that has one",
    "crowded": "an idle container of the key there, though the node holds more containers than the "
               "bound: no less crowded node has one",
    "grow": "no idle container of the key anywhere: a new one on the first node of its order with "
            "room (one that holds the key first)",
    "queue": "no idle container of the key, but busy ones on this node, which queues a call for a "
             "busy container of its function before starting one (--on-busy queue): the call waits "
             "there rather than starting a container elsewhere",
    "shared": "no container of the key known to this balancer, which shares the nodes with other "
              "balancers (calls sent to start a container often find one warm): home, where every "
              "balancer starts the key",
    "full": "no idle container of the key and no node with room (or every one slow): its first "
            "node that holds it, else home",
}


@dataclass(frozen=True)
class Params:
    """Tunables of all policies, and the single definition of their defaults. Field names
    are the flags' attribute names (``routing/options.py``; ``RoutingConfig.params``)."""

    bounded_factor: float = 1.25    # --policy bounded: in-flight bound, multiple of the mean
    wait_table_size: int = 100_000  # (node, key) averages kept, LRU-evicted
    wait_grace: float = 1.0         # seconds a wait average counts in full after its last sample
    wait_fade: float = 3.0          # then seconds over which it fades to nothing
    spill_wait: float = 0.25        # default, sticky: a wait up to this keeps the key on the node
    spill_wait_max: float = 1.0     # sticky: at this wait or more, keep only spill_keep of traffic
    spill_keep: float = 0.1         # sticky: share of traffic a very slow node still gets (probes)
    spill_gain: float = 4.0         # sticky: spill only to a node expected this many times faster
    warm_window: float = 10.0       # default: an idle container is counted on this long (the nodes' idle timeout)
    warm_factor: float = 1.0        # default: a node takes new containers up to this multiple of the mean (+1)
    cold_wait: float = 0.2          # default: a reported wait this long or longer was a cold start
    load_floor: int = 4             # default, sticky: never skip a node for load below this many (containers / in flight)
    load_factor: float = 1.25       # sticky: in-flight bound as a multiple of the mean
    hot_window: float = 20.0        # sticky: a key's recent peak in flight on a node counts as its hot containers this long (0: off)
    hot_factor: float = 1.35        # sticky: a node takes calls that reuse idle hot containers up to this multiple of the bound


class Policy:
    name = ""

    def __init__(self, params: Params | None = None, rng: random.Random | None = None):
        self.params = params or Params()
        self.rng = rng if rng is not None else random.Random()
        self.inflight = InFlight()
        self.waits = WaitTable(self.params.wait_table_size, self.params.wait_grace, self.params.wait_fade)

    def choose(self, key: str, nodes: NodeSet, now: float) -> str:
        raise NotImplementedError

    def begin(self, key: str, nodes: NodeSet, now: float) -> str:
        """``choose`` and ``started`` in one call (the proxy's; a policy may share work)."""
        node = self.choose(key, nodes, now)
        self.started(node, key, now)
        return node

    def decide(self, key: str, nodes: NodeSet, now: float) -> tuple[str, str]:
        """(node, reason): what ``choose`` returns and why (a key of ``REASONS``). Here only
        home or not; a policy with more to say overrides it (and then makes ``choose`` use it)."""
        node = self.choose(key, nodes, now)
        return node, "home" if node == nodes.home(key) else "spill"

    def order(self, key: str, nodes: NodeSet, now: float) -> list[str]:
        """Nodes in the order this policy would try them for the key, primary first."""
        return nodes.spill_order(key)

    def started(self, node: str, key: str, now: float) -> None:
        self.inflight.start(node)

    def finished(self, node: str, key: str, now: float, wait: float | None, latency: float, status: int) -> None:
        """A request ended. ``wait`` is None when the node sent no valid XXX-FXLB-WAIT
        (including status 502: it failed before answering)."""
        self.inflight.finish(node)
        if wait is not None:
            self.observe_wait(node, key, wait, now)

    def observe_wait(self, node: str, key: str, wait: float, now: float) -> None:
        self.waits.add(node, key, wait, now)
