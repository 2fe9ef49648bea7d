"""The node model, pure: explicit times, no event loop."""

import pytest

from fnlb.sim.model import NodeModel


def test_cold_then_hot():
    m = NodeModel(slots=2, idle_timeout=10.0, cold_start=0.5)
    first = m.arrive("/r/a/f", 1.0, now=0.0)
    assert first.started and first.cold
    assert first.wait == pytest.approx(0.5)
    assert first.ends_at == pytest.approx(1.5)
    assert m.finish(first, 1.5) == []
    second = m.arrive("/r/a/f", 1.0, now=2.0)
    assert second.started and not second.cold and second.wait == 0
    assert m.stats(2.0)["cold_starts"] == 1
    assert m.hot() == {"/r/a/f": {"busy": 1, "idle": 0}}


def test_queue_is_fifo_when_slots_are_full():
    m = NodeModel(slots=1, idle_timeout=10.0, cold_start=0.0)
    a = m.arrive("/r/a/f", 1.0, 0.0)
    b = m.arrive("/r/a/f", 1.0, 0.1)
    c = m.arrive("/r/a/g", 1.0, 0.2)
    assert a.started and not b.started and not c.started
    assert m.queue_length == 2
    assert m.finish(a, 1.0) == [b]           # same route: hot
    assert not b.cold and b.wait == pytest.approx(0.9)
    assert m.finish(b, 2.0) == [c]           # other route: evicts the freed container
    assert c.cold and c.wait == pytest.approx(1.8)
    assert m.evictions == 1 and m.queue_length == 0


def test_a_freed_container_serves_its_own_route_first():
    m = NodeModel(slots=1, idle_timeout=10.0, cold_start=0.5)
    a = m.arrive("/r/a/f", 1.0, 0.0)
    g = m.arrive("/r/a/g", 1.0, 0.1)         # older, but of another route
    f = m.arrive("/r/a/f", 1.0, 0.2)
    assert m.finish(a, 1.5) == [f] and not f.cold   # hot: no eviction, no cold start
    assert m.queue_length == 1 and not g.started
    assert m.finish(f, 2.5) == [g] and g.cold        # nothing of f waits: g evicts it
    assert m.evictions == 1 and m.queue_length == 0


def test_a_hot_container_does_not_overtake_the_queue():
    m = NodeModel(slots=1, idle_timeout=10.0, cold_start=0.0)
    a = m.arrive("/r/a/f", 1.0, 0.0)
    b = m.arrive("/r/a/g", 1.0, 0.1)
    m.finish(a, 1.0)                         # b takes the slot (cold, evicting f)
    c = m.arrive("/r/a/g", 1.0, 1.1)
    assert b.started and not c.started


def test_eviction_is_lru_over_idle_containers():
    m = NodeModel(slots=2, idle_timeout=100.0, cold_start=0.2)
    f = m.arrive("/r/a/f", 1.0, 0.0)
    g = m.arrive("/r/a/g", 1.0, 0.0)
    m.finish(g, 1.0)                         # g idle since 1.0 (older)
    m.finish(f, 2.0)                         # f idle since 2.0
    h = m.arrive("/r/a/h", 1.0, 3.0)         # full: evicts g, the least recently used
    assert h.started and h.cold
    assert set(m.hot()) == {"/r/a/f", "/r/a/h"}
    again = m.arrive("/r/a/f", 1.0, 3.0)
    assert again.started and not again.cold


def test_idle_containers_expire():
    m = NodeModel(slots=4, idle_timeout=5.0, cold_start=0.3)
    a = m.arrive("/r/a/f", 1.0, 0.0)
    m.finish(a, 1.3)
    assert m.next_expiry() == pytest.approx(6.3)
    assert m.arrive("/r/a/f", 0.0, 6.2).cold is False  # just before it lapses


def test_expiry_makes_the_next_call_cold():
    m = NodeModel(slots=4, idle_timeout=5.0, cold_start=0.3)
    a = m.arrive("/r/a/f", 1.0, 0.0)
    m.finish(a, 1.3)
    b = m.arrive("/r/a/f", 1.0, 6.3)         # idle exactly idle_timeout: gone
    assert b.cold
    assert m.expirations == 1 and m.containers == 1
    m.finish(b, 7.6)
    assert m.stats(100.0)["containers"] == 0 and m.next_expiry() is None


def test_hot_start_uses_the_most_recent_container_so_old_ones_expire():
    m = NodeModel(slots=4, idle_timeout=5.0, cold_start=0.0)
    a = m.arrive("/r/a/f", 1.0, 0.0)
    b = m.arrive("/r/a/f", 2.0, 0.0)
    m.finish(a, 1.0)
    m.finish(b, 2.0)
    c = m.arrive("/r/a/f", 1.0, 2.5)
    assert c.container is b.container
    assert m.next_expiry() == pytest.approx(6.0)   # a's container lapses first


