import pytest

from fnlb.nodes.version import at_least, parse


def test_semantic_order_not_string_order():
    assert at_least("0.3.700", "0.0.235")
    assert at_least("0.0.1000", "0.0.235")      # "1000" < "235" as strings
    assert not at_least("0.0.234", "0.0.235")
    assert at_least("0.0.235", "0.0.235")
    assert not at_least("0.0.99", "0.0.235")
    assert at_least("1.0.0", "0.99.999")


def test_prerelease_sorts_below_release_per_semver():
    chain = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
             "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]
    keys = [parse(v) for v in chain]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_build_metadata_and_v_prefix():
    assert parse("1.2.3+build.5") == parse("1.2.3")
    assert parse("v1.2.3") == parse("1.2.3")


@pytest.mark.parametrize("bad", ["", "1.2", "1.2.3.4", "01.2.3", "x.y.z", "1.2.3-", None])
def test_malformed_versions_raise(bad):
    with pytest.raises(ValueError):
        parse(bad)
