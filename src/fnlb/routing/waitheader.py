"""Reading the XXX-FXLB-WAIT response header: a Go duration, in seconds.

Theory of operation
-------------------
The data path calls ``parse_wait`` once per response, so the forms nodes actually send
(Go's ``Duration.String()`` of a wait: ``"0s"``, ``"1.5ms"``, ``"350µs"``, ``"12ns"``,
``"2.25s"``) take a fast path: one unit suffix and a plain decimal number, read with
``float()``. Everything else (sums like ``"1m3.5s"``, a leading sign, odd units, garbage)
goes to the full Go parser (``fnlb.config.goduration``), which is the single definition
of the syntax. A value that is invalid, negative or overflows 64-bit nanoseconds gives
None: the caller ignores it (never feeds it in as 0) and counts it.

Values repeat (``"0s"`` for every call that found a hot container), so results of short
values are kept in a bounded dictionary (emptied when full), which makes the common case
a single lookup. The fast path skips Go's truncation to whole nanoseconds; the result
differs from the exact one by float rounding only.
"""

from __future__ import annotations

from fnlb.config.goduration import DurationError, parse_ns

# Last two bytes -> (suffix length, units per second). A plain "s" is found by elimination.
_SUFFIXES = {
    b"ms": (2, 1e3),
    b"\xb5s": (3, 1e6),  # µs U+00B5 (c2 b5), what Go writes; the c2 is checked below
    b"ns": (2, 1e9),
}
_FAST_MAX = 9e9  # seconds: far below 2**63 ns (292 years); larger values take the exact path
_CACHE_SIZE = 4096  # distinct values remembered ("0s" and friends repeat); emptied when full
_CACHE_VALUE_MAX = 32  # only short values are cached, so the cache stays under ~0.5 MB
_cache: dict[bytes, float | None] = {}


def parse_wait(value: bytes) -> float | None:
    """Seconds from an XXX-FXLB-WAIT value; None for invalid, negative or overflowing ones."""
    if type(value) is not bytes:  # a bytearray or memoryview
        value = bytes(value)
    try:
        return _cache[value]
    except KeyError:
        pass
    seconds = _parse(value)
    if len(value) <= _CACHE_VALUE_MAX:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        _cache[value] = seconds
    return seconds


def _parse(value: bytes) -> float | None:
    if value[-1:] == b"s":
        length, per_second = _SUFFIXES.get(value[-2:], (1, 1.0))
        if length == 3 and value[-3:-2] != b"\xc2":
            return _parse_slow(value)
        number = value[:-length]
        # Digits with at most one dot, and at least one digit: exactly Go's number
        # syntax. (float() alone would also take "1e3", "inf", "1_0" and spaces.)
        if number.replace(b".", b"", 1).isdigit():
            seconds = float(number) / per_second  # division: 12ns is exactly 12 / 1e9
            if seconds < _FAST_MAX:
                return seconds
    return _parse_slow(value)


def _parse_slow(value: bytes) -> float | None:
    try:
        ns = parse_ns(value.decode("utf-8"))
    except (DurationError, UnicodeDecodeError):
        return None
    return ns / 1e9 if ns >= 0 else None
