"""Each policy's choices and spill behaviour, with seeded randomness and virtual time."""

import random
from collections import Counter

import pytest

from fnlb.routing.nodeset import NodeSet
from fnlb.routing.policies import POLICIES, load_bound, make_policy
from fnlb.routing.policy import Params

NODES = [f"10.0.0.1:{8000 + i}" for i in range(5)]
KEY = "/r/app/hot"


def policy(name, seed=1, **params):
    return make_policy(name, Params(**params), random.Random(seed))


def load_wait(p, node, key, seconds, now=0.0):
    """Make the pair's wait average `seconds` (straight into the table: no first-sample cap)."""
    p.waits.add(node, key, seconds, now)


def picks(p, ns, key=KEY, n=10_000, now=0.0):
    return Counter(p.choose(key, ns, now) for _ in range(n))


@pytest.mark.parametrize("name", list(POLICIES))
def test_every_policy_picks_a_healthy_node(name):
    p, ns = policy(name), NodeSet(NODES)
    for i in range(500):
        assert p.choose(f"/r/a/{i}", ns, 0.0) in NODES
        order = p.order(f"/r/a/{i}", ns, 0.0)
        assert order[0] == ns.primary(f"/r/a/{i}") and sorted(order) == sorted(NODES)


@pytest.mark.parametrize("name", ["default", "seed", "consistent", "bounded"])
def test_no_load_means_primary(name):
    p, ns = policy(name), NodeSet(NODES)
    for i in range(500):
        assert p.choose(f"/r/a/{i}", ns, 0.0) == ns.primary(f"/r/a/{i}")


def test_make_policy_unknown_name():
    with pytest.raises(KeyError):
        make_policy("nope")


# -- seed ---------------------------------------------------------------------------------

@pytest.mark.parametrize("wait,p_keep", [(0.4, 1.0), (0.5, 0.4), (1.25, 0.25), (2.0, 0.1), (5.0, 0.1)])
def test_seed_accepts_by_the_reference_thresholds(wait, p_keep):
    p, ns = policy("seed"), NodeSet(NODES)
    load_wait(p, ns.primary(KEY), KEY, wait)
    share = picks(p, ns)[ns.primary(KEY)] / 10_000
    assert share == pytest.approx(p_keep, abs=0.03)


def test_seed_spills_to_the_next_sorted_node_for_every_key():
    p, ns = policy("seed"), NodeSet(NODES)
    home = NODES[2]
    keys = [k for k in (f"/r/a/{i}" for i in range(400)) if ns.primary(k) == home][:20]
    for k in keys:
        load_wait(p, home, k, 3.0)
    spilled = Counter()
    for k in keys:
        spilled.update({n: c for n, c in picks(p, ns, k, 500).items() if n != home})
    assert spilled[NODES[3]] / sum(spilled.values()) > 0.85


def test_seed_walk_wraps_and_skips_slow_nodes():
    p, ns = policy("seed"), NodeSet(NODES)
    key = next(k for k in (f"/r/a/{i}" for i in range(400)) if ns.primary(k) == NODES[4])
    load_wait(p, NODES[4], key, 3.0)
    load_wait(p, NODES[0], key, 3.0)
    got = picks(p, ns, key)
    assert got.most_common(1)[0][0] == NODES[1]  # 4 -> 0 (wraps, slow) -> 1


# -- consistent, round-robin, least-loaded -----------------------------------------------

def test_consistent_never_spills():
    p, ns = policy("consistent"), NodeSet(NODES)
    load_wait(p, ns.primary(KEY), KEY, 30.0)
    for _ in range(50):
        p.started(ns.primary(KEY), KEY, 0.0)
    assert picks(p, ns, n=100) == Counter({ns.primary(KEY): 100})


def test_round_robin_cycles_evenly():
    p, ns = policy("round-robin"), NodeSet(NODES)
    assert [p.choose(KEY, ns, 0.0) for _ in range(10)] == list(ns.nodes) * 2


def test_least_loaded_prefers_the_less_busy_of_two():
    p, ns = policy("least-loaded"), NodeSet(NODES)
    for _ in range(10):
        p.started(NODES[0], "/x", 0.0)
    got = picks(p, ns, n=10_000)
    # NODES[0] wins only if both picks... never: the two choices are distinct.
    assert got[NODES[0]] == 0
    for node in NODES[1:]:
        assert got[node] == pytest.approx(2500, rel=0.1)