def test_cancel_a_queued_call():
    m = NodeModel(slots=1, idle_timeout=5.0, cold_start=0.0)
    a = m.arrive("/r/a/f", 1.0, 0.0)
    b = m.arrive("/r/a/f", 1.0, 0.0)
    assert m.cancel(b) and not m.cancel(a) and not m.cancel(b)
    assert m.queue_length == 0
    assert m.finish(a, 1.0) == []


def test_finish_twice_is_an_error():
    m = NodeModel(slots=1, idle_timeout=5.0, cold_start=0.0)
    a = m.arrive("/r/a/f", 1.0, 0.0)
    m.finish(a, 1.0)
    with pytest.raises(ValueError):
        m.finish(a, 2.0)


def _simulate(m: NodeModel, arrivals):
    """A tiny discrete-event driver, as the placement simulator uses the model."""
    import heapq

    events = [(t, i, "arrive", (route, exec_s)) for i, (t, route, exec_s) in enumerate(arrivals)]
    heapq.heapify(events)
    seq = len(events)
    started = []
    while events:
        now, _, kind, what = heapq.heappop(events)
        if kind == "arrive":
            call = m.arrive(what[0], what[1], now)
            new = [call] if call.started else []
        else:
            new = m.finish(what, now)
        for call in new:
            started.append(call)
            seq += 1
            heapq.heappush(events, (call.ends_at, seq, "finish", call))
        # invariants, after every event
        assert 0 <= m.busy <= m.containers <= m.slots
        if m.slot_queue_length:
            assert m.busy == m.containers == m.slots
        assert m.slot_queue_length <= m.queue_length
    return started


@pytest.mark.parametrize("on_busy", ["cold", "queue"])
def test_invariants_hold_on_random_workloads(on_busy):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    arrival = st.tuples(st.floats(0, 20), st.sampled_from(["/r/a/f", "/r/a/g", "/r/a/h"]), st.floats(0, 2))

    @settings(max_examples=200, deadline=None)
    @given(st.lists(arrival, max_size=60), st.integers(1, 4), st.floats(0, 5), st.floats(0, 1))
    def check(arrivals, slots, idle, cold):
        m = NodeModel(slots, idle, cold, on_busy)
        started = _simulate(m, sorted(arrivals))
        assert len(started) == len(arrivals) == m.calls     # every call ran exactly once
        assert len({id(c) for c in started}) == len(started)
        assert all(c.wait >= -1e-9 for c in started)
        assert m.queue_length == 0 and m.busy == 0
        assert m.cold_starts == sum(c.cold for c in started)
        assert m.queued_hot == sum(c.queued_hot for c in started)
        # A call that waited for its route's busy container got it hot, sooner than a cold start.
        assert all(not c.cold and c.wait < cold for c in started if c.queued_hot)
        if on_busy == "cold":
            assert m.queued_hot == 0

    check()


def test_queue_mode_without_cold_start_is_cold_mode():
    """Nothing frees sooner than a zero cold start: ``queue`` then never waits, call for call."""
    import random

    rng = random.Random(5)
    arrivals = sorted((rng.uniform(0, 10), rng.choice("fgh"), rng.uniform(0, 1)) for _ in range(300))
    runs = [_simulate(NodeModel(3, 2.0, 0.0, on_busy), arrivals) for on_busy in ("cold", "queue")]
    assert [(c.route, c.begun, c.cold) for c in runs[0]] == [(c.route, c.begun, c.cold) for c in runs[1]]


# -- on_busy="queue": wait for a busy container of the route when it frees soon ------------

def _one_busy(on_busy: str, exec_s: float, slots: int = 4):
    """A model whose /r/a/f container is busy from 2.0 for ``exec_s`` (hot; cold start 0.5)."""
    m = NodeModel(slots=slots, idle_timeout=10.0, cold_start=0.5, on_busy=on_busy)
    m.finish(m.arrive("/r/a/f", 1.0, 0.0), 1.5)
    busy = m.arrive("/r/a/f", exec_s, 2.0)
    assert busy.started and not busy.cold
    return m, busy


def test_queue_mode_waits_for_a_busy_container_that_frees_before_a_cold_start():
    m, busy = _one_busy("queue", 0.3)             # frees at 2.3
    call = m.arrive("/r/a/f", 1.0, 2.1)           # 0.2 s away, a cold start is 0.5 s
    assert not call.started and call.queued_hot
    stats = m.stats(2.1)
    assert stats["queue"] == 1 and stats["queue_hot"] == 1 and stats["queued_hot"] == 1
    assert m.slot_queue_length == 0
    assert m.finish(busy, 2.3) == [call]
    assert not call.cold and call.container is busy.container
    assert call.wait == pytest.approx(0.2) and call.wait < m.cold_start
    assert m.cold_starts == 1 and m.containers == 1 and m.queue_length == 0


def test_queue_mode_cold_starts_when_the_busy_container_frees_too_late():
    m, busy = _one_busy("queue", 1.0)             # frees at 3.0: 0.9 s away
    call = m.arrive("/r/a/f", 1.0, 2.1)
    assert call.started and call.cold and not call.queued_hot
    assert m.containers == 2 and m.queued_hot == 0


