"""The container estimate replays a node's bookkeeping from the calls a balancer sends."""

from fnlb.routing.containers import Containers

A, B = "10.0.0.1:8080", "10.0.0.2:8080"
K, L = "/r/app/k", "/r/app/l"


def test_a_first_call_starts_a_container_and_leaves_it_idle():
    c = Containers(idle_timeout=10.0)
    assert c.take(A, K, 0.0) is None  # nothing idle: a new container
    assert c.on(A) == 1 and c.total == 1
    c.release(A, K, 0.1)
    assert c.warm(K) == {A: 1}
    assert c.take(A, K, 0.5) == 0.1   # reuses it: no new container
    assert c.on(A) == 1


def test_the_most_recently_used_idle_container_is_reused_first():
    c = Containers(idle_timeout=10.0)
    c.take(A, K, 0.0)
    c.take(A, K, 0.0)
    c.release(A, K, 1.0)
    c.release(A, K, 2.0)
    assert c.take(A, K, 3.0) == 2.0
    # the older one lapses first: at 11.0 it has been idle 10 s
    c.sweep(11.0)
    assert c.warm(K) == {A: 1}  # only the busy one is left
    assert c.on(A) == 1


def test_idle_containers_lapse_after_the_idle_timeout():
    c = Containers(idle_timeout=10.0)
    c.take(A, K, 0.0)
    c.release(A, K, 1.0)
    c.sweep(10.9)
    assert c.warm(K) == {A: 1}
    c.sweep(11.0)
    assert c.of(K) is None and c.on(A) == 0 and c.total == 0


def test_a_failed_node_keeps_no_container():
    c = Containers(idle_timeout=10.0)
    c.take(A, K, 0.0)
    c.release(A, K, 0.5, alive=False)
    assert c.of(K) is None and c.total == 0


def test_a_stray_release_changes_nothing():
    c = Containers(idle_timeout=10.0)
    c.release(A, K, 0.5)
    assert c.of(K) is None and c.total == 0


def test_an_eviction_takes_every_older_idle_container_of_the_node():
    c = Containers(idle_timeout=30.0)
    for key, t in ((K, 1.0), (L, 2.0), (K, 3.0)):
        c.take(A, key, 0.0)
        c.release(A, key, t)
    c.take(B, L, 0.0)
    c.release(B, L, 1.0)
    c.evicted(A, 2.0)  # the node no longer had a container idle since 2.0: LRU took 1.0 and 2.0
    assert c.warm(K) == {A: 1}
    assert c.warm(L) == {B: 1}
    assert c.on(A) == 1 and c.total == 2


def test_the_oldest_idle_container_per_node():
    c = Containers(idle_timeout=30.0)
    for node, key, t in ((A, K, 1.0), (B, K, 2.0), (A, L, 3.0)):
        c.take(node, key, 0.0)
        c.release(node, key, t)
    assert c.oldest_idle([A, B]) == {A: 1.0, B: 2.0}
    assert c.take(A, K, 4.0) == 1.0
    assert c.oldest_idle([A]) == {A: 3.0}


def test_memory_is_bounded_by_forgetting_the_oldest_idle_containers():
    c = Containers(idle_timeout=1000.0, capacity=3)
    for i in range(10):
        c.take(A, f"/r/app/f{i}", float(i))
        c.release(A, f"/r/app/f{i}", float(i))
    assert c.total == 3 and len(c.pools) == 3
    assert sorted(c.pools) == ["/r/app/f7", "/r/app/f8", "/r/app/f9"]