def test_least_loaded_balances_in_flight():
    p, ns = policy("least-loaded"), NodeSet(NODES)
    for i in range(1000):
        p.started(p.choose(f"/r/{i}", ns, 0.0), f"/r/{i}", 0.0)
    counts = p.inflight.by_node
    assert max(counts.values()) - min(counts.values()) <= 3


def test_least_loaded_single_node():
    p, ns = policy("least-loaded"), NodeSet(NODES[:1])
    assert p.choose(KEY, ns, 0.0) == NODES[0]


# -- bounded --------------------------------------------------------------------------------

def test_load_bound():
    assert load_bound(1.25, 0, 10) == 1
    assert load_bound(1.25, 99, 10) == 13
    assert load_bound(1.0, 9, 10) == 1


def test_bounded_keeps_every_node_within_the_bound():
    p, ns = policy("bounded", bounded_factor=1.25), NodeSet(NODES)
    for i in range(2000):
        key = f"/r/hot/{i % 3}"  # three hot keys
        bound = load_bound(1.25, p.inflight.total, len(NODES))
        node = p.choose(key, ns, 0.0)
        assert p.inflight.node(node) + 1 <= bound
        p.started(node, key, 0.0)
    assert max(p.inflight.by_node.values()) <= load_bound(1.25, 2000, 5)


def test_bounded_spills_along_the_keys_own_order():
    p, ns = policy("bounded", bounded_factor=1.0), NodeSet(NODES)
    order = ns.spill_order(KEY)
    for _ in range(3):
        p.started(order[0], "/other", 0.0)  # the primary is far over the mean
    assert p.choose(KEY, ns, 0.0) == order[1]


# -- default: sticky spill ----------------------------------------------------------------

def test_sticky_stays_on_primary_below_spill_wait():
    p, ns = policy("sticky"), NodeSet(NODES)
    load_wait(p, ns.primary(KEY), KEY, 0.2)
    assert picks(p, ns, n=2000) == Counter({ns.primary(KEY): 2000})


@pytest.mark.parametrize("wait,keep", [(0.625, 0.55), (1.0, 0.1), (5.0, 0.1)])
def test_sticky_spill_is_proportional_to_wait(wait, keep):
    p, ns = policy("sticky"), NodeSet(NODES)  # spill_wait 0.25, spill_wait_max 1.0, keep 0.1
    primary = ns.primary(KEY)
    load_wait(p, primary, KEY, wait)
    assert p.waits.get(primary, KEY, 0.0) == pytest.approx(wait, rel=0.1)
    got = picks(p, ns)
    assert got[primary] / 10_000 == pytest.approx(keep, abs=0.03)
    # The spill goes to the key's second node, where it is (or becomes) hot.
    spilled = Counter({n: c for n, c in got.items() if n != primary})
    assert spilled.most_common(1)[0][0] == ns.spill_order(KEY)[1]


def test_sticky_spill_of_one_node_spreads_over_its_keys_orders():
    p, ns = policy("sticky"), NodeSet([f"10.0.0.1:{8000 + i}" for i in range(10)])
    home = ns.nodes[4]
    keys = [k for k in (f"/r/a/{i}" for i in range(3000)) if ns.primary(k) == home][:90]
    for k in keys:
        load_wait(p, home, k, 3.0)
    spill = Counter()
    for k in keys:
        for _ in range(20):
            node = p.choose(k, ns, 0.0)
            if node != home:
                spill[node] += 1
    assert len(spill) == 9
    assert max(spill.values()) < 2.5 * sum(spill.values()) / 9


def test_sticky_first_sample_cold_start_does_not_spill():
    p, ns = policy("sticky"), NodeSet(NODES)
    primary = ns.primary(KEY)
    p.started(primary, KEY, 0.0)
    p.finished(primary, KEY, 0.0, 2.5, 2.6, 200)  # first call: a 2.5 s cold start
    assert p.waits.get(primary, KEY, 0.1) <= 0.25
    assert picks(p, ns, n=1000, now=0.1) == Counter({primary: 1000})


