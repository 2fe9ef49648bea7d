"""fnlb's cold-start count (reported waits of --cold-wait or more, as ``fnlb serve`` counts
them) against the node model's own count, in the placement simulator."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fnlb.observability.stats import is_cold
from fnlb.routing.policy import Params
from fnlb.sim.report import row, table
from fnlb.sim.scenarios import SCENARIOS, Model, run, run_pooled


def tight(requests: int = 8_000):
    sc = SCENARIOS["tight"].with_overrides(requests=requests)
    return sc.build(replace(Model(), **dict(sc.model)), 1)


@pytest.mark.parametrize("policy", ["default", "sticky", "bounded"])
def test_where_nodes_do_not_queue_fnlb_counts_exactly_the_nodes_cold_starts(policy):
    w = tight()
    r = row(policy, run(w, policy))
    assert r["cold_starts"] > 20
    assert r["cold_counted"] == r["cold_starts"]
    pooled = row("pooled", run_pooled(w), balanced=False)
    assert pooled["cold_counted"] == pooled["cold_starts"]
    assert "| cold counted |" in table([r, pooled]).splitlines()[0]


def test_the_count_is_the_threshold_on_the_answered_calls_waits():
    w = tight(3_000)
    out = run(w, "default")
    assert sum(out.cold) == out.cold_starts                  # every call answered: the nodes' count per call
    for cold_wait in (0.05, Params.cold_wait, 0.299):         # below the model's 300 ms cold start
        assert row("default", out, cold_wait=cold_wait)["cold_counted"] == sum(out.cold)
        assert all(is_cold(wait, cold_wait) == bool(cold) for wait, cold in zip(out.wait, out.cold))
    assert row("default", out, cold_wait=0.5)["cold_counted"] == 0   # above it: nothing counts
