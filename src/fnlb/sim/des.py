"""The placement simulator's engine: B balancers and N nodes in virtual time, no sockets.

Theory of operation
-------------------
The engine replays an open-loop stream of requests against a simulated cluster and
records what each request experienced. It owns no model of its own: every node is the
real :class:`fnlb.sim.model.NodeModel` (the one ``fnlb sim-node`` serves over HTTP) and
every balancer is a real :class:`fnlb.routing.router.Router` around a real policy object,
one Router per balancer, so each balancer has its own in-flight counts and wait table, as
separate ``fnlb serve`` processes would.

Time is a float of virtual seconds. Three sources of events are merged in time order:

* **arrivals**: an iterator of ``Arrival(t, key, exec_s, balancer)`` in non-decreasing
  ``t`` (see ``scenarios.py``), pulled one at a time, so memory does not grow with the
  number of requests;
* **call ends**: a heap (``heapq``) of ``(ends_at, seq, call)`` for every call a node has
  started; ``seq`` breaks ties so equal times pop in scheduling order (determinism);
* **cluster changes**: a short sorted list of ``Change(t, action, node)`` (a node goes
  down, comes up, is added; balancers learn of it ``detect`` seconds later, as a health
  check would).

At equal times call ends go first, then changes, then arrivals: a slot freed at ``t`` is
free for a request that arrives at ``t``.

A request's life: its balancer's ``Router.pick`` chooses a node, ``started`` counts it in
flight, and the node's ``arrive`` starts or queues it. When the call ends (its end event,
or when an earlier call's end lets it start and it is scheduled in turn) the node reports
the call's wait (queueing + cold start: what the XXX-FXLB-WAIT header carries) to the
balancer that sent it via ``finished``. A node that is down refuses at once: the balancer
records a 502 and the request fails over as the proxy's does, by the same rule
(``fnlb.routing.failover.next_try``): the next node of the policy's order that has not
failed it, at most ``retries`` times after the first try (the proxy's ``--retries``, same
default), each down node tried on the way refusing it in turn. The requests a node held
when it went down fail there and are sent again (a new pick, within the same budget). A
request that runs out of nodes or of tries completes with an error. Every request
therefore completes exactly once (``Outcome.completed == Outcome.arrived``).

Randomness is never drawn here: the arrival stream and the policies each have their own
seeded ``random.Random``, so a run is a pure function of its inputs and every policy
sees exactly the same requests.
"""

from __future__ import annotations

import heapq
from array import array
from dataclasses import dataclass, field
from typing import Callable, Iterable, NamedTuple

from fnlb.routing.failover import RETRIES, has_tries_left, next_try
from fnlb.routing.router import Router
from fnlb.sim.model import NodeModel


class Arrival(NamedTuple):
    t: float         # virtual seconds
    key: str         # the routing key (function path)
    exec_s: float    # the function's execution time for this call
    balancer: int    # index of the balancer the client reached


class Change(NamedTuple):
    t: float
    action: str      # "down", "up" (a down node recovers, empty), "add" (a new node) or
                     # "resize" (the node's slots change by ``slots``: the pooled floor's changes)
    node: str
    slots: int = 0


@dataclass(frozen=True)
class NodeConfig:
    slots: int = 16
    idle_timeout: float = 30.0
    cold_start: float = 0.3
    on_busy: str = "cold"       # NodeModel's choice when a call's route has no idle container

    def new_model(self) -> NodeModel:
        """An empty node (at the start, after a crash, on recovery)."""
        return NodeModel(self.slots, self.idle_timeout, self.cold_start, self.on_busy)


class _Node:
    """The engine's view of one node: its model (replaced by a fresh one on recovery)."""

    __slots__ = ("name", "model", "up", "outstanding", "busy_s", "up_since", "up_total", "retired", "resized")

    def __init__(self, name: str, cfg: NodeConfig, now: float):
        self.name = name
        self.model = cfg.new_model()
        self.retired: list[NodeModel] = []  # models of earlier lives (their counters still count)
        self.up = True
        self.outstanding: dict = {}  # call -> None: calls started or queued here
        self.busy_s = 0.0            # slot-seconds occupied (cold starts included)
        self.up_since = now
        self.up_total = 0.0
        self.resized: list[tuple[float, int]] = []  # (time, slots added): for its utilisation


class _Req:
    """One request across its attempts (the Call's ``tag``)."""

    __slots__ = ("t0", "key", "exec_s", "balancer", "tried", "node")

    def __init__(self, t0: float, key: str, exec_s: float, balancer: int):
        self.t0 = t0
        self.key = key
        self.exec_s = exec_s
        self.balancer = balancer
        self.tried: list[str] | None = None  # nodes that failed this request (rarely set)
        self.node: _Node | None = None       # where the current attempt runs


