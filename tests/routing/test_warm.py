"""The default policy, warm first: calls go where their function has an idle container."""

import random

from fnlb.routing.nodeset import NodeSet
from fnlb.routing.policies import make_policy
from fnlb.routing.policy import Params

NODES = [f"10.0.0.1:{8000 + i}" for i in range(4)]
KEY = "/r/app/hot"


def policy(**params):
    return make_policy("default", Params(**params), random.Random(1))


def call(p, ns, key, now):
    node = p.choose(key, ns, now)
    p.started(node, key, now)
    return node


def test_a_light_function_stays_on_its_home():
    p, ns = policy(), NodeSet(NODES)
    home = ns.primary(KEY)
    for i in range(100):
        node = call(p, ns, KEY, i * 0.5)
        assert node == home
        p.finished(node, KEY, i * 0.5 + 0.1, 0.0, 0.1, 200)


def test_concurrent_calls_grow_on_home_while_it_has_room():
    p, ns = policy(load_floor=4), NodeSet(NODES)
    home = ns.primary(KEY)
    assert [call(p, ns, KEY, 0.0) for _ in range(4)] == [home] * 4
    assert p.containers.warm(KEY) == {home: 4}


def test_a_full_home_grows_along_the_keys_own_order():
    """load_floor 2: home takes two containers, then the bound (mean + 1) sends the third on."""
    p, ns = policy(load_floor=2, warm_factor=1.0), NodeSet(NODES)
    order = ns.spill_order(KEY)
    nodes = [call(p, ns, KEY, 0.0) for _ in range(4)]
    assert nodes == [order[0], order[0], order[1], order[1]]


def _spilled(p, ns):
    """Three calls at once with load_floor 1: two start containers at home, one at order[1]."""
    nodes = [call(p, ns, KEY, 0.0) for _ in range(3)]
    order = ns.spill_order(KEY)
    assert nodes == [order[0], order[0], order[1]]
    return order


def test_an_idle_container_away_from_home_is_reused_before_a_new_one_at_home():
    p, ns = policy(load_floor=1), NodeSet(NODES)
    order = _spilled(p, ns)
    p.finished(order[1], KEY, 0.5, 0.0, 0.5, 200)  # the spilled container is idle, home's are busy
    assert call(p, ns, KEY, 0.6) == order[1]
    assert p.containers.warm(KEY) == {order[0]: 2, order[1]: 1}


def test_idle_containers_of_the_key_at_home_are_preferred_over_elsewhere():
    p, ns = policy(load_floor=1), NodeSet(NODES)
    order = _spilled(p, ns)
    for node in (order[0], order[0], order[1]):
        p.finished(node, KEY, 0.5, 0.0, 0.5, 200)
    assert [call(p, ns, KEY, 1.0) for _ in range(3)] == [order[0], order[0], order[1]]


def test_containers_lapse_after_the_warm_window():
    p, ns = policy(warm_window=5.0), NodeSet(NODES)
    node = call(p, ns, KEY, 0.0)
    p.finished(node, KEY, 0.1, 0.3, 0.4, 200)
    assert p.containers.warm(KEY) == {node: 1}
    p.choose(KEY, ns, 5.2)
    assert p.containers.warm(KEY) == {}


def test_a_slow_home_sends_new_containers_elsewhere():
    p, ns = policy(), NodeSet(NODES)
    order = ns.spill_order(KEY)
    p.waits.add(order[0], KEY, 2.0, 0.0)  # calls queue at home
    assert call(p, ns, KEY, 0.1) == order[1]


def test_a_cold_start_it_caused_does_not_make_a_node_look_slow():
    p, ns = policy(), NodeSet(NODES)
    home = call(p, ns, KEY, 0.0)
    p.finished(home, KEY, 0.4, 0.3, 0.4, 200)  # its own cold start
    assert p.waits.get(home, KEY, 0.4) == p.params.spill_wait
    assert call(p, ns, KEY, 0.5) == home


def test_a_call_that_waited_for_a_busy_container_adds_none():
    """A node that queues first: the call sent to start a container took a busy one."""
    p, ns = policy(load_floor=8), NodeSet(NODES)
    a, b = call(p, ns, KEY, 0.0), call(p, ns, KEY, 0.0)
    assert p.containers.on(a) == 2
    p.finished(a, KEY, 0.1, 0.0, 0.1, 200)
    p.finished(b, KEY, 0.2, 0.1, 0.2, 200)  # waited 100 ms, no cold start
    assert p.containers.warm(KEY) == {a: 1}


