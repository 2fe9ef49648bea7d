"""``Policy.decide``: the node ``choose`` returns and the step of the policy's rule that chose
it, without changing the policy's state (what /1/lb/route and ``fnlb route --explain`` say)."""

import copy
import random

import pytest

from fnlb.routing.nodeset import NodeSet
from fnlb.routing.policies import POLICIES, make_policy
from fnlb.routing.policy import REASONS, Params

NODES = [f"10.0.0.1:{8000 + i}" for i in range(4)]
KEY = "/r/app/hot"


def policy(name="default", **params):
    return make_policy(name, Params(**params), random.Random(1))


def call(p, ns, key, now):
    node = p.choose(key, ns, now)
    p.started(node, key, now)
    return node


def state(p):
    c = p.containers
    return ({k: {n: (pool.busy, list(pool.idle)) for n, pool in v.items()} for k, v in c.pools.items()},
            dict(c.per_node), c.total, dict(p.inflight.by_node), p.waits.snapshot(100.0))


def test_each_step_of_warm_first_names_itself():
    p, ns = policy(load_floor=1), NodeSet(NODES)
    order = ns.spill_order(KEY)
    assert p.decide(KEY, ns, 0.0) == (order[0], "grow")          # nothing anywhere: grow at home
    assert [call(p, ns, KEY, 0.0) for _ in range(3)] == [order[0], order[0], order[1]]
    p.finished(order[1], KEY, 0.5, 0.0, 0.5, 200)                # the spilled container is idle
    assert p.decide(KEY, ns, 0.6) == (order[1], "warm")
    p.finished(order[0], KEY, 0.7, 0.0, 0.7, 200)                # and one at home
    assert p.decide(KEY, ns, 0.8) == (order[0], "home")


def test_every_node_full_is_said():
    # No node is a candidate for a new container when every one is slow for the key.
    p, ns = policy(load_floor=1, spill_wait=0.25), NodeSet(NODES)
    for node in NODES:
        p.node_waits.add(node, "", 5.0, 0.0)                     # every node slow for a new key
    assert p.decide(KEY, ns, 0.1) == (ns.spill_order(KEY)[0], "full")


def test_decide_is_what_choose_returns_and_changes_nothing():
    rng = random.Random(7)
    p, ns = policy(load_floor=2), NodeSet(NODES)
    keys = [f"/r/app/f{i}" for i in range(12)]
    running = []
    for step in range(400):
        now = step * 0.05
        key = rng.choice(keys)
        p.containers.sweep(now)                                  # the one change decide may make
        before = copy.deepcopy(state(p))
        node, reason = p.decide(key, ns, now)
        assert state(p) == before and reason in REASONS
        assert call(p, ns, key, now) == node
        running.append((node, key))
        if len(running) > 6:
            n, k = running.pop(rng.randrange(len(running)))
            p.finished(n, k, now + 0.01, 0.3 if rng.random() < 0.2 else 0.0, 0.1, 200)


@pytest.mark.parametrize("name", [n for n in POLICIES if n != "default"])
def test_other_policies_say_home_or_spill(name):
    p, ns = policy(name), NodeSet(NODES)
    node, reason = p.decide(KEY, ns, 0.0)
    assert node in NODES and reason == ("home" if node == ns.home(KEY) else "spill")
