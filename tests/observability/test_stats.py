"""StatsRecorder as a pure object: explicit ``now``, no clock, no event loop."""

import tracemalloc

import pytest

from fnlb.observability.options import ObservabilityConfig
from fnlb.observability.stats import LATENCY_BOUNDS, OTHER, StatsRecorder, merge_ewma, quantiles, rfc3339

T0 = 1_700_000_000.0          # a whole second; clock_offset=0 makes now == Unix time
A, B = "127.0.0.1:8080", "127.0.0.1:8081"


def recorder(**cfg):
    return StatsRecorder(ObservabilityConfig(**cfg), clock_offset=0.0)


def by_key(rows):
    return {(r["timestamp"], r["node"], r["func"]): r for r in rows}


def test_shape_and_values_after_known_traffic():
    s = recorder()
    for i in range(10):                                   # second 0: 10 calls of /r/a/f on A
        s.record(A, "/r/a/f", 200, 0.010, 0.1 * (i % 2), False, T0 + 0.05 * i)
    s.record(B, "/r/a/f", 503, 0.200, None, True, T0 + 0.9)
    s.record(B, "/r/a/g", 404, 0.001, 0.5, True, T0 + 1.2)   # second 1
    rows = s.rows(T0 + 2.0)
    assert [set(r) >= {"timestamp", "tp", "node", "func", "wait"} for r in rows] == [True] * 3
    got = by_key(rows)
    a = got[("2023-11-14T22:13:20Z", A, "/r/a/f")]
    assert (a["tp"], a["wait"], a["waits"], a["errors"], a["spills"]) == (10, 0.05, 10, 0, 0)
    assert a["latency"] == pytest.approx(0.010) and a["status"] == {"2xx": 10}
    b = got[("2023-11-14T22:13:20Z", B, "/r/a/f")]
    assert (b["tp"], b["wait"], b["waits"], b["errors"], b["spills"]) == (1, 0.0, 0, 1, 1)
    g = got[("2023-11-14T22:13:21Z", B, "/r/a/g")]
    assert (g["tp"], g["wait"], g["status"]) == (1, 0.5, {"4xx": 1})


def test_live_second_is_not_returned_until_it_ends():
    s = recorder()
    s.record(A, "/f", 200, 0.01, 0.0, False, T0 + 0.5)
    assert s.rows(T0 + 0.99) == []
    assert len(s.rows(T0 + 1.0)) == 1


def test_reading_never_drains_and_readers_agree():
    s = recorder()
    for i in range(30):
        s.record(A if i % 3 else B, f"/r/app/f{i % 4}", 200, 0.02, 0.01, False, T0 + i / 10)
    first, second = s.rows(T0 + 5), s.rows(T0 + 5)
    assert first == second and sum(r["tp"] for r in first) == 30
    # A third reader polling with since sees exactly the tail of the same data.
    tail = s.rows(T0 + 5, since=T0 + 1)
    assert tail == [r for r in first if r["timestamp"] == rfc3339(T0 + 2)]


def test_since_is_strictly_after_bucket_start():
    s = recorder()
    for k in range(5):
        s.record(A, "/f", 200, 0.01, None, False, T0 + k + 0.5)
    secs = lambda rows: [r["timestamp"][-3:-1] for r in rows]
    assert secs(s.rows(T0 + 10, since=T0 + 2)) == ["23", "24"]       # start == since excluded
    assert secs(s.rows(T0 + 10, since=T0 + 1.999)) == ["22", "23", "24"]
    assert s.rows(T0 + 10, since=T0 + 100) == []


def test_window_drops_old_seconds():
    s = recorder(stats_window=10.0)
    s.record(A, "/f", 200, 0.01, None, False, T0)
    s.record(A, "/f", 200, 0.01, None, False, T0 + 5)
    assert len(s.rows(T0 + 9)) == 2
    assert len(s.rows(T0 + 10.5)) == 1            # T0's bucket is now older than 10 s
    s.record(A, "/f", 200, 0.01, None, False, T0 + 30)
    assert s.rows(T0 + 31)[0]["timestamp"] == rfc3339(T0 + 30) and len(s.seconds) == 1


