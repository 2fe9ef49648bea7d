"""A function node as a pure state machine: slots, hot containers, cold starts, a queue.

Theory of operation
-------------------
An Fn-style node runs each call of a function ("route", the URL path) in a container.
It has ``slots`` places for containers (its memory). A container serves one call at a
time; when the call ends the container stays *hot* (idle, warm) for ``idle_timeout``
seconds, ready for the next call of the same route, and is then removed.

A call that arrives at ``now``:

1. starts at once, without paying anything, on the most recently used idle hot
   container of its route (the older ones are then the first to expire);
2. otherwise, when fewer than ``slots`` containers exist, starts a new container and
   pays ``cold_start`` seconds before the function runs;
3. otherwise, when an idle container of another route exists, evicts the least recently
   used one (LRU over every idle container) and cold-starts in its slot;
4. otherwise waits in the queue. When a call ends, its container goes to the oldest
   queued call *of its own route* (hot, as Fn's hot containers pull from their route's
   queue); if none waits, the oldest queued call of all takes the slot by evicting that
   container (step 3) and cold-starts.

The queue is thus FIFO per route, and FIFO across routes for the slots that free up.
Handing a freed container to the oldest call overall instead would evict it at once
whenever another route is at the head: under load every call would pay a cold start and
a node at half its capacity collapses (queues of tens of seconds). The price, as on a
real node, is that a route with a lasting backlog keeps its containers, so other routes'
calls there wait until it drains (a balancer should have spilled it).

Invariant: while the queue is not empty, every container is busy and there are ``slots``
of them (otherwise the oldest call would have started); so an arriving call never starts
while others wait.

The *wait* of a call is the time between its arrival and the start of its function:
queueing plus the cold start. The function then runs ``exec_s`` seconds.

No sockets, no event loop, no clock: every method takes the current time ``now`` (any
monotonic seconds; it must never go backwards). Two drivers use this one class:

* ``fnlb sim-node`` (:mod:`fnlb.sim.node_server`) calls :meth:`NodeModel.arrive` when a
  request comes in, sleeps for real (``call.cold_s`` then ``call.exec_s``) once the call
  has started, and calls :meth:`NodeModel.finish` when the function ends; it measures the
  wait it reports with the event loop's clock.
* a discrete-event simulator calls the same methods in virtual time: schedule the end of
  every started call at ``call.ends_at`` and call ``finish`` then; the returned calls
  start at that instant, so schedule their ends in turn.

Idle expiry needs no event: every method first drops containers idle for at least
``idle_timeout`` (so a decision at ``now`` sees exactly the containers alive at ``now``).
:meth:`NodeModel.next_expiry` tells a simulator when the next one would lapse, in case it
wants to sample :meth:`NodeModel.stats` at that instant.

API summary::

    m = NodeModel(slots=4, idle_timeout=30.0, cold_start=0.5)
    call = m.arrive("/r/app/fn", 0.1, now)   # -> Call; call.started is False if queued
    started = m.finish(call, now)            # -> [Call, ...] that start at `now`
    m.cancel(call)                           # a queued call's client went away
    m.expire(now); m.next_expiry(); m.stats(now)
"""

from __future__ import annotations

from collections import deque
from typing import Any


class Container:
    """One container of a route: busy running a call, or idle (hot) since ``idle_since``."""

    __slots__ = ("route", "busy", "idle_since")

    def __init__(self, route: str):
        self.route = route
        self.busy = True
        self.idle_since = 0.0


class Call:
    """One function call. ``tag`` is the driver's own (e.g. the connection to answer)."""

    __slots__ = ("route", "exec_s", "arrived", "tag", "container", "begun", "cold", "cold_s", "queued")

    def __init__(self, route: str, exec_s: float, arrived: float, tag: Any = None):
        self.route = route
        self.exec_s = exec_s
        self.arrived = arrived
        self.tag = tag
        self.container: Container | None = None
        self.begun: float | None = None  # when it got a container (None while queued)
        self.cold = False
        self.cold_s = 0.0  # the cold start it pays before its function runs
        self.queued = False  # waiting for a container

    @property
    def started(self) -> bool:
        return self.begun is not None

    @property
    def run_at(self) -> float:
        """When the function starts (after the cold start). Only for started calls."""
        return self.begun + self.cold_s

    @property
    def ends_at(self) -> float:
        return self.begun + self.cold_s + self.exec_s

    @property
    def wait(self) -> float:
        """The model's wait: queueing plus cold start (the server measures its own)."""
        return self.run_at - self.arrived

    def __repr__(self) -> str:
        state = f"begun={self.begun} cold={self.cold}" if self.started else "queued"
        return f"Call({self.route!r}, exec={self.exec_s}, arrived={self.arrived}, {state})"


