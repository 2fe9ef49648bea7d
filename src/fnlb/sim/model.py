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
2. otherwise, with ``on_busy="queue"`` only, waits for a busy container of its own route
   when one will free in less than ``cold_start`` (waiting is then cheaper than a cold
   start; see below);
3. otherwise, when fewer than ``slots`` containers exist, starts a new container and
   pays ``cold_start`` seconds before the function runs;
4. otherwise, when an idle container of another route exists, evicts the least recently
   used one (LRU over every idle container) and cold-starts in its slot;
5. otherwise waits in the queue for a slot. When a call ends, its container goes to the
   oldest queued call *of its own route* (hot, as Fn's hot containers pull from their
   route's queue); if none waits, the oldest call queued for a slot takes the slot by
   evicting that container (step 4) and cold-starts.

The queue is thus FIFO per route, and FIFO across routes for the slots that free up.
Handing a freed container to the oldest call overall instead would evict it at once
whenever another route is at the head: under load every call would pay a cold start and
a node at half its capacity collapses (queues of tens of seconds). The price, as on a
real node, is that a route with a lasting backlog keeps its containers, so other routes'
calls there wait until it drains (a balancer should have spilled it).

Invariant: while a call waits *for a slot*, every container is busy and there are
``slots`` of them (otherwise the oldest such call would have started); so an arriving
call never takes a slot while others wait for one. Calls waiting for a busy container of
their route (step 2) are not in that queue: they wait by choice, not for lack of room,
and block no other route's calls from starting.

Step 2, waiting for a busy container: the model knows when each busy container frees,
at its call's ``ends_at``, and freed containers of a route go to the route's queued
calls oldest first; so the *k*-th queued call of a route (counting every queued call of
it, whatever it waits for) has a container at the latest when the *k*-th of the route's
busy containers frees: that container is *promised* to it. An arriving call looks at the
first busy container not promised: if it frees before ``now + cold_start`` the call
queues for its route, otherwise it goes on to step 3. The promise can only improve: the
route's busy containers stay busy until they free and are handed on, an earlier queued
call that starts another way or is cancelled moves the later ones up, and new containers
of the route are more to free. Such a call therefore always starts hot, with a wait
below ``cold_start`` (in ``fnlb sim-node``, give or take the event loop's timer
lateness). With ``cold_start`` 0 no call ever waits this way.

``on_busy="cold"`` (the default, and what the simulator's published numbers use) skips
step 2: a call never waits while a slot can be had, even for a container of its route
that is about to free.

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

    m = NodeModel(slots=4, idle_timeout=30.0, cold_start=0.5)   # on_busy="cold" (or "queue")
    call = m.arrive("/r/app/fn", 0.1, now)   # -> Call; call.started is False if queued
    started = m.finish(call, now)            # -> [Call, ...] that start at `now`
    m.cancel(call)                           # a queued call's client went away
    m.resize(slots, now)                     # -> [Call, ...]: the memory changed (the pooled floor)
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

    __slots__ = ("route", "exec_s", "arrived", "tag", "container", "begun", "cold", "cold_s", "queued",
                 "queued_hot")

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
        self.queued_hot = False  # it waited for a busy container of its route (stays set)

    @property
    def started(self) -> bool:
        return self.begun is not None

    @property
    def run_at(self) -> float:
        """When the function starts (after the cold start). Only for started calls."""
        return self.begun + self.cold_s  # type: ignore[operator]  # set once started

    @property
    def ends_at(self) -> float:
        return self.begun + self.cold_s + self.exec_s  # type: ignore[operator]  # set once started

    @property
    def wait(self) -> float:
        """The model's wait: queueing plus cold start (the server measures its own)."""
        return self.run_at - self.arrived

    def __repr__(self) -> str:
        state = f"begun={self.begun} cold={self.cold}" if self.started else "queued"
        return f"Call({self.route!r}, exec={self.exec_s}, arrived={self.arrived}, {state})"


ON_BUSY = ("cold", "queue")  # what a call does when its route has no idle container


class NodeModel:
    def __init__(self, slots: int, idle_timeout: float, cold_start: float, on_busy: str = "cold"):
        if slots < 1:
            raise ValueError("a node needs at least one slot")
        if on_busy not in ON_BUSY:
            raise ValueError(f"on_busy must be one of {', '.join(ON_BUSY)}, not {on_busy!r}")
        self.slots = slots
        self.idle_timeout = idle_timeout
        self.cold_start = cold_start
        self.on_busy = on_busy
        self._wait_hot = on_busy == "queue"  # step 2 of the docstring
        self.containers = 0
        self.busy = 0
        # Every idle container, least recently used first. Times never go backwards, so
        # appending on release keeps this ordered by idle_since.
        self._idle: dict[Container, None] = {}
        # Idle containers per route, oldest first (the same order, per route).
        self._idle_by_route: dict[str, deque[Container]] = {}
        # The running calls per route (their containers are the route's busy ones): step 2
        # reads when they end.
        self._busy_by_route: dict[str, dict[Call, None]] = {}
        # Calls queued for a slot, oldest first. Calls that left it (started from their
        # route's queue, or cancelled) are skipped lazily at the head, so removal stays O(1).
        self._queue: deque[Call] = deque()
        self._queued = 0
        # Every queued call per route, oldest first: those queued for a slot and those
        # waiting for a busy container of their route (step 2; in no other queue).
        self._queued_by_route: dict[str, deque[Call]] = {}
        self._queued_for_route = 0  # calls waiting for a busy container of their route now
        self.calls = 0
        self.cold_starts = 0
        self.evictions = 0
        self.expirations = 0
        self.queued_hot = 0  # calls so far that waited for a busy container of their route

    # -- the driver's calls -------------------------------------------------------------

    def arrive(self, route: str, exec_s: float, now: float, tag: Any = None) -> Call:
        """A call comes in. Returns it started (``call.started``) or queued."""
        self.expire(now)
        self.calls += 1
        call = Call(route, exec_s, now, tag)
        if self._wait_hot and not self._idle_by_route.get(route) and self._frees_in_time(route, now):
            # Step 2: queued for its route only, so it holds up no one waiting for a slot.
            call.queued_hot = True
            self.queued_hot += 1
            self._queued_for_route += 1
            self._enqueue(call)
        elif self._queued or not self._try_start(call, now):  # others wait for a slot: no slot is free
            self._queued += 1
            self._queue.append(call)
            self._enqueue(call)
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
        running = self._busy_by_route[box.route]
        del running[call]
        if not running:
            del self._busy_by_route[box.route]  # keep the table to the routes in use
        self._idle[box] = None
        self._idle_by_route.setdefault(box.route, deque()).append(box)
        if self.containers > self.slots:
            self._shrink()  # the node shrank while this container was busy (resize)
        same = self._queued_by_route.get(box.route)
        if same:
            nxt = same[0]  # hot on the container just freed: no eviction, no cold start
        elif self._queued:
            nxt = self._oldest()
        else:
            return []
        if not self._try_start(nxt, now):
            return []  # the node shrank (resize): the container is gone and no slot is free
        self._unqueue(nxt)
        return [nxt]

    def resize(self, slots: int, now: float) -> list[Call]:
        """The node's memory changes to ``slots`` (the pooled floor of a cluster that
        loses or gains a node); returns the calls that start now. Shrinking drops idle
        containers, least recently used first, until the rest fit; busy containers over
        the new size are dropped as their calls end (``finish``). Growing starts calls
        waiting for a slot."""
        if slots < 1:
            raise ValueError("a node needs at least one slot")
        self.expire(now)
        self.slots = slots
        self._shrink()
        started = []
        while self._queued and self.containers < self.slots:
            nxt = self._oldest()
            self._try_start(nxt, now)
            self._unqueue(nxt)
            started.append(nxt)
        return started

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
        """Calls waiting now: for a slot, or for a busy container of their route."""
        return self._queued + self._queued_for_route

    @property
    def slot_queue_length(self) -> int:
        """Calls waiting for a slot now (while any does, every slot is busy)."""
        return self._queued

    def hot(self) -> dict[str, dict[str, int]]:
        """Containers per route: ``{route: {"busy": n, "idle": m}}`` (routes with any)."""
        out = {}
        for route, running in self._busy_by_route.items():
            out[route] = {"busy": len(running), "idle": len(self._idle_by_route.get(route, ()))}
        for route, boxes in self._idle_by_route.items():
            if boxes and route not in out:
                out[route] = {"busy": 0, "idle": len(boxes)}
        return out

    def stats(self, now: float) -> dict[str, Any]:
        self.expire(now)
        return {
            "slots": self.slots,
            "on_busy": self.on_busy,
            "calls": self.calls,
            "cold_starts": self.cold_starts,
            "evictions": self.evictions,
            "expirations": self.expirations,
            "queued_hot": self.queued_hot,
            "queue": self.queue_length,
            "queue_hot": self._queued_for_route,
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
        running = self._busy_by_route.get(call.route)
        if running is None:
            running = self._busy_by_route[call.route] = {}
        running[call] = None
        return True

    def _frees_in_time(self, route: str, now: float) -> bool:
        """Step 2: will a busy container of ``route`` not promised to a queued call free
        before a new one could have cold-started?"""
        running = self._busy_by_route.get(route)
        if not running:
            return False
        ahead = len(self._queued_by_route.get(route, ()))  # each is promised one, in order of freeing
        if ahead >= len(running):
            return False
        # A route has at most `slots` busy containers: sorting them is cheap.
        frees_at = sorted(c.ends_at for c in running)[ahead]
        return frees_at - now < self.cold_start

    def _enqueue(self, call: Call) -> None:
        call.queued = True
        self._queued_by_route.setdefault(call.route, deque()).append(call)

    def _oldest(self) -> Call:
        queue = self._queue
        while not queue[0].queued:
            queue.popleft()
        return queue[0]

    def _unqueue(self, call: Call) -> None:
        """Take a call out of the queue (the slot queue's deque forgets it lazily)."""
        call.queued = False
        if call.queued_hot:
            self._queued_for_route -= 1
        else:
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

    def _shrink(self) -> None:
        while self.containers > self.slots and self._idle:
            self._drop_idle(next(iter(self._idle)))

    def _drop_idle(self, box: Container) -> None:
        del self._idle[box]
        route_boxes = self._idle_by_route[box.route]
        route_boxes.remove(box)  # almost always the leftmost: the oldest of its route
        if not route_boxes:
            del self._idle_by_route[box.route]
        self.containers -= 1