def test_sticky_burst_of_cold_starts_on_a_spill_node_does_not_cascade():
    """A burst lands on the key's second node, where every call cold-starts (2.5 s)."""
    p, ns = policy("sticky"), NodeSet(NODES)
    second = ns.spill_order(KEY)[1]
    for _ in range(20):
        p.started(second, KEY, 0.0)
    for i in range(20):
        p.finished(second, KEY, 2.5 + i * 0.01, 2.5, 2.6, 200)
    assert p.waits.get(second, KEY, 2.8) <= 0.25
    assert p.choose(KEY, NodeSet([second]), 2.8) == second
    # Requests sent once the key is known there count in full again.
    p.started(second, KEY, 3.0)
    p.finished(second, KEY, 3.1, 2.5, 2.6, 200)
    assert p.waits.get(second, KEY, 3.1) == pytest.approx(0.1 * 2.5 + 0.9 * 0.25)


def test_sticky_real_overload_spills_after_a_few_samples():
    p, ns = policy("sticky"), NodeSet(NODES)
    primary = ns.primary(KEY)
    p.started(primary, KEY, 0.0)
    p.finished(primary, KEY, 0.0, 3.0, 3.0, 200)  # capped: could be a cold start
    for i in range(1, 15):
        p.started(primary, KEY, i * 0.01)
        p.finished(primary, KEY, i * 0.01, 3.0, 3.0, 200)
    assert p.waits.get(primary, KEY, 0.2) > 1.0
    assert picks(p, ns, n=1000, now=0.2)[primary] < 200


def test_sticky_stale_wait_stops_repelling_within_5_seconds():
    p, ns = policy("sticky"), NodeSet(NODES)
    primary = ns.primary(KEY)
    p.observe_wait(primary, KEY, 0.1, 0.0)
    for i in range(30):
        p.observe_wait(primary, KEY, 3.0, i * 0.01)
    assert picks(p, ns, n=1000, now=0.3)[primary] < 200
    assert picks(p, ns, n=1000, now=0.3 + 5.0) == Counter({primary: 1000})


def test_sticky_in_flight_bound_spills_a_burst():
    p, ns = policy("sticky", load_factor=1.5, load_floor=8), NodeSet(NODES)
    primary = ns.primary(KEY)
    chosen = []
    for _ in range(40):
        node = p.choose(KEY, ns, 0.0)
        p.started(node, KEY, 0.0)
        chosen.append(node)
    counts = Counter(chosen)
    assert counts[primary] == 12  # max(8, ceil(1.5 * 40 / 5))
    assert max(counts.values()) <= 12
    assert counts[ns.spill_order(KEY)[1]] >= 8  # the overflow goes to the key's next node first


def test_sticky_floor_keeps_a_quiet_keys_concurrency_together():
    p, ns = policy("sticky"), NodeSet(NODES)
    primary = ns.primary(KEY)
    for _ in range(p.params.load_floor):  # the default floor, whatever its value
        node = p.choose(KEY, ns, 0.0)
        assert node == primary
        p.started(node, KEY, 0.0)


def test_sticky_stays_home_when_no_node_is_clearly_faster():
    """Spilling into nodes that are just as slow only adds cold starts (gain 4 by default)."""
    p, ns = policy("sticky"), NodeSet(NODES)
    primary = ns.primary(KEY)
    load_wait(p, primary, KEY, 3.0)
    for node in NODES:
        if node != primary:
            load_wait(p, node, KEY, 1.0)  # 1.0 * 4 > 3.0: not clearly faster
    assert picks(p, ns, n=2000) == Counter({primary: 2000})
    for node in NODES:
        if node != primary:
            load_wait(p, node, KEY, 0.5)  # the average drops to 0.95: 3.8 > 3.0, still not
            for _ in range(20):
                load_wait(p, node, KEY, 0.3)  # now about 0.4: 1.6 < 3.0, clearly faster
    got = picks(p, ns, n=2000)
    assert got[primary] == pytest.approx(200, abs=60)  # spill_keep of the traffic stays


def test_sticky_judges_a_node_new_to_the_key_by_its_overall_wait():
    p, ns = policy("sticky"), NodeSet(NODES)
    order = ns.spill_order(KEY)
    load_wait(p, order[0], KEY, 3.0)
    p.node_waits.add(order[1], "", 2.0, 0.0)  # busy with other keys: a bad place to go
    got = picks(p, ns, n=2000)
    assert got[order[1]] == 0
    assert got.most_common(1)[0][0] == order[2]


