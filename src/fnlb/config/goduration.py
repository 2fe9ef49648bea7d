"""Go duration strings, as Go's time.ParseDuration reads them and Duration.String() writes them.

Nodes report their wait in the XXX-FXLB-WAIT header in this syntax, and fnlb's duration
flags accept it, so one parser serves the data path, the CLI and the simulator.

Grammar (Go's): ``[-+]?([0-9]*(\\.[0-9]*)?unit)+`` or the bare string ``0``; each number
needs a digit on one side of its dot; units are ns, us, µs (U+00B5), μs (U+03BC), ms, s,
m, h. Values are whole nanoseconds and must fit in a signed 64-bit integer, like Go's.
Fractions are computed as Go does (float64, truncated toward zero at the nanosecond), so
``0.3333333333333333333h`` is exactly 20m, as in Go's own tests.
"""

from __future__ import annotations

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_MAX_NS = (1 << 63) - 1
_LIMIT_NS = 1 << 63  # the magnitude of the most negative duration
_DIGITS = frozenset("0123456789")
_UNIT_CHARS = frozenset("nsuµμmh")


class DurationError(ValueError):
    pass


def parse_ns(text: str) -> int:
    """Parse a Go duration string into integer nanoseconds; raise DurationError if invalid."""
    s = text
    neg = False
    if s[:1] in ("+", "-"):
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise DurationError(f"invalid duration {text!r}")
    total = 0
    i, n = 0, len(s)
    while i < n:
        start = i
        while i < n and s[i] in _DIGITS:
            i += 1
        whole = s[start:i]
        frac = ""
        if i < n and s[i] == ".":
            i += 1
            fstart = i
            while i < n and s[i] in _DIGITS:
                i += 1
            frac = s[fstart:i]
        if not whole and not frac:
            raise DurationError(f"invalid duration {text!r}")
        ustart = i
        while i < n and s[i] in _UNIT_CHARS:
            i += 1
        unit = _UNITS.get(s[ustart:i])
        if unit is None:
            raise DurationError(f"unknown or missing unit in duration {text!r}")
        whole = whole.lstrip("0")
        if len(whole) > 19:  # > 2**63 whatever the unit; also keeps int() off huge strings
            raise DurationError(f"duration {text!r} overflows")
        value = int(whole or "0") * unit
        if frac:
            value += _fraction_ns(frac, unit)
        total += value
        if total > _LIMIT_NS:
            raise DurationError(f"duration {text!r} overflows")
    if neg:
        return -total
    if total > _MAX_NS:  # Go allows exactly -2**63 but not +2**63
        raise DurationError(f"duration {text!r} overflows")
    return total


def _fraction_ns(digits: str, unit: int) -> int:
    """Go's leadingFraction and its float arithmetic: digits stop counting once the
    integer would pass 2**63, and the product is a float64 truncated toward zero."""
    x, scale = 0, 1.0
    for c in digits[:19]:  # a 20th digit always overflows
        y = x * 10 + ord(c) - 48
        if x > _MAX_NS // 10 or y > _LIMIT_NS:
            break
        x, scale = y, scale * 10
    return int(float(x) * (float(unit) / scale))


def parse_seconds(text: str) -> float:
    """Parse a Go duration string into (float) seconds."""
    return parse_ns(text) / 1e9


def _with_fraction(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    width = len(str(unit)) - 1
    return f"{whole}.{str(frac).rjust(width, '0').rstrip('0')}"


def format_ns(ns: int) -> str:
    """Format nanoseconds the way Go's Duration.String() does ("0s", "1.5ms", "2m3.5s")."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1_000:
        return f"{sign}{u}ns"
    if u < 1_000_000:
        return f"{sign}{_with_fraction(u, 1_000)}\u00b5s"
    if u < 1_000_000_000:
        return f"{sign}{_with_fraction(u, 1_000_000)}ms"
    hours, rest = divmod(u, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    out = f"{_with_fraction(rest, 1_000_000_000)}s"
    if hours or minutes:
        out = f"{minutes}m{out}"
    if hours:
        out = f"{hours}h{out}"
    return sign + out


def format_seconds(seconds: float) -> str:
    return format_ns(round(seconds * 1e9))