@dataclass
class Outcome:
    """Everything a run measured. Arrays are in completion order."""

    arrived: int = 0
    completed: int = 0
    errors: int = 0
    retries: int = 0
    spilled: int = 0                                            # sent to a node other than the key's primary
    latency: array = field(default_factory=lambda: array("d"))  # seconds, successful requests
    wait: array = field(default_factory=lambda: array("d"))     # the node-reported wait of the answering call
    done_at: array = field(default_factory=lambda: array("d"))  # completion times (for timelines)
    cold: array = field(default_factory=lambda: array("b"))     # 1 when the answering call was cold
    cold_starts: int = 0
    evictions: int = 0
    util_by_node: dict = field(default_factory=dict)            # node -> busy slot-seconds / (slots * up time)
    moved: int = 0                                              # keys whose main node changed across changes
    moved_of: int = 0                                           # ... out of keys seen on both sides
    end_time: float = 0.0


class _MoveWatch:
    """Which node serves each key most, in a window before and after each cluster change.

    A key *moved* if its most-used node differs between the two windows; only keys seen
    in both count. Windows: ``[tc - span, tc)`` and ``[tc + settle, tc + settle + span)``.
    """

    def __init__(self, times: list[float], span: float, settle: float):
        # (start, end, counters); counters: key -> {node: n}
        self.windows: list[tuple[float, float, dict[str, dict[str, int]]]] = []
        for tc in times:
            self.windows.append((tc - span, tc, {}))
            self.windows.append((tc + settle, tc + settle + span, {}))
        self.windows.sort(key=lambda w: w[0])

    def record(self, t: float, key: str, node: str) -> None:
        for start, end, counts in self.windows:
            if start <= t < end:
                by_node = counts.setdefault(key, {})
                by_node[node] = by_node.get(node, 0) + 1

    def moved(self) -> tuple[int, int]:
        moved = seen = 0
        ws = self.windows
        for before, after in zip(ws[0::2], ws[1::2]):
            for key, counts in before[2].items():
                later = after[2].get(key)
                if later:
                    seen += 1
                    # max() keeps the first of ties; nodes are inserted in request order (deterministic).
                    moved += max(counts, key=lambda n: counts[n]) != max(later, key=lambda n: later[n])
        return moved, seen


