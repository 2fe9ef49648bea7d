"""The Router contract the balancer, observability and the simulator rely on."""

import random
from types import SimpleNamespace

from fnlb.config.typed import from_namespace
from fnlb.routing.options import FLAGS, RoutingConfig
from fnlb.routing.policies import make_policy
from fnlb.routing.policy import Params
from fnlb.routing.router import Router, build_router

NODES = ["127.0.0.1:8082", "127.0.0.1:8080", "127.0.0.1:8081"]


def flags(**over):
    """The namespace the routing flags parse to, by default with every flag's default."""
    values = {f.attr: f.default for f in FLAGS}
    values.update(over)
    return SimpleNamespace(**values)


def cfg(**over):
    return RoutingConfig.from_namespace(flags(**over))


def test_build_router_from_flags():
    r = build_router(cfg(policy="bounded", bounded_factor=2.0, wait_table_size=7, spill_wait=0.1))
    assert r.policy.name == "bounded"
    assert r.policy.params.bounded_factor == 2.0
    assert r.policy.params.spill_wait == 0.1
    assert r.policy.waits.capacity == 7


def test_build_router_defaults_to_the_default_policy():
    assert build_router(RoutingConfig()).policy.name == "default"
    assert RoutingConfig.from_namespace(SimpleNamespace()) == RoutingConfig()  # a command without the flags


def test_flag_defaults_match_params():
    d = Params()
    c = flags()
    for name in ("bounded_factor", "wait_table_size", "wait_grace", "wait_fade", "spill_wait",
                 "spill_wait_max", "spill_keep", "load_factor", "load_floor"):
        assert getattr(c, name) == getattr(d, name)
    assert from_namespace(Params, c) == d
    assert RoutingConfig.from_namespace(c) == RoutingConfig(params=d)


def test_no_nodes():
    r = build_router(cfg())
    assert r.pick("/r/app/hello", 0.0) is None
    assert r.order("/r/app/hello", 0.0) == []
    assert not r.is_primary("/r/app/hello", "127.0.0.1:8081")


def test_spec_nodes_and_order_independence():
    r = build_router(cfg())
    r.set_nodes(NODES)
    assert r.nodes == ("127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:8082")
    assert r.pick("/r/app/hello", 0.0) == "127.0.0.1:8081"
    assert r.pick("/r/myapp/resize", 0.0) == "127.0.0.1:8080"
    assert r.is_primary("/r/app/hello", "127.0.0.1:8081")
    order = r.order("/r/app/hello", 0.0)
    assert order[0] == "127.0.0.1:8081" and sorted(order) == sorted(NODES)
    order.clear()  # callers may mutate what they get
    assert len(r.order("/r/app/hello", 0.0)) == 3


def test_set_nodes_changes_routing_and_keeps_state():
    r = build_router(cfg())
    r.set_nodes(NODES)
    r.started("127.0.0.1:8081", "/r/app/hello", 0.0)
    r.set_nodes(["127.0.0.1:8080"])
    assert r.pick("/r/app/hello", 0.0) == "127.0.0.1:8080"
    assert r.in_flight_by_node() == {"127.0.0.1:8081": 1}
    r.finished("127.0.0.1:8081", "/r/app/hello", 0.1, None, 0.1, 502)
    assert r.in_flight_by_node() == {}


def test_in_flight_and_wait_table():
    r = Router(make_policy("default", rng=random.Random(0)))
    r.set_nodes(NODES)
    r.started("127.0.0.1:8081", "/a", 0.0)
    r.started("127.0.0.1:8081", "/b", 0.0)
    assert r.in_flight_by_node() == {"127.0.0.1:8081": 2}
    r.finished("127.0.0.1:8081", "/a", 1.0, 0.05, 0.2, 200)
    r.finished("127.0.0.1:8081", "/b", 1.0, None, 0.2, 200)  # no header: no sample
    assert r.in_flight_by_node() == {}
    assert r.wait_table(1.5) == [("127.0.0.1:8081", "/a", 0.05)]
    assert r.wait_table(10.0) == []  # forgotten


def test_the_data_path_round_trip_moves_a_slow_key_and_brings_it_back():
    """pick/started/finished as the proxy calls them, in virtual time."""
    r = Router(make_policy("default", rng=random.Random(5)))
    r.set_nodes([f"10.0.0.1:{8000 + i}" for i in range(4)])
    key = "/r/app/slow"
    primary = r.order(key, 0.0)[0]
    now, seen = 0.0, []
    for _ in range(400):  # 2 s at 200 requests/s; the primary reports 3 s waits
        node = r.pick(key, now)
        r.started(node, key, now)
        r.finished(node, key, now + 0.001, 3.0 if node == primary else 0.01, 0.01, 200)
        seen.append(node)
        now += 0.005
    assert seen[-200:].count(primary) < 50  # spread away
    now += 5.0  # no samples: the stale wait stops repelling
    assert all(r.pick(key, now) == primary for _ in range(100))
