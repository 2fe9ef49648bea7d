"""One balancer of ``--workers N`` in the simulator: N routing replicas kept in step after a lag.

Theory of operation
-------------------
``fnlb serve --workers N`` runs N processes, each deciding from its own replica of the
routing state and applying the others' calls (``fnlb.workers.dispatcher``) about a
millisecond late. ``Replicated`` models that behind the ``Router`` interface the
simulator's engine uses (``fnlb.sim.des``): each new request goes to the next replica in
turn (the kernel spreads connections over the workers; per call is the fine-grained
limit of that), that replica decides and counts it at once, and every other replica
applies the call ``lag`` seconds of virtual time later, at the time it happened (clamped
so a replica's time never goes back), as the workers do. ``lag=0`` is one balancer.

The call log is one list in time order (virtual time only grows); each replica keeps its
index into it and skips its own entries. Node-set changes reach every replica at once.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from fnlb.routing.router import Router

STARTED, FINISHED = 0, 1
TRIM = 4096     # log entries every replica has passed are dropped in chunks of at least this


class Replicated:
    def __init__(self, make_router: Callable[[int], Router], workers: int, lag: float):
        self.replicas = [make_router(i) for i in range(workers)]
        self.lag = lag
        self.log: list[tuple] = []          # (t, origin, kind, node, key, wait, latency, status)
        self.cursors = [0] * workers
        self.last = [0.0] * workers
        self.turn = 0
        self.current = 0
        self.owners: dict[tuple[str, str], deque[int]] = {}   # who started the calls in flight

    # -- the Router interface of fnlb.sim.des ---------------------------------------------

    def set_nodes(self, nodes) -> None:
        for r in self.replicas:
            r.set_nodes(nodes)

    @property
    def nodeset(self):
        return self.replicas[self.current].nodeset

    def pick(self, key: str, now: float) -> str | None:
        self.current = i = self.turn
        self.turn = (i + 1) % len(self.replicas)
        self._catch_up(i, now)
        return self.replicas[i].pick(key, now)

    def order(self, key: str, now: float) -> list[str]:
        return self.replicas[self.current].order(key, now)

    def is_primary(self, key: str, node: str) -> bool:
        return self.replicas[self.current].is_primary(key, node)

    def started(self, node: str, key: str, now: float) -> None:
        i = self.current
        self.replicas[i].started(node, key, now)
        self.last[i] = max(self.last[i], now)
        self.owners.setdefault((node, key), deque()).append(i)
        self.log.append((now, i, STARTED, node, key, None, 0.0, 0))

    def finished(self, node: str, key: str, now: float, wait, latency: float, status: int) -> None:
        owners = self.owners.get((node, key))
        i = owners.popleft() if owners else self.current
        if owners is not None and not owners:
            del self.owners[(node, key)]
        self._catch_up(i, now)
        self.replicas[i].finished(node, key, now, wait, latency, status)
        self.last[i] = max(self.last[i], now)
        self.log.append((now, i, FINISHED, node, key, wait, latency, status))

    def in_flight_by_node(self) -> dict[str, int]:
        return self.replicas[0].in_flight_by_node()

    # -- replication ----------------------------------------------------------------------

    def _catch_up(self, i: int, now: float) -> None:
        log, due = self.log, now - self.lag
        k, end = self.cursors[i], len(self.log)
        r, last = self.replicas[i], self.last[i]
        while k < end:
            t, origin, kind, node, key, wait, latency, status = log[k]
            if t > due:
                break
            k += 1
            if origin == i:
                continue
            if t < last:
                t = last
            last = t
            if kind == STARTED:
                r.started(node, key, t)
            else:
                r.finished(node, key, t, wait, latency, status)
        self.cursors[i], self.last[i] = k, last
        low = min(self.cursors)
        if low >= TRIM:
            del log[:low]
            self.cursors = [c - low for c in self.cursors]