def test_a_cold_start_where_an_idle_container_was_expected_means_eviction():
    p, ns = policy(load_floor=8), NodeSet(NODES)
    home = ns.primary(KEY)
    other = next(f"/r/app/f{i}" for i in range(100) if ns.primary(f"/r/app/f{i}") == home)
    for key, t in ((other, 1.0), (KEY, 2.0)):
        assert call(p, ns, key, t - 0.5) == home
        p.finished(home, key, t, 0.0, 0.5, 200)
    assert call(p, ns, KEY, 3.0) == home           # expects its idle container
    p.finished(home, KEY, 3.5, 0.3, 0.5, 200)     # but paid a cold start: it was evicted
    assert p.containers.warm(other) == {}          # and so was the older idle one
    assert p.containers.warm(KEY) == {home: 1}


def test_a_failed_node_keeps_no_containers():
    p, ns = policy(), NodeSet(NODES)
    node = call(p, ns, KEY, 0.0)
    p.finished(node, KEY, 0.1, None, 0.1, 502)
    assert p.containers.warm(KEY) == {}


def test_every_balancer_with_the_same_inputs_decides_alike():
    rng = random.Random(7)
    events = []
    for i in range(3000):
        events.append((i * 0.01, f"/r/app/f{min(int(rng.expovariate(0.5)), 30)}", rng.random() < 0.1))
    runs = []
    for seed in (1, 2):
        p, ns = make_policy("default", Params(), random.Random(seed)), NodeSet(NODES)
        inflight, picks = [], []
        for now, key, cold in events:
            while inflight and inflight[0][0] <= now:
                end, node, k, w = inflight.pop(0)
                p.finished(node, k, end, w, 0.1, 200)
            node = call(p, ns, key, now)
            picks.append(node)
            inflight.append((now + 0.2, node, key, 0.3 if cold else 0.0))
        runs.append(picks)
    assert runs[0] == runs[1]
    assert len(set(runs[0])) > 1  # load did spread


def test_with_every_node_full_a_new_container_stays_on_the_keys_node():
    p, ns = policy(load_floor=1, warm_factor=0.5), NodeSet(NODES)
    order = ns.spill_order(KEY)
    other = [f"/r/app/f{i}" for i in range(40)]
    for key in other:  # every node holds containers of other keys
        node = call(p, ns, key, 0.0)
        p.finished(node, key, 0.1, 0.0, 0.1, 200)
    assert all(p.containers.on(n) >= 2 for n in NODES)
    assert call(p, ns, KEY, 0.2) == order[0]  # nowhere has room: home


def test_a_node_that_joins_takes_the_new_containers_of_crowded_nodes():
    """Calls stay on warm containers, but once the other nodes hold more than the bound,
    new containers go to the node that joined, and its idle ones are then reused first."""
    p = policy(load_floor=1)
    two, three = NodeSet(NODES[:2]), NodeSet(NODES[:3])
    keys = [f"/r/app/f{i}" for i in range(12)]
    for key in keys:
        node = call(p, two, key, 0.0)
        p.finished(node, key, 0.1, 0.0, 0.1, 200)
    joined = NODES[2]
    moved = [key for key in keys if call(p, three, key, 1.0) == joined]
    assert moved == [] and p.containers.on(joined) == 0  # idle containers elsewhere: reused
    grown = {call(p, three, key, 1.0) for key in keys}  # each key's second call needs a container
    assert joined in grown


def _busy_on_a_crowded_home(p, ns):
    """KEY's only container busy at home, and home above the bound with other keys' calls."""
    home = ns.primary(KEY)
    p.started(home, KEY, 0.0)
    _crowd_home(p, ns, KEY)
    return home


def test_with_its_containers_busy_a_key_grows_where_there_is_room():
    p, ns = policy(load_floor=1, warm_factor=1.0), NodeSet(NODES)
    _busy_on_a_crowded_home(p, ns)
    assert p.decide(KEY, ns, 0.1) == (ns.spill_order(KEY)[1], "grow")


def _calls_beside_a_busy_one(p, node, wait, n=10):
    """``n`` times: a call of another key holds a container on ``node``, and a second call
    of it, sent to start one beside it, waits ``wait`` seconds and ends after it."""
    key, now = "/r/app/beside", 1.0
    for _ in range(n):
        p.started(node, key, now)
        p.started(node, key, now)
        p.finished(node, key, now + 0.1, 0.0, 0.1, 200)
        p.finished(node, key, now + wait + 0.1, wait, wait + 0.1, 200)
        now += 1.0
    return now


def test_on_a_node_that_queues_first_a_call_waits_for_its_functions_busy_container():
    """Calls sent to start a container beside busy ones of their function waited 100 ms and
    took one of those (the node queues first): KEY's next call goes where its busy
    container is, not to start one elsewhere."""
    p, ns = policy(load_floor=1, warm_factor=1.0), NodeSet(NODES)
    home = _busy_on_a_crowded_home(p, ns)
    now = _calls_beside_a_busy_one(p, home, 0.1)
    assert p.queues_first(home, now)
    assert p.decide(KEY, ns, now) == (home, "queue")