def test_queue_mode_promises_each_busy_container_to_one_call():
    m = NodeModel(slots=4, idle_timeout=10.0, cold_start=0.5, on_busy="queue")
    warm = [m.arrive("/r/a/f", 1.0, 0.0) for _ in range(2)]
    for call in warm:
        m.finish(call, 1.5)
    x = m.arrive("/r/a/f", 0.3, 2.0)              # hot, frees at 2.3
    y = m.arrive("/r/a/f", 0.4, 2.0)              # hot, frees at 2.4
    first = m.arrive("/r/a/f", 1.0, 2.1)          # x's, 0.2 s away
    second = m.arrive("/r/a/f", 1.0, 2.15)        # x's is promised: y's, 0.25 s away
    third = m.arrive("/r/a/f", 1.0, 2.2)          # both promised: a cold start
    assert first.queued_hot and second.queued_hot and not first.started and not second.started
    assert third.started and third.cold and not third.queued_hot
    assert m.finish(x, 2.3) == [first] and m.finish(y, 2.4) == [second]
    assert (first.wait, second.wait) == (pytest.approx(0.2), pytest.approx(0.25))
    assert not first.cold and not second.cold and m.cold_starts == 3


def test_queue_mode_does_not_block_other_routes():
    m, busy = _one_busy("queue", 0.3, slots=2)
    waiting = m.arrive("/r/a/f", 1.0, 2.1)
    assert waiting.queued_hot and not waiting.started
    other = m.arrive("/r/a/g", 1.0, 2.15)         # a free slot: it starts, the wait is f's own
    assert other.started and other.cold
    m.finish(other, 3.65)
    h = m.arrive("/r/a/h", 1.0, 3.7)              # both slots taken, g idle: evicts it, as in cold mode
    assert h.started and h.cold and m.evictions == 1


def test_queue_mode_shares_the_route_queue_with_calls_waiting_for_a_slot():
    m = NodeModel(slots=1, idle_timeout=10.0, cold_start=0.5, on_busy="queue")
    f = m.arrive("/r/a/f", 1.0, 0.0)              # cold: ends at 1.5
    g = m.arrive("/r/a/g", 1.0, 0.1)              # no slot: queued for one
    f2 = m.arrive("/r/a/f", 1.0, 1.2)             # f's container frees in 0.3 s: waits for it
    assert not g.queued_hot and f2.queued_hot
    assert m.slot_queue_length == 1 and m.queue_length == 2
    assert m.finish(f, 1.5) == [f2] and not f2.cold   # its route first, hot
    assert m.finish(f2, 2.5) == [g] and g.cold        # then the slot, by eviction
    assert m.queue_length == 0


def test_queue_mode_cancel_a_call_waiting_for_its_route():
    m, busy = _one_busy("queue", 0.3)
    call = m.arrive("/r/a/f", 1.0, 2.1)
    assert m.cancel(call) and m.queue_length == 0
    assert m.finish(busy, 2.3) == []
    assert m.hot() == {"/r/a/f": {"busy": 0, "idle": 1}}


def test_cold_mode_cold_starts_even_when_a_busy_container_frees_soon():
    m, busy = _one_busy("cold", 0.3)
    call = m.arrive("/r/a/f", 1.0, 2.1)
    assert call.started and call.cold and not call.queued_hot
    assert m.containers == 2 and m.stats(2.1)["queued_hot"] == 0


def test_on_busy_must_be_cold_or_queue():
    assert NodeModel(1, 1.0, 0.1).on_busy == "cold"
    with pytest.raises(ValueError, match="on_busy"):
        NodeModel(1, 1.0, 0.1, on_busy="wait")


def test_resize_shrinks_idle_lru_first_and_busy_as_they_end():
    m = NodeModel(slots=3, idle_timeout=10.0, cold_start=0.0)
    old = m.arrive("/r/a/old", 1.0, 0.0)
    new = m.arrive("/r/a/new", 1.0, 0.5)
    busy = m.arrive("/r/a/busy", 5.0, 0.6)
    m.finish(old, 1.0)
    m.finish(new, 1.5)
    assert m.resize(1, 2.0) == []
    # Both idle containers go (least recently used first), the busy one stays over the size.
    assert m.containers == 1 and m.hot() == {"/r/a/busy": {"busy": 1, "idle": 0}}
    waiting = m.arrive("/r/a/new", 1.0, 2.1)
    assert not waiting.started            # no slot: the node is over its size
    assert m.finish(busy, 5.6) == [waiting]  # the freed slot goes to the queued call
    assert waiting.cold and m.containers == 1


def test_resize_up_starts_calls_waiting_for_a_slot():
    m = NodeModel(slots=1, idle_timeout=10.0, cold_start=0.5)
    a = m.arrive("/r/a/f", 1.0, 0.0)
    b = m.arrive("/r/a/g", 1.0, 0.1)
    assert not b.started
    assert m.resize(2, 0.2) == [b]
    assert b.started and b.cold and m.containers == 2 and a.started
    with pytest.raises(ValueError):
        m.resize(0, 0.3)