def test_status_classes_retries_invalid_waits():
    s = recorder()
    for status in (200, 201, 302, 404, 499, 500, 502, 0):
        s.record(A, "/f", status, 0.01, None, False, T0)
    s.count_retry(A, "/f", T0)
    s.count_invalid_wait(A, "/f", T0)
    s.count_retry(B)                                   # old call form: current second, "other"
    rows = by_key(s.rows(T0 + 1))
    r = rows[(rfc3339(T0), A, "/f")]
    assert r["status"] == {"2xx": 2, "3xx": 1, "4xx": 2, "5xx": 2, "broken": 1}
    assert (r["errors"], r["retries"], r["invalid_wait"], r["tp"]) == (3, 1, 1, 8)
    other = rows[(rfc3339(T0), B, OTHER)]
    assert (other["tp"], other["retries"]) == (0, 1)


def test_latency_quantiles_within_a_bucket_width():
    s = recorder()
    lat = [0.001 * (i + 1) for i in range(1000)]       # 1 ms .. 1 s, uniform
    for i, v in enumerate(lat):
        s.record(A, "/f", 200, v, None, False, T0 + i / 2000)
    r = s.rows(T0 + 1)[0]
    assert r["p50"] == pytest.approx(0.5, rel=0.25)
    assert r["p99"] == pytest.approx(0.99, rel=0.25)
    assert quantiles([0] * (len(LATENCY_BOUNDS) + 1), 0) == [0.0, 0.0]


def test_node_totals_are_exact_including_the_live_second():
    s = recorder()
    for i in range(250):
        s.record(A, f"/f{i % 7}", 200 if i % 5 else 500, 0.004, 0.002, i % 2 == 0, T0 + i / 100)
    t = s.node_totals(T0 + 2.6)[A]                      # seconds 0, 1 finished, 2 live
    assert t.classes[2] == 200 and t.classes[5] == 50 and t.requests == 250
    assert t.spills == 125 and t.latency_sum == pytest.approx(1.0)
    buckets = dict(t.metric_buckets())
    assert buckets["0.0025"] == 0 and buckets["0.005"] == 250 and buckets["+Inf"] == 250
    assert s.node_totals(T0 + 2.6)[A].requests == 250      # scraping does not double count


def test_wait_ewma_matches_the_routing_average():
    assert merge_ewma(None, 0.3, 5) == 0.3
    old = 1.0
    for _ in range(3):
        old = 0.1 * 0.2 + 0.9 * old
    assert merge_ewma(1.0, 0.2, 3) == pytest.approx(old)
    s = recorder()
    s.record(A, "/f", 200, 0.01, 1.0, False, T0)
    s.record(A, "/f", 200, 0.01, 0.0, False, T0 + 1)
    assert s.node_totals(T0 + 2)[A].wait_ewma == pytest.approx(0.9)


def test_top_functions_rank_by_recent_rate():
    s = recorder(metrics_top_functions=2)
    for sec in range(20):
        for _ in range(5):
            s.record(A, "/old", 200, 0.01, 0.1, False, T0 + sec)
    for sec in range(100, 120):
        for _ in range(3):
            s.record(A, "/new-busy", 200, 0.01, 0.2, False, T0 + sec)
        s.record(B, "/new-quiet", 200, 0.01, None, False, T0 + sec)
    top = s.top_functions_now(T0 + 121)
    assert [f for f, _, _ in top] == ["/new-busy", "/new-quiet"]
    assert top[0][2] == pytest.approx(0.2) and top[1][2] is None