def test_on_a_node_that_queues_first_an_ended_calls_container_goes_to_the_waiting_call():
    """The node hands the container on: it stays busy, so the next call does not count on
    it; the waiting call leaves it idle when it ends."""
    p, ns = policy(load_floor=1, warm_factor=1.0), NodeSet(NODES)
    home = _busy_on_a_crowded_home(p, ns)
    now = _calls_beside_a_busy_one(p, home, 0.1)
    p.started(home, KEY, now)                        # waits for KEY's busy container
    p.finished(home, KEY, now + 0.05, 0.0, 0.1, 200)  # which ends and is handed on
    assert p.containers.warm(KEY) == {home: 1}
    assert not p.containers.of(KEY)[home].idle
    p.finished(home, KEY, now + 0.15, 0.05, 0.15, 200)
    assert list(p.containers.of(KEY)[home].idle) == [now + 0.15]


def test_a_node_that_evicts_is_full_and_its_waits_are_for_a_slot():
    """A full node that cold-starts when busy also makes calls wait (for a slot) and hands
    them their function's containers: after an eviction its waits say nothing of queueing
    first, for 30 s."""
    p, ns = policy(load_floor=1, warm_factor=1.0), NodeSet(NODES)
    home = _busy_on_a_crowded_home(p, ns)
    now = _calls_beside_a_busy_one(p, home, 0.1)
    p.started(home, "/r/app/beside", now)              # reuses its idle container ...
    p.finished(home, "/r/app/beside", now + 0.4, 0.3, 0.4, 200)  # ... which was evicted
    assert not p.queues_first(home, now + 1.0)
    assert p.decide(KEY, ns, now + 1.0)[1] == "grow"
    assert p.queues_first(home, now + 30.5)


def test_a_node_that_cold_starts_beside_busy_containers_does_not_queue_first():
    p, ns = policy(load_floor=1, warm_factor=1.0), NodeSet(NODES)
    home = _busy_on_a_crowded_home(p, ns)
    now = _calls_beside_a_busy_one(p, home, 0.3)
    assert not p.queues_first(home, now)
    assert p.decide(KEY, ns, now)[1] == "grow"


def _crowd_home(p, ns, key):
    """Four busy containers of other keys on the key's home: no room there for one more."""
    home = ns.primary(key)
    for i in range(4):
        p.started(home, f"/r/app/other{i}", 0.0)
    return home


def test_a_lone_balancer_starts_an_unknown_key_where_there_is_room():
    p, ns = policy(load_floor=1, warm_factor=1.0), NodeSet(NODES)
    home = _crowd_home(p, ns, KEY)
    node, reason = p.decide(KEY, ns, 0.1)
    assert (node, reason) == (ns.spill_order(KEY)[1], "grow")
    assert node != home


def _others_calls(p, node, calls, found=True, missed=True):
    """What another balancer's calls look like from here: a key new to us found warm (a
    container it left), then a container we left gone when we come back (it took it)."""
    now = 0.0
    for i in range(calls):
        key = f"/r/shared/{i}"
        now += 0.01
        p.started(node, key, now)
        p.finished(node, key, now + 0.001, 0.0 if found else 0.3, 0.001, 200)
        p.started(node, key, now + 0.002)
        p.finished(node, key, now + 0.003, 0.3 if missed else 0.0, 0.3, 200)
    return now


def test_with_other_balancers_an_unknown_key_goes_home():
    """Containers we did not know of and containers gone that we counted on, both common:
    other balancers share the nodes, so a key this balancer knows nothing of goes home,
    where every balancer starts it (its room count misses the others' containers)."""
    p, ns = policy(load_floor=1, warm_factor=1.0), NodeSet(NODES)
    now = _others_calls(p, ns.nodes[0], 300)
    assert p.shared()
    home = _crowd_home(p, ns, KEY)
    assert p.decide(KEY, ns, now + 1.0) == (home, "shared")


def test_one_kind_of_surprise_alone_is_not_other_balancers():
    """Found warm alone: the warm window is shorter than the nodes' idle timeout. Missed
    alone: the nodes evict. Neither says that other balancers share the nodes."""
    for found, missed in ((True, False), (False, True)):
        p, ns = policy(load_floor=1, warm_factor=1.0), NodeSet(NODES)
        now = _others_calls(p, ns.nodes[0], 300, found, missed)
        assert not p.shared()
        _crowd_home(p, ns, KEY)
        assert p.decide(KEY, ns, now + 1.0)[1] == "grow"