class Cluster:
    """One simulation run. ``make_router(b)`` returns balancer ``b``'s Router (nodes unset);
    ``retries`` is the failover budget, tries after the first (the proxy's ``--retries``)."""

    def __init__(self, nodes: Iterable[str], balancers: int, make_router: Callable[[int], Router],
                 node_cfg: NodeConfig = NodeConfig(), changes: Iterable[Change] = (),
                 detect: float = 3.0, move_span: float = 10.0, move_settle: float = 5.0,
                 retries: int = RETRIES):
        self.cfg = node_cfg
        self.detect = detect
        self.retries = retries
        self.nodes: dict[str, _Node] = {name: _Node(name, node_cfg, 0.0) for name in nodes}
        self.routers = [make_router(b) for b in range(balancers)]
        for router in self.routers:
            router.set_nodes(self.nodes)
        # What the balancers see: (time, names) updates, derived from the changes.
        self.changes = sorted(changes, key=lambda c: c.t)
        self.views: list[tuple[float, int, str, str]] = []  # (t, seq, action, node) applied to routers
        for i, ch in enumerate(self.changes):
            if ch.action != "resize":  # the pooled node's: no balancer decides anything there
                self.views.append((ch.t + detect, i, ch.action, ch.node))
        self.views.sort()
        self.watch = _MoveWatch([v[0] for v in self.views], move_span, move_settle) if self.views else None
        self.out = Outcome()
        self._heap: list = []
        self._seq = 0

    # -- the loop -------------------------------------------------------------------------

    def run(self, arrivals: Iterable[Arrival]) -> Outcome:
        heap = self._heap
        pop = heapq.heappop
        pending = [(c.t, 0, c) for c in self.changes] + [(v[0], 1, v) for v in self.views]
        pending.sort(key=lambda p: (p[0], p[1]))
        pending.reverse()  # pop() from the end = the earliest
        inf = float("inf")
        next_change = pending[-1][0] if pending else inf
        now = 0.0
        out = self.out
        for arrival in arrivals:
            t = arrival.t
            while True:
                t_end = heap[0][0] if heap else inf
                if t_end <= t and t_end <= next_change:
                    now, _, call = pop(heap)
                    self._end(call, now)
                elif next_change <= t:
                    now, kind, item = pending.pop()
                    self._apply(kind, item, now)
                    next_change = pending[-1][0] if pending else inf
                else:
                    break
            now = t
            out.arrived += 1
            req = _Req(t, arrival.key, arrival.exec_s, arrival.balancer)
            self._dispatch(req, now)
        # Drain: the calls still running, and the remaining changes.
        while heap or pending:
            t_end = heap[0][0] if heap else inf
            if t_end <= next_change:
                now, _, call = pop(heap)
                self._end(call, now)
            else:
                now, kind, item = pending.pop()
                self._apply(kind, item, now)
                next_change = pending[-1][0] if pending else inf
        return self._finish(now)

    # -- a request ------------------------------------------------------------------------

    def _dispatch(self, req: _Req, now: float) -> None:
        router = self.routers[req.balancer]
        key = req.key
        node_name = router.pick(key, now)
        node = self.nodes.get(node_name) if node_name is not None else None
        if node is None or not node.up or (req.tried and node_name in req.tried):
            node = self._failover(req, router, node, now)
            if node is None:
                return
        node_name = node.name
        router.started(node_name, key, now)
        if not router.is_primary(key, node_name):
            self.out.spilled += 1
        if self.watch is not None:
            self.watch.record(now, key, node_name)
        req.node = node
        call = node.model.arrive(key, req.exec_s, now, req)
        node.outstanding[call] = None
        if call.begun is not None:
            self._schedule(call)

    def _failover(self, req: _Req, router: Router, first, now: float):
        """The picked node is down (or failed this request): the next node ``next_try``
        names that is up, each down one on the way refusing the request; None (the request
        failed) when it names none."""
        if first is not None and not first.up and not (req.tried and first.name in req.tried):
            self._refused(req, router, first.name, now)
        order = router.order(req.key, now)
        # The routers only know nodes of self.nodes (changes add to it before they see them).
        while (name := next_try(order, req.tried or (), self.retries)) is not None:
            node = self.nodes[name]
            if node.up:
                return node
            self._refused(req, router, name, now)
        self._fail()
        return None

    def _fail(self) -> None:
        """The request completes with an error (no node, or no try, left for it)."""
        self.out.errors += 1
        self.out.completed += 1

    def _refused(self, req: _Req, router: Router, name: str, now: float) -> None:
        router.started(name, req.key, now)
        router.finished(name, req.key, now, None, 0.0, 502)
        self.out.retries += 1
        if req.tried is None:
            req.tried = []
        req.tried.append(name)

    def _schedule(self, call) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (call.ends_at, self._seq, call))

    def _end(self, call, now: float) -> None:
        req: _Req = call.tag
        node = req.node
        if node is None or call not in node.outstanding:
            return  # the node went down after this call started: it was already failed over
        del node.outstanding[call]
        for started in node.model.finish(call, now):
            self._schedule(started)
        node.busy_s += now - call.begun
        wait = call.wait
        latency = now - req.t0
        self.routers[req.balancer].finished(node.name, req.key, now, wait, latency, 200)
        out = self.out
        out.completed += 1
        out.latency.append(latency)
        out.wait.append(wait)
        out.done_at.append(now)
        out.cold.append(call.cold)

    # -- cluster changes ------------------------------------------------------------------

    def _apply(self, kind: int, item, now: float) -> None:
        if kind == 0:  # the node itself changes
            change: Change = item
            if change.action == "down":
                self._down(self.nodes[change.node], now)
            elif change.action == "up":
                self._up(self.nodes[change.node], now)
            elif change.action == "add":
                self.nodes[change.node] = _Node(change.node, self.cfg, now)
            elif change.action == "resize":
                node = self.nodes[change.node]
                node.resized.append((now, change.slots))
                for started in node.model.resize(node.model.slots + change.slots, now):
                    self._schedule(started)
            else:
                raise ValueError(f"unknown cluster change {change.action!r}")
        else:  # the balancers' health checks notice it
            live = [name for name, node in self.nodes.items() if node.up]
            for router in self.routers:
                router.set_nodes(live)

    def _down(self, node: _Node, now: float) -> None:
        node.up = False
        node.up_total += now - node.up_since
        held = list(node.outstanding)  # started or queued, in the order they arrived here
        node.outstanding.clear()
        for call in held:
            if call.begun is not None:
                node.busy_s += now - call.begun  # the slot was busy until the crash
        node.retired.append(node.model)
        node.model = self.cfg.new_model()
        for call in held:
            req: _Req = call.tag
            router = self.routers[req.balancer]
            router.finished(node.name, req.key, now, None, now - call.arrived, 502)
            self.out.retries += 1
            if req.tried is None:
                req.tried = []
            req.tried.append(node.name)
            if has_tries_left(req.tried, self.retries):
                self._dispatch(req, now)
            else:
                self._fail()

    def _up(self, node: _Node, now: float) -> None:
        node.up = True
        node.up_since = now
        node.model = self.cfg.new_model()

    def _finish(self, now: float) -> Outcome:
        out = self.out
        out.end_time = now
        for node in self.nodes.values():
            if node.up:
                node.up_total += now - node.up_since
            for model in (*node.retired, node.model):
                out.cold_starts += model.cold_starts
                out.evictions += model.evictions
            capacity = node.up_total * self.cfg.slots + sum(d * (now - t) for t, d in node.resized)
            out.util_by_node[node.name] = node.busy_s / capacity if capacity > 0 else 0.0
        if self.watch is not None:
            out.moved, out.moved_of = self.watch.moved()
        return out
