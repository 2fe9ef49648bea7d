"""The Dispatcher protocol: the Balancer provides the four calls the proxy makes."""

from __future__ import annotations

import inspect

from fnlb.app import Balancer
from fnlb.proxy.dispatcher import Dispatcher
from tests.nodes.helpers import make_cfg

CALLS = ("begin", "begin_retry", "request_done", "upstream_failed")


def test_balancer_is_a_dispatcher_with_the_protocols_signatures():
    balancer = Balancer(make_cfg())
    assert isinstance(balancer, Dispatcher)
    for name in CALLS:
        # isinstance checks the names only: the parameters must match too
        want = list(inspect.signature(getattr(Dispatcher, name)).parameters)[1:]
        assert list(inspect.signature(getattr(balancer, name)).parameters) == want, name


def test_an_object_without_begin_retry_is_not_one():
    class Partial:
        def begin(self, key, now):
            return None

        def request_done(self, node, key, status, latency, wait_header, now):
            pass

        def upstream_failed(self, node, key, now):
            pass

    assert not isinstance(Partial(), Dispatcher)


def test_begin_retry_obeys_the_retries_budget():
    nodes = ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4"]
    balancer = Balancer(make_cfg("--retries", "2"))
    balancer.router.set_nodes(nodes)
    order = balancer.router.order("/r/a/f", 0.0)
    tried = [order[0]]
    assert balancer.begin_retry("/r/a/f", tried, 0.0) == order[1]
    tried.append(order[1])
    assert balancer.begin_retry("/r/a/f", tried, 0.0) == order[2]
    tried.append(order[2])
    assert balancer.begin_retry("/r/a/f", tried, 0.0) is None      # 1 + 2 nodes tried
    assert balancer.router.in_flight_by_node() == {order[1]: 1, order[2]: 1}
    none = Balancer(make_cfg("--retries", "0"))
    none.router.set_nodes(nodes)
    assert none.begin_retry("/r/a/f", [order[0]], 0.0) is None
