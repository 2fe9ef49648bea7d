"""The health of one node: a pure state machine.

Theory of operation
-------------------
Everything that decides whether a node is routed to lives here; the scheduler
(``fnlb.nodes.registry``) and the HTTP check (``fnlb.nodes.checker``) only feed it events.
There are no sockets, clocks or tasks in this module, so every rule is a unit test.

A node is in one of three states::

    UNKNOWN ──first good check──▶ HEALTHY ◀──healthy_after good checks in a row──┐
       │                             │                                           │
       └──first failed check──▶ UNHEALTHY ◀──unhealthy_after failed checks──────┘
                                     ▲       or passive_unhealthy failed requests
                                     └──────────────────────────────────────────┘

Only HEALTHY nodes are *online* (routed to). A node just added is UNKNOWN, so it is
offline until its first good check; one check, good or bad, settles it.

Four events feed the machine. ``CHECK_OK`` / ``CHECK_FAILED`` are active health-check
results; ``PASSIVE_FAILED`` is a request the data path could not deliver to the node
(refused, reset, timed out before any response byte). Each event first updates counters
(``_COUNT``), then the transition table (``TRANSITIONS``) says which state the event may
lead to and which counter must have reached which threshold for that to happen. A state
change clears every counter except the one that caused it, so thresholds always count from
the change (a node taken offline by failed requests needs ``healthy_after`` fresh good
checks) while ``details()`` still shows, say, "2 successes" right after coming back.

``PASSIVE_OK`` (a request that got a response) is the hot path: it only resets the passive
failure count, so the registry does that with a single attribute store and never calls in.
Passive events matter only while the node is HEALTHY: they take it offline between active
checks, but only active checks bring a node back.
"""

from __future__ import annotations

from dataclasses import dataclass

UNKNOWN = "unknown"
HEALTHY = "healthy"
UNHEALTHY = "unhealthy"

CHECK_OK = "check_ok"
CHECK_FAILED = "check_failed"
PASSIVE_FAILED = "passive_failed"


@dataclass(frozen=True)
class Thresholds:
    """How many events in a row a transition needs. No defaults here: they are the flags'
    (``NodesConfig.thresholds``, ``options.py``)."""

    healthy_after: int        # --hc-healthy
    unhealthy_after: int      # --hc-unhealthy
    passive_unhealthy: int    # --hc-passive-unhealthy


# (state, event) -> (next state, threshold that the event's counter must reach, or None
# for "at once"). Pairs not listed leave the state as it is.
TRANSITIONS: dict[tuple[str, str], tuple[str, str | None]] = {
    (UNKNOWN, CHECK_OK): (HEALTHY, None),
    (UNKNOWN, CHECK_FAILED): (UNHEALTHY, None),
    (HEALTHY, CHECK_FAILED): (UNHEALTHY, "unhealthy_after"),
    (HEALTHY, PASSIVE_FAILED): (UNHEALTHY, "passive_unhealthy"),
    (UNHEALTHY, CHECK_OK): (HEALTHY, "healthy_after"),
}

# event -> (counter it increments, counter it resets)
_COUNT: dict[str, tuple[str, str | None]] = {
    CHECK_OK: ("successes", "failures"),
    CHECK_FAILED: ("failures", "successes"),
    PASSIVE_FAILED: ("passive_failures", None),
}

# which counter a threshold is compared with
_COUNTER_OF = {"healthy_after": "successes", "unhealthy_after": "failures",
               "passive_unhealthy": "passive_failures"}


class Health:
    """The state and consecutive-event counters of one node."""

    __slots__ = ("thresholds", "state", "successes", "failures", "passive_failures")

    def __init__(self, thresholds: Thresholds):
        self.thresholds = thresholds
        self.state = UNKNOWN
        self.successes = 0          # consecutive good active checks
        self.failures = 0           # consecutive failed active checks
        self.passive_failures = 0   # consecutive failed requests (reset by any good one)

    @property
    def online(self) -> bool:
        return self.state == HEALTHY

    def handle(self, event: str) -> bool:
        """Apply one event; True if the node went online or offline because of it."""
        if event == PASSIVE_FAILED and self.state != HEALTHY:
            return False  # nothing to take offline; do not let stale counts pile up
        up, reset = _COUNT[event]
        setattr(self, up, getattr(self, up) + 1)
        if reset is not None:
            setattr(self, reset, 0)
        rule = TRANSITIONS.get((self.state, event))
        if rule is None:
            return False
        next_state, threshold = rule
        if threshold is not None and getattr(self, _COUNTER_OF[threshold]) < getattr(self.thresholds, threshold):
            return False
        was_online = self.online
        self.state = next_state
        for counter in ("successes", "failures", "passive_failures"):
            if counter != up:
                setattr(self, counter, 0)
        return self.online != was_online
