"""Go duration syntax (time.ParseDuration / Duration.String) and the XXX-FXLB-WAIT reader."""

import pytest

from fnlb.config.goduration import DurationError, format_ns, format_seconds, parse_ns, parse_seconds
from fnlb.routing.waitheader import parse_wait

MS, S, M, H = 1_000_000, 1_000_000_000, 60_000_000_000, 3_600_000_000_000

VALID = [
    ("0", 0), ("+0", 0), ("-0", 0), ("0s", 0), ("5s", 5 * S), ("30s", 30 * S), ("1478s", 1478 * S),
    ("-5s", -5 * S), ("+5s", 5 * S), ("-0s", 0), ("+0s", 0),
    ("5.0s", 5 * S), ("5.6s", 5 * S + 600 * MS), ("5.s", 5 * S), (".5s", 500 * MS), ("1.0s", S),
    ("1.00s", S), ("1.004s", S + 4 * MS), ("1.0040s", S + 4 * MS), ("100.00100s", 100 * S + MS),
    ("10ns", 10), ("11us", 11_000), ("12µs", 12_000), ("12μs", 12_000), ("13ms", 13 * MS),
    ("14s", 14 * S), ("15m", 15 * M), ("16h", 16 * H),
    ("3h30m", 3 * H + 30 * M), ("10.5s4m", 4 * M + 10 * S + 500 * MS), ("-2m3.4s", -(2 * M + 3 * S + 400 * MS)),
    ("1h2m3s4ms5us6ns", H + 2 * M + 3 * S + 4 * MS + 5_000 + 6), ("39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * MS),
    ("1h2m3.5s", H + 2 * M + 3 * S + 500 * MS), ("2m3.5s", 2 * M + 3 * S + 500 * MS),
    ("52763797000ns", 52763797000), ("0.3333333333333333333h", 20 * M), ("0.100000000000000000000h", 6 * M),
    ("9007199254740993ns", (1 << 53) + 1),
    ("9223372036854775807ns", (1 << 63) - 1), ("9223372036854775.807us", (1 << 63) - 1),
    ("9223372036s854ms775us807ns", (1 << 63) - 1), ("-9223372036854775808ns", -(1 << 63)),
    ("-2562047h47m16.854775808s", -(1 << 63)), ("0000000000000000000001s", S),
    ("0.000000001s", 1), ("0.0000000019s", 1),  # truncated toward zero at the nanosecond
    ("0.830103483285477580700h", 49 * M + 48 * S + 372539827),  # Go's float arithmetic, from Go's tests
]

INVALID = [
    "", "3", "-", "+", "s", ".", "-.", ".s", "+.s", "1", "1d", "1.5", "1e3s", "1 s", " 1s", "1s ",
    "1S", "1MS", "1sm", "1_000s", "inf", "nans", "--1s", "+-1s", "1s-1s", "1..5s", "1.5.5s",
    "9223372036854775808ns", "9223372036854775807ns1ns", "2562047h47m16.854775808s",
    "3000000h", "9223372036854775808s", "1" + "0" * 5000 + "s", "\u00b5", "12\u00c2\u00b5s",
]


@pytest.mark.parametrize("text,ns", VALID)
def test_parse_valid(text, ns):
    assert parse_ns(text) == ns


@pytest.mark.parametrize("text", INVALID)
def test_parse_invalid(text):
    with pytest.raises(DurationError):
        parse_ns(text)


def test_long_fraction_is_fine():
    assert parse_ns("1." + "5" * 5000 + "s") == 1_555_555_555


def test_parse_seconds():
    assert parse_seconds("1.5ms") == 0.0015


@pytest.mark.parametrize("ns,text", [
    (0, "0s"), (1, "1ns"), (1_100, "1.1µs"), (350_000, "350µs"), (1_500_000, "1.5ms"),
    (2 * S + 200 * MS, "2.2s"), (2 * M + 3 * S + 500 * MS, "2m3.5s"), (H, "1h0m0s"),
    (3 * H + 25 * M + 45 * S + 500 * MS, "3h25m45.5s"), (-1_500_000, "-1.5ms"), (100 * H + 1, "100h0m0.000000001s"),
    ((1 << 63) - 1, "2562047h47m16.854775807s"), (-(1 << 63), "-2562047h47m16.854775808s"),
])
def test_format(ns, text):
    assert format_ns(ns) == text
    assert parse_ns(text) == ns  # round trip


def test_format_seconds():
    assert format_seconds(0.25) == "250ms"
    assert format_seconds(0) == "0s"


# -- the header reader: fast path and slow path agree with the parser --------------------

@pytest.mark.parametrize("text,ns", VALID)
def test_parse_wait_valid(text, ns):
    got = parse_wait(text.encode())
    if ns < 0:
        assert got is None
    else:
        assert got == pytest.approx(ns / 1e9, rel=1e-12, abs=1e-9)  # the fast path skips ns truncation


@pytest.mark.parametrize("text", INVALID + ["-1s", "-0.5ms", "-1ns"])
def test_parse_wait_invalid_or_negative_is_none(text):
    assert parse_wait(text.encode("utf-8", "surrogatepass")) is None


@pytest.mark.parametrize("raw", [b"\xff\xfes", b"1\xb5s", b"1\xc2s", b"\x00", b"1.5ms\x00"])
def test_parse_wait_bad_bytes_is_none(raw):
    assert parse_wait(raw) is None


@pytest.mark.parametrize("raw,seconds", [
    (b"0s", 0.0), (b"1.5ms", 0.0015), (b"350\xc2\xb5s", 0.00035), (b"12ns", 12e-9), (b"2.25s", 2.25),
    (b"3s", 3.0), (b"1m", 60.0), (b"1m30s", 90.0), (b"350us", 0.00035), (b"350\xce\xbcs", 0.00035),
    (b"+1s", 1.0), (b"1.s", 1.0), (b".5ms", 0.0005), (b"0", 0.0),
])
def test_parse_wait_common_forms(raw, seconds):
    assert parse_wait(raw) == pytest.approx(seconds)


def test_parse_wait_huge_fast_form_overflows():
    assert parse_wait(b"9300000000s") is None  # > 2**63 ns
    assert parse_wait(b"9223372036.854775807s") == pytest.approx(9223372036.854775807)


def test_parse_wait_accepts_any_bytes_like():
    assert parse_wait(bytearray(b"1.5ms")) == 0.0015
    assert parse_wait(memoryview(b"2s")) == 2.0


def test_parse_wait_cache_is_bounded_and_skips_long_values():
    from fnlb.routing import waitheader
    for i in range(10_000):
        assert parse_wait(f"{i}ms".encode()) == pytest.approx(i / 1000)
    assert len(waitheader._cache) <= waitheader._CACHE_SIZE
    long_value = b"0" * 1000 + b"1s"
    assert parse_wait(long_value) == 1.0
    assert long_value not in waitheader._cache
