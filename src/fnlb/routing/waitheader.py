"""Reading the XXX-FXLB-WAIT response header: a Go duration, in seconds.

Theory of operation
-------------------
The data path calls ``parse_wait`` once per response, so the forms nodes actually send
(Go's ``Duration.String()`` of a wait: ``"0s"``, ``"1.5ms"``, ``"350µs"``, ``"12ns"``,
``"2.25s"``) take a fast path: one unit suffix and a plain decimal number, read with
``float()``. Everything else (sums like ``"1m3.5s"``, a leading sign, odd units, garbage)
goes to the full Go parser (``fnlb.goduration``), which is the single definition of the
syntax. A value that is invalid, negative or overflows 64-bit nanoseconds gives None: the
caller ignores it (never feeds it in as 0) and counts it.
"""

from __future__ import annotations

from fnlb.goduration import DurationError, parse_ns

# Suffix -> seconds per unit, longest suffixes first so "ms" is not read as "s".
_FAST_UNITS = (
    (b"ms", 1e-3),
    (b"\xc2\xb5s", 1e-6),  # µs U+00B5, what Go writes
    (b"ns", 1e-9),
    (b"s", 1.0),
)
_FAST_MAX = 9e9  # seconds: far below 2**63 ns (292 years); larger values take the exact path


def parse_wait(value: bytes) -> float | None:
    """Seconds from an XXX-FXLB-WAIT value; None for invalid, negative or overflowing ones."""
    for suffix, scale in _FAST_UNITS:
        if value.endswith(suffix):
            number = value[: len(value) - len(suffix)]
            # Digits with at most one dot, and at least one digit: exactly Go's number
            # syntax. (float() alone would also take "1e3", "inf", "1_0" and spaces.)
            if number.replace(b".", b"", 1).isdigit():
                seconds = float(number) * scale
                if seconds < _FAST_MAX:
                    return seconds
            break
    return _parse_slow(value)


def _parse_slow(value: bytes) -> float | None:
    try:
        ns = parse_ns(value.decode("utf-8"))
    except (DurationError, UnicodeDecodeError):
        return None
    return ns / 1e9 if ns >= 0 else None