def test_sticky_node_wait_is_fed_by_every_sample():
    p = policy("sticky")
    p.started(NODES[1], "/a", 0.0)
    p.finished(NODES[1], "/a", 0.5, 2.0, 2.1, 200)
    assert p.node_waits.get(NODES[1], "", 0.5) == 2.0  # raw, even if the pair's sample is capped
    assert p.waits.get(NODES[1], "/a", 0.5) == 0.25


def test_sticky_full_primary_goes_to_the_next_node_with_room():
    p, ns = policy("sticky", load_floor=1, load_factor=1.0), NodeSet(NODES)
    order = ns.spill_order(KEY)
    for _ in range(5):
        p.started(order[0], "/x", 0.0)  # limit max(1, 6 / 5): the primary is full
    for _ in range(2):
        p.started(order[1], "/x", 0.0)  # limit now 8 / 5: order[1] is full too
    load_wait(p, order[2], KEY, 3.0)   # slow, but it has room and home has none
    assert picks(p, ns, n=200) == Counter({order[2]: 200})


def test_sticky_is_deterministic_for_a_seed():
    def run(seed):
        p, ns = policy("sticky", seed=seed), NodeSet(NODES)
        load_wait(p, ns.primary(KEY), KEY, 0.8)
        return [p.choose(KEY, ns, 0.0) for _ in range(200)]
    assert run(3) == run(3)
    assert run(3) != run(4)


# -- default: hot containers ---------------------------------------------------------------

def _fill(p, node, key, count, now=0.0):
    for _ in range(count):
        p.started(node, key, now)


def _drain(p, node, key, count, now=0.0):
    for _ in range(count):
        p.finished(node, key, now, 0.0, 0.01, 200)


def _home_of(ns, node, skip=()):
    return next(k for k in (f"/r/x/{i}" for i in range(1000)) if ns.primary(k) == node and k not in skip)


def _busy_home(**params):
    """Home holds 5 in flight, every other node 4: past the bound (1.0 x 22/5 = 4.4) but
    below hot_factor 2 times it (8.8). KEY ran 3 at once at home and 2 are still running."""
    p, ns = policy("sticky", load_floor=1, load_factor=1.0, hot_factor=2.0, **params), NodeSet(NODES)
    home = ns.primary(KEY)
    _fill(p, home, KEY, 3)
    _drain(p, home, KEY, 1)
    _fill(p, home, "/other", 3)
    for node in NODES:
        if node != home:
            _fill(p, node, "/x", 4)
    return p, ns, home


def test_sticky_reuses_an_idle_hot_container_on_a_full_home():
    """A key with an idle hot container on its full home stays (no cold start elsewhere);
    a key of the same home that would need a new container there spills."""
    p, ns, home = _busy_home()
    assert picks(p, ns, n=100, now=0.5) == Counter({home: 100})
    assert p.choose(_home_of(ns, home), ns, 0.5) == ns.spill_order(_home_of(ns, home))[1]


def test_sticky_hot_window_0_turns_hot_reuse_off():
    p, ns, home = _busy_home(hot_window=0.0)
    assert p.choose(KEY, ns, 0.5) == ns.spill_order(KEY)[1]


def test_sticky_hot_containers_lapse_after_the_window():
    p, ns, home = _busy_home(hot_window=5.0)
    assert p.choose(KEY, ns, 4.9) == home
    assert p.choose(KEY, ns, 5.1) != home


def test_sticky_hard_bound_caps_hot_reuse():
    p, ns = policy("sticky", load_floor=1, load_factor=1.0, hot_factor=1.25), NodeSet(NODES)
    home = ns.primary(KEY)
    _fill(p, home, KEY, 10)
    _drain(p, home, KEY, 1)  # an idle container, but home holds 9 (hard: 1.25 * 10 / 5 = 2.5)
    assert p.choose(KEY, ns, 0.5) == ns.spill_order(KEY)[1]


def test_sticky_spilled_key_keeps_its_hot_containers():
    """Hysteresis: a key that spilled keeps using the containers it started on its spill
    node while they are hot, even once home has room again; then it goes home."""
    p, ns = policy("sticky", load_floor=1, load_factor=1.5), NodeSet(NODES)
    order = ns.spill_order(KEY)
    home, second = order[0], order[1]
    _fill(p, home, "/other", 4)                 # home full: 4 of 4 in flight
    assert p.choose(KEY, ns, 0.0) == second
    _fill(p, second, KEY, 2)
    _drain(p, second, KEY, 2, now=0.1)          # two idle hot containers on the second node
    _drain(p, home, "/other", 3, now=0.1)       # home: 1 in flight
    for node in order[2:]:
        _fill(p, node, "/x", 3)                 # limit now 1.5 * 11 / 5 = 3.3: home has room
    assert picks(p, ns, n=100, now=1.0) == Counter({second: 100})
    assert p.choose(KEY, ns, p.params.hot_window + 1.0) == home


