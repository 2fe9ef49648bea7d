"""The hash and the node choice: the reference's values, balance, movement, order independence."""

import random
from collections import Counter

import pytest

from fnlb.routing.hashing import HashCache, jump, key_hash, spill_score, wire_key
from fnlb.routing.nodeset import NodeSet

NODES3 = ["127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:8082"]

# The spec's table (docs/reference-fnlb.md): key, siphash, bucket of 3, node, of 10, of 1000.
SPEC = [
    ("/r/app/hello", 0x35600CCC456C8190, 1, "127.0.0.1:8081", 1, 858),
    ("/r/app/world", 0xFA77A652AF8CD860, 2, "127.0.0.1:8082", 5, 223),
    ("/r/myapp/resize", 0x9924A63A45873BBA, 0, "127.0.0.1:8080", 3, 658),
    ("/v1/apps", 0x1226ED1C4C03A60A, 2, "127.0.0.1:8082", 2, 765),
    ("", 0x4DCCF8F6E62EA9AD, 2, "127.0.0.1:8082", 6, 666),
]


@pytest.mark.parametrize("key,sip,b3,node,b10,b1000", SPEC)
def test_spec_table(key, sip, b3, node, b10, b1000):
    assert key_hash(key) == sip
    assert key_hash(key.encode()) == sip
    assert jump(sip, 3) == b3
    assert jump(sip, 10) == b10
    assert jump(sip, 1000) == b1000
    assert NodeSet(NODES3).primary(key) == node


def test_hash_is_unsigned_64_bit():
    hashes = [key_hash(f"/r/app/{i}") for i in range(1000)]
    assert all(0 <= h < 1 << 64 for h in hashes)
    assert any(h >= 1 << 63 for h in hashes)  # the top bit is used (intdigest() is signed)


def test_jump_edge_cases():
    assert jump(0, 1) == 0
    assert jump((1 << 64) - 1, 1) == 0
    for h in (0, 1, (1 << 64) - 1, 0x35600CCC456C8190):
        assert all(0 <= jump(h, n) < n for n in (1, 2, 7, 100, 65536))


def test_every_node_is_a_primary():
    """The reference's bug: the node at sorted index 1 was never chosen."""
    nodes = [f"10.0.0.{i}:8080" for i in range(50)]
    ns = NodeSet(nodes)
    seen = {ns.primary(f"/r/app/f{i}") for i in range(20_000)}
    assert seen == set(nodes)


def test_balance_10_nodes_100k_keys():
    counts = Counter(jump(key_hash(f"/r/app{i % 97}/fn{i}"), 10) for i in range(100_000))
    assert len(counts) == 10
    assert max(counts.values()) / (100_000 / 10) <= 1.05


@pytest.mark.parametrize("n", [3, 10, 50])
def test_growing_moves_about_one_in_n_plus_1_and_only_to_the_new_node(n):
    keys = [f"/r/app/fn{i}" for i in range(30_000)]
    # Jump hash numbers buckets by sorted position: the new node must sort last (as a new
    # higher port or address usually does) for its bucket to be the new one, n.
    before = NodeSet([f"10.0.0.1:{8000 + i}" for i in range(n)])
    after = NodeSet([*before.nodes, "10.0.0.1:9999"])
    moved = [k for k in keys if before.primary(k) != after.primary(k)]
    assert all(after.primary(k) == "10.0.0.1:9999" for k in moved)
    expected = len(keys) / (n + 1)
    assert abs(len(moved) - expected) <= 0.10 * expected


def test_order_of_nodes_given_does_not_matter():
    nodes = [f"node{i}.example:80{i:02d}" for i in range(20)]
    shuffled = nodes[:]
    random.Random(7).shuffle(shuffled)
    a, b = NodeSet(nodes), NodeSet(shuffled + nodes[:3])  # duplicates too
    assert a.nodes == b.nodes
    for i in range(2000):
        key = f"/r/a/{i}"
        assert a.primary(key) == b.primary(key)
        assert a.spill_order(key) == b.spill_order(key)