class NodeModel:
    def __init__(self, slots: int, idle_timeout: float, cold_start: float):
        if slots < 1:
            raise ValueError("a node needs at least one slot")
        self.slots = slots
        self.idle_timeout = idle_timeout
        self.cold_start = cold_start
        self.containers = 0
        self.busy = 0
        # Every idle container, least recently used first. Times never go backwards, so
        # appending on release keeps this ordered by idle_since.
        self._idle: dict[Container, None] = {}
        # Idle containers per route, oldest first (the same order, per route).
        self._idle_by_route: dict[str, deque[Container]] = {}
        self._busy_by_route: dict[str, int] = {}
        # Queued calls, oldest first. Calls that left it (started from their route's
        # queue, or cancelled) are skipped lazily at the head, so removal stays O(1).
        self._queue: deque[Call] = deque()
        self._queued_by_route: dict[str, deque[Call]] = {}  # the same calls, per route
        self._queued = 0
        self.calls = 0
        self.cold_starts = 0
        self.evictions = 0
        self.expirations = 0

    # -- the driver's calls -------------------------------------------------------------

    def arrive(self, route: str, exec_s: float, now: float, tag: Any = None) -> Call:
        """A call comes in. Returns it started (``call.started``) or queued."""
        self.expire(now)
        self.calls += 1
        call = Call(route, exec_s, now, tag)
        if self._queued or not self._try_start(call, now):
            call.queued = True
            self._queued += 1
            self._queue.append(call)
            self._queued_by_route.setdefault(route, deque()).append(call)
        return call

    def finish(self, call: Call, now: float) -> list[Call]:
        """``call``'s function ended: its container turns hot; returns the calls that start now."""
        self.expire(now)
        box = call.container
        if box is None or not box.busy:
            raise ValueError(f"{call!r} is not running")
        box.busy = False
        box.idle_since = now
        self.busy -= 1
        left = self._busy_by_route[box.route] - 1
        if left:
            self._busy_by_route[box.route] = left
        else:
            del self._busy_by_route[box.route]  # keep the table to the routes in use
        self._idle[box] = None
        self._idle_by_route.setdefault(box.route, deque()).append(box)
        same = self._queued_by_route.get(box.route)
        if same:
            nxt = same[0]  # hot on the container just freed: no eviction, no cold start
        elif self._queued:
            nxt = self._oldest()
        else:
            return []
        self._try_start(nxt, now)
        self._unqueue(nxt)
        return [nxt]

    def cancel(self, call: Call) -> bool:
        """Drop a queued call (its client left). Started calls run to their end."""
        if not call.queued:
            return False
        self._unqueue(call)
        return True

    def expire(self, now: float) -> None:
        """Remove the containers that have been idle for ``idle_timeout`` or longer."""
        while self._idle:
            box = next(iter(self._idle))
            if box.idle_since + self.idle_timeout > now:  # the same sum as next_expiry()
                break
            self._drop_idle(box)
            self.expirations += 1

    def next_expiry(self) -> float | None:
        """The time at which the next idle container lapses, or None when none is idle."""
        if not self._idle:
            return None
        return next(iter(self._idle)).idle_since + self.idle_timeout

    # -- reading ------------------------------------------------------------------------

    @property
    def queue_length(self) -> int:
        return self._queued

    def hot(self) -> dict[str, dict[str, int]]:
        """Containers per route: ``{route: {"busy": n, "idle": m}}`` (routes with any)."""
        out = {}
        for route, n in self._busy_by_route.items():
            out[route] = {"busy": n, "idle": len(self._idle_by_route.get(route, ()))}
        for route, boxes in self._idle_by_route.items():
            if boxes and route not in out:
                out[route] = {"busy": 0, "idle": len(boxes)}
        return out

    def stats(self, now: float) -> dict[str, Any]:
        self.expire(now)
        return {
            "slots": self.slots,
            "calls": self.calls,
            "cold_starts": self.cold_starts,
            "evictions": self.evictions,
            "expirations": self.expirations,
            "queue": self._queued,
            "busy": self.busy,
            "containers": self.containers,
            "hot": self.hot(),
        }

    # -- internals ----------------------------------------------------------------------

    def _try_start(self, call: Call, now: float) -> bool:
        mine = self._idle_by_route.get(call.route)
        if mine:
            box = mine.pop()  # most recently used: let the older ones expire
            del self._idle[box]
            cold = False
        elif self.containers < self.slots:
            box = Container(call.route)
            self.containers += 1
            cold = True
        elif self._idle:
            self._drop_idle(next(iter(self._idle)))  # LRU idle container of another route
            self.evictions += 1
            box = Container(call.route)
            self.containers += 1
            cold = True
        else:
            return False
        box.busy = True
        call.container = box
        call.begun = now
        call.cold = cold
        if cold:
            call.cold_s = self.cold_start
            self.cold_starts += 1
        self.busy += 1
        self._busy_by_route[call.route] = self._busy_by_route.get(call.route, 0) + 1
        return True

    def _oldest(self) -> Call:
        queue = self._queue
        while not queue[0].queued:
            queue.popleft()
        return queue[0]

    def _unqueue(self, call: Call) -> None:
        """Take a call out of the queue (the global deque forgets it lazily)."""
        call.queued = False
        self._queued -= 1
        if not self._queued:
            self._queue.clear()  # drop the stale entries in one go
        same = self._queued_by_route[call.route]
        if same[0] is call:
            same.popleft()
        else:
            same.remove(call)
        if not same:
            del self._queued_by_route[call.route]

    def _drop_idle(self, box: Container) -> None:
        del self._idle[box]
        route_boxes = self._idle_by_route[box.route]
        route_boxes.remove(box)  # almost always the leftmost: the oldest of its route
        if not route_boxes:
            del self._idle_by_route[box.route]
        self.containers -= 1
