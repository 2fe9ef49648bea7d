"""The failover rule shared by the balancer and the simulator: which nodes, at most how many."""

from fnlb.routing.failover import RETRIES, has_tries_left, next_try

ORDER = ["a", "b", "c", "d"]


def test_next_untried_node_of_the_order():
    assert next_try(ORDER, []) == "a"
    assert next_try(ORDER, ["a"]) == "b"
    assert next_try(ORDER, ["b"]) == "a"          # tried elsewhere first: the order decides
    assert next_try(ORDER, ["a", "c"]) == "b"


def test_budget_counts_tries_after_the_first():
    assert RETRIES == 2
    assert next_try(ORDER, ["a", "b"]) == "c"     # third node: the second retry
    assert next_try(ORDER, ["a", "b", "c"]) is None
    assert next_try(ORDER, ["a", "b", "c"], retries=3) == "d"
    assert next_try(ORDER, ["a"], retries=0) is None
    assert has_tries_left(["a", "b"]) and not has_tries_left(["a", "b", "c"])
    assert has_tries_left([], retries=0) and not has_tries_left(["a"], retries=0)


def test_an_exhausted_order_is_none():
    assert next_try(ORDER, ORDER, retries=10) is None
    assert next_try([], []) is None
