"""The simulator's model of --workers (fnlb.sim.workers): N replicas of one balancer."""

from __future__ import annotations

import pytest

from fnlb.sim.scenarios import RETRIES, SCENARIOS, Model, run


@pytest.fixture(scope="module")
def tight():
    sc = SCENARIOS["tight"].with_overrides(requests=8000)
    return sc.build(Model(), 1)


@pytest.mark.parametrize("policy", ["default", "sticky", "consistent", "bounded"])
def test_replicas_without_lag_are_one_balancer(tight, policy):
    one = run(tight, policy)
    two = run(tight, policy, None, RETRIES, workers=2, sync_lag=0.0)
    assert (two.cold_starts, two.evictions, two.spilled, list(two.latency)) == \
           (one.cold_starts, one.evictions, one.spilled, list(one.latency))


def test_lagging_replicas_start_more_containers(tight):
    one = run(tight, "default")
    lagging = run(tight, "default", None, RETRIES, workers=2, sync_lag=0.005)
    assert lagging.cold_starts > one.cold_starts
    assert lagging.arrived == one.arrived and lagging.errors == 0