def test_sticky_new_container_goes_home_when_home_has_room():
    p, ns = policy("sticky", load_floor=1, load_factor=1.5), NodeSet(NODES)
    home = ns.primary(KEY)
    _fill(p, home, KEY, 3)       # all of KEY's containers at home are busy
    for node in NODES:
        if node != home:
            _fill(p, node, "/x", 3)  # limit 1.5 * 16 / 5 = 4.8: home has room
    assert p.choose(KEY, ns, 0.0) == home


def test_sticky_failed_node_forgets_its_hot_containers():
    p = policy("sticky")
    p.started(NODES[2], KEY, 0.0)
    p.finished(NODES[2], KEY, 0.0, None, 0.0, 502)
    assert NODES[2] not in p.hot[KEY]


def test_sticky_hot_table_is_bounded():
    p, ns = policy("sticky", wait_table_size=64, hot_window=5.0), NodeSet(NODES)
    for i in range(1000):
        key = f"/r/k/{i}"
        node = p.choose(key, ns, i * 0.1)
        p.started(node, key, i * 0.1)
        p.finished(node, key, i * 0.1 + 0.05, 0.0, 0.05, 200)
        assert len(p.hot) <= 64


def test_sticky_light_key_reuses_its_idle_container_on_a_busy_home():
    """A key with nothing in flight at home and a container there stays up to 1.5x the
    reuse bound; a key with calls in flight there (more than one container) does not."""
    p, ns = policy("sticky", load_floor=1, load_factor=1.0, hot_factor=1.0), NodeSet(NODES)
    home = ns.primary(KEY)
    other = _home_of(ns, home)
    _fill(p, home, KEY, 1)
    _drain(p, home, KEY, 1)          # KEY: one idle container at home
    _fill(p, home, other, 2)
    _drain(p, home, other, 1)        # other: one call running, one idle container
    _fill(p, home, "/x", 5)
    for node in NODES:
        if node != home:
            _fill(p, node, "/x", 4)  # home 6, total 22: hard = 23 / 5 = 4.6, 1.5x = 6.9
    assert p.choose(KEY, ns, 0.5) == home
    assert p.choose(other, ns, 0.5) != home
    _fill(p, home, "/x", 1)          # home 7 < 1.5 * 24 / 5 = 7.2: it still stays
    assert p.choose(KEY, ns, 0.5) == home
    _fill(p, home, "/x", 2)          # home 9 >= 1.5 * 26 / 5 = 7.8: even a light key leaves
    assert p.choose(KEY, ns, 0.5) != home


@pytest.mark.parametrize("name", list(POLICIES))
def test_begin_decides_as_choose_then_started(name):
    """The proxy's begin() (one call; the default policy shares the key's state lookup)
    against the simulator's choose() + started() on a twin policy: the same node every
    time, through load, 502s, hot windows lapsing, small tables and node-set changes."""
    params = dict(wait_table_size=64, hot_window=0.5, load_floor=2, wait_grace=0.2, wait_fade=0.3)
    a, b = policy(name, seed=7, **params), policy(name, seed=7, **params)
    rng = random.Random(3)
    ns, now, flight = NodeSet(NODES), 0.0, []
    for i in range(20_000):
        now += rng.expovariate(400.0)
        if i % 5000 == 4999:
            ns = NodeSet(rng.sample(NODES, rng.randint(2, len(NODES))))
        key = f"/r/k{int(rng.paretovariate(1.2)) % 200}"
        got = a.begin(key, ns, now)
        want = b.choose(key, ns, now)
        b.started(want, key, now)
        assert got == want
        flight.append((got, key))
        while flight and (len(flight) > 12 or rng.random() < 0.4):
            node, k = flight.pop(rng.randrange(len(flight)))
            status = rng.choice((200, 200, 200, 502, 0))
            wait = None if status == 502 or rng.random() < 0.1 else rng.expovariate(rng.choice((50.0, 2.0)))
            for p in (a, b):
                p.finished(node, k, now, wait, 0.01, status)
    assert a.inflight.by_node == b.inflight.by_node
