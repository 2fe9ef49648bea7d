"""Property tests: the hash, the node choice and the wait header over arbitrary inputs."""

from hypothesis import given, settings
from hypothesis import strategies as st

from fnlb.config.goduration import DurationError, parse_ns
from fnlb.routing.hashing import jump
from fnlb.routing.nodeset import NodeSet
from fnlb.routing.waitheader import _parse, parse_wait

hashes = st.integers(min_value=0, max_value=(1 << 64) - 1)
addresses = st.lists(st.from_regex(r"[a-z0-9.]{1,12}:[0-9]{2,5}", fullmatch=True), min_size=1, max_size=12,
                     unique=True)


@given(hashes, st.integers(min_value=1, max_value=100_000))
def test_jump_in_range(h, n):
    assert 0 <= jump(h, n) < n


@given(hashes, st.integers(min_value=1, max_value=2000))
def test_jump_moves_only_to_the_new_bucket(h, n):
    before, after = jump(h, n), jump(h, n + 1)
    assert after == before or after == n


@given(addresses, st.randoms(use_true_random=False), st.text(max_size=40))
def test_choice_ignores_the_order_nodes_come_in(nodes, rnd, key):
    shuffled = nodes[:]
    rnd.shuffle(shuffled)
    a, b = NodeSet(nodes), NodeSet(shuffled)
    assert a.primary(key) == b.primary(key)
    assert a.spill_order(key) == b.spill_order(key)
    assert sorted(a.spill_order(key)) == sorted(nodes)


wait_like = st.one_of(
    st.text(alphabet="0123456789.+-eE_ nsuµμmh", max_size=12),
    st.from_regex(r"[+-]?[0-9]{0,6}(\.[0-9]{0,6})?(ns|us|µs|μs|ms|s|m|h)", fullmatch=True),
)


@settings(max_examples=500)
@given(wait_like)
def test_fast_path_agrees_with_the_go_parser(text):
    try:
        ns = parse_ns(text)
        expected = ns / 1e9 if ns >= 0 else None
    except DurationError:
        expected = None
    got = _parse(text.encode())
    if expected is None:
        assert got is None
    else:
        assert got is not None and abs(got - expected) <= 1e-9 + 1e-12 * expected
    assert parse_wait(text.encode()) == got


@given(st.binary(max_size=20))
def test_parse_wait_never_raises(raw):
    value = parse_wait(raw)
    assert value is None or value >= 0