def test_memory_is_bounded_with_100k_distinct_paths():
    s = recorder(stats_series=500, stats_window=60.0)
    tracemalloc.start()
    try:
        for i in range(100_000):                       # 10 seconds, 10,000 new paths each
            s.record(A if i % 2 else B, f"/r/app/fn-{i}", 200, 0.01, 0.01, False, T0 + i / 10_000)
        s.advance(T0 + 11)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert all(len(sec) <= 500 + 2 for sec in s.seconds)          # cap + one "other" per node
    assert sum(len(sec) for sec in s.seconds) <= 10 * 502
    assert len(s.functions.entries) <= s.functions.cap
    assert s.folded == 100_000 - 10 * 500
    rows = s.rows(T0 + 11)
    assert sum(r["tp"] for r in rows) == 100_000                   # folded, never lost
    assert peak < 16 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_late_sample_goes_to_the_live_second():
    s = recorder()
    s.record(A, "/f", 200, 0.01, None, False, T0 + 5)
    s.record(A, "/f", 200, 0.01, None, False, T0 + 4)     # a caller's stale now: no crash
    assert s.rows(T0 + 6)[0]["tp"] == 2


def test_stats_off_records_nothing_but_readers_still_work():
    from fnlb.observability.stats import NullRecorder, make_recorder

    s = make_recorder(ObservabilityConfig(stats=False))
    assert isinstance(s, NullRecorder)
    s.record(A, "/f", 200, 0.01, 0.1, False, 5.0)
    s.count_retry(A, "/f", 5.0)
    assert s.rows(10.0) == [] and s.node_totals(10.0) == {}
    assert type(make_recorder(ObservabilityConfig())) is StatsRecorder


def test_seconds_split_exactly_at_the_boundary_with_an_offset():
    s = StatsRecorder(ObservabilityConfig(), clock_offset=T0 - 100.25)     # monotonic 100.25 = T0
    s.record(A, "/f", 200, 0.01, None, False, 100.25 + 0.999)
    s.record(A, "/f", 200, 0.01, None, False, 100.25 + 1.0)
    s.record(A, "/f", 200, 0.01, None, False, 100.25 + 1.5)
    rows = s.rows(100.25 + 2.0)
    assert [(r["timestamp"], r["tp"]) for r in rows] == [(rfc3339(T0), 1), (rfc3339(T0 + 1), 2)]


def test_cold_starts_are_waits_of_cold_wait_or_more():
    from fnlb.observability.stats import is_cold

    assert [is_cold(w, 0.2) for w in (None, 0.0, 0.1999, 0.2, 0.3, 12.0)] == [False, False, False, True, True, True]
    s = StatsRecorder(ObservabilityConfig(), clock_offset=0.0, cold_wait=0.1)
    for i, wait in enumerate((0.0, 0.05, 0.1, 0.3, None, 0.099999)):
        s.record(A, "/f", 200, 0.5, wait, False, T0 + i / 10)
    s.record(B, "/f", 200, 0.5, 0.5, False, T0 + 0.9)
    s.record(B, "/g", 200, 0.5, 0.5, False, T0 + 1.1)
    got = by_key(s.rows(T0 + 2))
    assert [(k[1], k[2], r["cold"]) for k, r in sorted(got.items())] == [(A, "/f", 2), (B, "/f", 1), (B, "/g", 1)]
    assert recorder().cold_wait == 0.2            # the --cold-wait default, the policy's


def test_cold_counts_per_node_and_function_fold_outside_the_top():
    s = recorder(metrics_top_functions=1)
    for i in range(10):
        s.record(A, "/hot", 200, 0.3, 0.3, False, T0 + i / 20)
    s.record(A, "/rare", 200, 0.3, 0.3, False, T0 + 0.9)
    s.record(B, "/hot", 200, 0.3, 0.01, False, T0 + 0.9)    # warm: not counted
    assert s.cold_counts(T0 + 0.95) == {}                   # the live second is not included
    assert s.cold_counts(T0 + 1.0) == {(A, "/hot"): 10, (A, OTHER): 1}
