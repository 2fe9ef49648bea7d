"""The wait table: the reference EWMA, ageing with time, the LRU bound; in-flight counts."""

import pytest

from fnlb.routing.inflight import InFlight
from fnlb.routing.waits import WaitTable


def test_first_sample_initialises_then_ewma():
    t = WaitTable()
    t.add("n", "/k", 2.0, now=0.0)
    assert t.get("n", "/k", 0.0) == 2.0
    t.add("n", "/k", 0.0, now=0.1)
    assert t.get("n", "/k", 0.1) == pytest.approx(1.8)
    t.add("n", "/k", 1.0, now=0.2)
    assert t.get("n", "/k", 0.2) == pytest.approx(0.1 * 1.0 + 0.9 * 1.8)


def test_about_the_last_ten_samples():
    t = WaitTable()
    t.add("n", "/k", 0.0, 0.0)
    for i in range(30):
        t.add("n", "/k", 1.0, 0.01 * i)
    assert t.get("n", "/k", 0.3) == pytest.approx(1 - 0.9 ** 30)


def test_unknown_pair_is_zero():
    t = WaitTable()
    assert t.get("n", "/k", 5.0) == 0.0
    assert not t.known("n", "/k", 5.0)


def test_pairs_are_separate():
    t = WaitTable()
    t.add("a", "/k", 3.0, 0.0)
    assert t.get("b", "/k", 0.0) == 0.0 and t.get("a", "/j", 0.0) == 0.0


@pytest.mark.parametrize("wait", [0.6, 3.0, 60.0, 3600.0])
def test_stale_wait_is_forgotten_within_5_seconds(wait):
    """A node that gets no new samples must stop repelling its keys within 5 s."""
    t = WaitTable()  # defaults: grace 1 s, fade 3 s
    for i in range(20):
        t.add("n", "/k", wait, now=i * 0.01)
    last = 19 * 0.01
    assert t.get("n", "/k", last + 1.0) == pytest.approx(wait)  # fresh: full weight
    mid = t.get("n", "/k", last + 2.5)
    assert 0 < mid < wait                                        # fading
    assert t.get("n", "/k", last + 4.0) == 0.0                   # forgotten
    assert t.get("n", "/k", last + 5.0) == 0.0
    assert not t.known("n", "/k", last + 4.0)


def test_fade_is_monotonic():
    t = WaitTable(grace=1.0, fade=3.0)
    t.add("n", "/k", 3.0, 0.0)
    values = [t.get("n", "/k", 0.1 * i) for i in range(50)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_new_sample_blends_into_the_faded_value():
    t = WaitTable(grace=1.0, fade=3.0)
    t.add("n", "/k", 3.0, 0.0)
    t.add("n", "/k", 0.0, 2.5)  # faded to 3.0 * 0.5 = 1.5
    assert t.get("n", "/k", 2.5) == pytest.approx(0.9 * 1.5)


def test_sample_after_forgetting_starts_afresh():
    t = WaitTable(grace=1.0, fade=3.0)
    t.add("n", "/k", 3.0, 0.0)
    t.add("n", "/k", 0.2, 10.0)
    assert t.get("n", "/k", 10.0) == pytest.approx(0.2)


def test_infinite_grace_never_ages():
    t = WaitTable(grace=float("inf"))
    t.add("n", "/k", 3.0, 0.0)
    assert t.get("n", "/k", 1e6) == 3.0


def test_bounded_lru_by_update():
    t = WaitTable(capacity=3)
    for i, key in enumerate(["/a", "/b", "/c"]):
        t.add("n", key, 1.0, float(i) * 0.01)
    t.add("n", "/a", 1.0, 0.05)  # /a is now the most recently updated
    t.add("n", "/d", 1.0, 0.06)  # evicts /b, the least recently updated
    assert len(t) == 3
    assert t.known("n", "/a", 0.1) and not t.known("n", "/b", 0.1)
    assert t.known("n", "/c", 0.1) and t.known("n", "/d", 0.1)


def test_a_million_distinct_keys_stay_within_the_bound():
    t = WaitTable(capacity=1000)
    for i in range(1_000_000):
        t.add("n", f"/r/app/{i}", 0.01, i * 1e-6)
    assert len(t) == 1000


def test_snapshot_lists_live_pairs_with_aged_values():
    t = WaitTable(grace=1.0, fade=3.0)
    t.add("a", "/old", 2.0, 0.0)
    t.add("b", "/mid", 2.0, 2.0)
    t.add("c", "/new", 0.5, 4.0)
    snap = t.snapshot(now=4.5)
    assert snap[0] == ("c", "/new", 0.5)
    assert {(n, k) for n, k, _ in snap} == {("c", "/new"), ("b", "/mid")}
    assert dict(((n, k), v) for n, k, v in snap)[("b", "/mid")] == pytest.approx(2.0 * (1 - 1.5 / 3))


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        WaitTable(capacity=0)


def test_inflight_counts_and_cleans_up():
    f = InFlight()
    for node in ("a", "a", "a", "b"):
        f.start(node)
    assert f.total == 4 and f.node("a") == 3 and f.node("b") == 1 and f.node("c") == 0
    for node in ("a", "a", "a", "b"):
        f.finish(node)
    assert f.total == 0 and f.by_node == {}


def test_inflight_ignores_unmatched_finish():
    f = InFlight()
    f.finish("a")
    f.start("a")
    f.finish("b")
    assert f.total == 1 and f.node("a") == 1
