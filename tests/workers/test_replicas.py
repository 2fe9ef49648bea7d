"""Worker dispatchers on shared rings place every call as one balancer would (no processes)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from fnlb.config.goduration import format_seconds
from fnlb.routing.options import RoutingConfig
from fnlb.routing.policies import POLICIES
from fnlb.routing.router import build_router
from fnlb.workers import events
from fnlb.workers.dispatcher import WorkerDispatcher
from fnlb.workers.ring import RingReader, RingWriter, init_segment, segment_bytes

NODES = ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080", "10.0.0.4:8080"]


def segment(size: int = 1 << 20):
    buf = bytearray(segment_bytes(size))
    init_segment(buf, size)
    return buf


def workers(n: int, cfg: RoutingConfig, catch_up: float = 0.0):
    rings = [segment() for _ in range(n)]
    control = segment()
    RingWriter(control).write(events.Encoder().nodes(NODES, 0.0))
    return [WorkerDispatcher(build_router(cfg), 2, RingWriter(rings[i]),
                             [RingReader(rings[j], 0) for j in range(n) if j != i], RingReader(control, 0),
                             catch_up=catch_up)
            for i in range(n)]


def drive(dispatchers, cfg: RoutingConfig, seed: int = 1):
    """The same calls through one router and through the dispatchers in turn; both pick lists."""
    one = build_router(cfg)
    one.set_nodes(NODES)
    rng = random.Random(seed)
    keys = [f"/r/app/f{i}" for i in range(12)]
    open_one, open_many, picks_one, picks_many = [], [], [], []
    now = 100.0
    for step in range(3000):
        now += rng.expovariate(200.0)
        if open_one and rng.random() < 0.5:
            i = rng.randrange(len(open_one))
            (node, key), (d, node2, key2) = open_one.pop(i), open_many.pop(i)
            wait = rng.choice([0.001, 0.002, 0.05, 0.3, 0.6])
            one.finished(node, key, now, wait, 0.01, 200)
            d.request_done(node2, key2, 200, 0.01, format_seconds(wait).encode(), now)
            continue
        key = rng.choice(keys[:4]) if rng.random() < 0.6 else rng.choice(keys)
        node = one.policy.begin(key, one.nodeset, now)
        d = dispatchers[step % len(dispatchers)]
        node2 = d.begin(key, now)
        picks_one.append(node)
        picks_many.append(node2)
        open_one.append((node, key))
        open_many.append((d, node2, key))
    return picks_one, picks_many


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_two_and_three_workers_place_as_one_balancer(policy):
    cfg = replace(RoutingConfig(), policy=policy)
    for n in (2, 3):
        picks_one, picks_many = drive(workers(n, cfg), cfg)
        if policy in ("round-robin", "least-loaded", "sticky", "seed"):
            # (these draw random numbers or keep a cursor of their own: each replica's rng
            # and cursor are its own, so only where they send calls is comparable)
            assert set(picks_many) <= set(NODES)
            continue
        assert picks_many == picks_one, policy


def test_a_worker_applies_the_node_set_and_releases_of_the_supervisor():
    cfg = RoutingConfig()
    control = segment()
    ring = segment()
    d = WorkerDispatcher(build_router(cfg), 2, RingWriter(ring), [], RingReader(control, 0), catch_up=0.0)
    assert d.begin("/k", 1.0) is None            # no nodes yet
    enc = events.Encoder()
    writer = RingWriter(control)
    writer.write(enc.nodes(NODES[:2], 1.0))
    node = d.begin("/k", 2.0)
    assert node in NODES[:2]
    assert d.router.in_flight_by_node() == {node: 1}
    writer.write(enc.released(node, "/k", 3.0, 1))
    d.sync(3.0)
    assert d.router.in_flight_by_node() == {}
    # its own calls are in its ring for the others
    seen = list(events.decode(RingReader(ring, 0).read()))
    assert seen == [(events.STARTED, 2.0, node, "/k")]
