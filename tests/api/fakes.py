"""A stand-in balancer for the observability handlers' tests (here and tests/observability):
real StatsRecorder and MgmtApp, fake router and registry that answer the read-side contract
with fixed values."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from fnlb.api import observability as api
from fnlb.api.http import MgmtApp, Request
from fnlb.observability.options import ObservabilityConfig
from fnlb.observability.stats import StatsRecorder

T0 = 1_700_000_000.0        # with clock_offset=0, monotonic "now" == Unix seconds


class FakeRouter:
    def __init__(self):
        self.in_flight = {}
        self.containers = None       # {node: int}: the policy's estimate; None: it keeps none
        self.keys = {}               # key -> {node: {"busy": n, "idle": m}}

    def in_flight_by_node(self):
        return dict(self.in_flight)

    def warm_by_node(self, now):
        return None if self.containers is None else dict(self.containers)

    def warm(self, key, now):
        return None if self.containers is None else dict(self.keys.get(key, {}))


class FakeRegistry:
    def __init__(self, nodes):
        self.states = {n: "online" for n in nodes}
        self.errors = {}
        self.checks = {}

    def snapshot(self):
        return dict(self.states)

    def details(self):
        return {n: {"state": "healthy" if s == "online" else "unhealthy", "online": s == "online",
                    "successes": 0, "failures": 0, "last_check": None,
                    "last_error": self.errors.get(n), "version": "0.3.700"}
                for n, s in self.states.items()}

    def check_counts(self):
        return dict(self.checks)


class Clock:
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


def make_balancer(nodes=("127.0.0.1:8080", "127.0.0.1:8081"), **cfg):
    cfg = ObservabilityConfig(**cfg)
    clock = Clock()
    b = SimpleNamespace(cfg=cfg, workers=None, stats=StatsRecorder(cfg, clock_offset=0.0), router=FakeRouter(),
                        registry=FakeRegistry(nodes), mgmt=MgmtApp(), clock=clock)
    api.register(b.mgmt, b, clock=clock)
    return b


def get(balancer, path, query=""):
    return asyncio.run(balancer.mgmt.handle(Request("GET", path, query)))