def test_sorted_by_address_bytes():
    ns = NodeSet(["b:1", "a:10", "a:9", "A:1"])
    assert ns.nodes == ("A:1", "a:10", "a:9", "b:1")


def test_spill_order_is_a_permutation_starting_at_the_primary():
    ns = NodeSet([f"10.0.0.{i}:80" for i in range(12)])
    for i in range(300):
        key = f"/r/x/{i}"
        order = ns.spill_order(key)
        assert order[0] == ns.primary(key)
        assert sorted(order) == sorted(ns.nodes)


def test_spill_orders_spread_a_nodes_overflow_over_many_neighbours():
    """Keys of one primary do not all spill to the same next node (the reference's walk did)."""
    ns = NodeSet([f"10.0.0.{i}:80" for i in range(10)])
    home = "10.0.0.3:80"
    keys = [k for k in (f"/r/x/{i}" for i in range(5000)) if ns.primary(k) == home]
    seconds = Counter(ns.spill_order(k)[1] for k in keys)
    assert len(seconds) == 9
    assert max(seconds.values()) < 2.0 * len(keys) / 9
    assert {ns.sorted_walk(k)[1] for k in keys} == {"10.0.0.4:80"}


def test_spill_order_mostly_survives_node_changes():
    """Rendezvous order: removing a node removes it from each order and keeps the rest."""
    nodes = [f"10.0.0.{i}:80" for i in range(10)]
    a, b = NodeSet(nodes), NodeSet(nodes[:-1])
    same = 0
    for i in range(1000):
        key = f"/r/x/{i}"
        if a.primary(key) == b.primary(key):
            same += 1
            assert [n for n in a.spill_order(key) if n != nodes[-1]] == b.spill_order(key)
    assert same > 800


def test_spill_score_depends_on_both_inputs():
    assert spill_score(1, 2) != spill_score(1, 3)
    assert spill_score(1, 2) != spill_score(5, 2)
    assert 0 <= spill_score((1 << 64) - 1, 12345) < 1 << 64


def test_hash_cache_is_bounded_and_correct():
    cache = HashCache(capacity=100)
    for i in range(1000):
        key = f"/r/k/{i}"
        assert cache(key) == key_hash(key)
        assert len(cache) <= 100


def test_nodeset_caches_are_bounded():
    ns = NodeSet(NODES3, cache_size=50)
    for i in range(500):
        ns.primary(f"/k/{i}")
        ns.spill_order(f"/k/{i}")
    assert len(ns.primaries) <= 50 and len(ns._orders) <= 50
    assert ns.primary("/r/app/hello") == "127.0.0.1:8081"


def test_empty_nodeset():
    ns = NodeSet([])
    assert ns.primary("/x") is None
    assert ns.spill_order("/x") == [] and ns.sorted_walk("/x") == []


def test_keys_are_the_paths_bytes_as_latin1_text():
    """The proxy decodes the path's raw bytes as Latin-1; the hash must be of those bytes
    (what Go hashed), which for UTF-8 paths are the UTF-8 bytes."""
    raw = "/r/café".encode()                      # b"/r/caf\xc3\xa9" on the wire
    as_proxy_passes_it = raw.decode("latin-1")
    assert key_hash(as_proxy_passes_it) == key_hash(raw)
    assert wire_key("/r/café") == as_proxy_passes_it
    assert key_hash(wire_key("/r/café")) == key_hash(raw)
    assert key_hash(b"/r/\xff\xfe") == key_hash("/r/\xff\xfe")  # not UTF-8 at all: still its bytes
    assert key_hash("/r/\u20ac") == key_hash("/r/\u20ac".encode())  # beyond U+00FF: UTF-8
    assert wire_key("/r/app/hello") == "/r/app/hello"
