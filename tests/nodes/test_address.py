import pytest

from fnlb.nodes.address import AddressError, split, validate


@pytest.mark.parametrize("addr", [
    "127.0.0.1:8080", "localhost:1", "fn-1.example.com:65535", "node_2:80", "FN.Example.COM.:8080",
    "[::1]:8080", "[2001:db8::7]:443", "10.0.0.255:8081", "a:9",
])
def test_valid_addresses_are_kept_as_given(addr):
    assert validate(addr) == addr


@pytest.mark.parametrize("addr, reason", [
    ("", "empty"),
    ("http://127.0.0.1:8080", "scheme"),
    ("127.0.0.1", "no port"),
    ("localhost:", "no port"),
    (":8080", "no host"),
    ("host :8080", "whitespace"),
    (" host:8080", "whitespace"),
    ("host:8080\n", "whitespace"),
    ("host:0", "out of range"),
    ("host:65536", "out of range"),
    ("host:-1", "not a number"),
    ("host:+80", "not a number"),
    ("host:080", "leading zeros"),
    ("host:http", "not a number"),
    ("256.1.1.1:80", "not an IPv4"),
    ("1.2.3:80", "not an IPv4"),
    ("::1:8080", "brackets"),
    ("[::1:8080", "unclosed"),
    ("[not-v6]:80", "not an IPv6"),
    ("bad!host:80", "not a valid host"),
    ("-lead.example:80", "not a valid host"),
    ("a..b:80", "not a valid host"),
    ("host:80/path", "path"),
    ("user@host:80", "user"),
])
def test_invalid_addresses_say_what_is_wrong(addr, reason):
    with pytest.raises(AddressError, match=reason):
        validate(addr)


def test_non_string_is_rejected():
    with pytest.raises(AddressError, match="string"):
        validate(8080)


def test_split_strips_ipv6_brackets():
    assert split("[::1]:8080") == ("::1", 8080)
    assert split("example.com:81") == ("example.com", 81)
