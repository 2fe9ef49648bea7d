"""The load generator's pure maths: percentiles, summaries, Zipf and weighted choice."""

import random

import pytest

from fnlb.sim.load import parse_exec_mix
from fnlb.sim.summary import Result, percentile, spilling, summarize
from fnlb.sim.zipf import Weighted, Zipf


def test_nearest_rank_percentiles_of_1_to_100():
    values = list(range(1, 101))
    assert [percentile(values, p) for p in (50, 90, 99, 100)] == [50, 90, 99, 100]
    assert percentile([7.0], 99) == 7.0 and percentile([], 50) == 0.0


def test_percentiles_of_a_known_exponential_distribution():
    rng = random.Random(42)
    values = sorted(rng.expovariate(1.0) for _ in range(200_000))
    # exact quantiles of Exp(1): -ln(1 - p)
    assert percentile(values, 50) == pytest.approx(0.6931, rel=0.02)
    assert percentile(values, 90) == pytest.approx(2.3026, rel=0.02)
    assert percentile(values, 99) == pytest.approx(4.6052, rel=0.03)


def test_summary_counts_errors_cold_starts_and_node_shares():
    results = [Result("/r/a/f", i / 100, 200, i % 4 == 0, "n1" if i < 75 else "n2", 0.0) for i in range(1, 101)]
    results += [Result("/r/a/g", 5.0, 0, None, None, None), Result("/r/a/g", 0.1, 502, None, None, None)]
    s = summarize(results, 10.0, sent=103)
    assert s["completed"] == 102 and s["answered"] == 101 and s["sent"] == 103 and s["errors"] == 2
    assert s["cold_starts"] == 25
    assert s["nodes"] == {"n1": 0.74, "n2": 0.26}
    assert s["latency"]["max"] == 5.0 and s["latency"]["p50"] == pytest.approx(0.50)  # 51st of 102 (0.1 twice)
    assert s["statuses"] == {"0": 1, "200": 100, "502": 1}
    assert s["throughput"] == pytest.approx(10.1)  # answers per second


def test_spilling_lists_functions_served_by_several_nodes():
    results = [Result("/r/a/hot", 0, 200, False, n, 0) for n in ("n1", "n2", "n1")]
    results.append(Result("/r/a/calm", 0, 200, False, "n3", 0))
    assert spilling(results) == {"/r/a/hot": ["n1", "n2"]}


def test_zipf_frequencies_follow_the_weights():
    rng = random.Random(1)
    zipf = Zipf(5, 1.0)
    counts = [0] * 5
    for _ in range(100_000):
        counts[zipf.index(rng)] += 1
    expected = [1 / i / sum(1 / k for k in range(1, 6)) for i in range(1, 6)]
    for got, want in zip(counts, expected):
        assert got / 100_000 == pytest.approx(want, abs=0.01)


def test_exec_mix_and_weighted_choice():
    mix = parse_exec_mix("20ms:3,1s")
    assert mix.items == [20.0, 1000.0]
    rng = random.Random(3)
    picks = [mix.choose(rng) for _ in range(40_000)]
    assert picks.count(20.0) / len(picks) == pytest.approx(0.75, abs=0.02)
    assert parse_exec_mix("") is None
    with pytest.raises(ValueError):
        parse_exec_mix("fast:1")
    with pytest.raises(ValueError):
        Weighted([1], [0])
