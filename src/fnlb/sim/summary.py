"""Latency percentiles and the summary of a load run: pure functions over results.

A result is one request's outcome (:class:`Result`). ``summarize`` turns a list of them
into the dict that ``fnlb load --json`` prints; the demo uses the same function on each
second's results. Percentiles use the nearest-rank method: the p-th percentile of n
sorted values is the ceil(p/100 * n)-th smallest, so it is always an observed value.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, NamedTuple, Sequence


class Result(NamedTuple):
    path: str           # the routing key (no query string)
    latency: float      # seconds from the scheduled send time to the full response
    status: int         # HTTP status; 0 when no response (refused, reset, timeout)
    cold: bool | None   # the sim-node body's "cold" (None when absent)
    node: str | None    # the sim-node body's "node"
    wait: float | None  # the sim-node body's "wait" (seconds)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = math.ceil(p / 100.0 * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def is_error(r: Result) -> bool:
    return not 200 <= r.status < 400


def latency_summary(latencies: Iterable[float]) -> dict[str, float]:
    values = sorted(latencies)
    return {
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": values[-1] if values else 0.0,
        "mean": sum(values) / len(values) if values else 0.0,
    }


def shares(counter: Counter) -> dict[str, float]:
    total = sum(counter.values())
    return {k: v / total for k, v in sorted(counter.items())} if total else {}


def summarize(results: Sequence[Result], duration: float, sent: int | None = None) -> dict:
    """The figures of a run (or of one window of it) lasting ``duration`` seconds."""
    nodes = Counter(r.node for r in results if r.node)
    statuses = Counter(str(r.status) for r in results)
    answered = len(results) - statuses.get("0", 0)
    return {
        "duration": duration,
        "sent": len(results) if sent is None else sent,
        "completed": len(results),
        "answered": answered,
        "throughput": answered / duration if duration > 0 else 0.0,
        "errors": sum(1 for r in results if is_error(r)),
        "statuses": dict(sorted(statuses.items())),
        "latency": latency_summary(r.latency for r in results),
        "cold_starts": sum(1 for r in results if r.cold),
        "nodes": shares(nodes),
    }


def spilling(results: Iterable[Result]) -> dict[str, list[str]]:
    """Functions answered by more than one node in these results: {path: [nodes]}."""
    by_path: dict[str, set[str]] = {}
    for r in results:
        if r.node:
            by_path.setdefault(r.path, set()).add(r.node)
    return {path: sorted(nodes) for path, nodes in sorted(by_path.items()) if len(nodes) > 1}


def ms(seconds: float) -> str:
    """Milliseconds for people: 0.4ms, 12ms, 1530ms."""
    value = seconds * 1000
    return f"{value:.1f}ms" if value < 10 else f"{value:.0f}ms"


def format_text(s: dict) -> str:
    """The human report of ``fnlb load``."""
    lat = s["latency"]
    lines = [
        f"requests   {s['sent']} sent, {s['answered']} answered in {s['duration']:.1f}s "
        f"({s['throughput']:.1f}/s)",
        f"latency    p50 {ms(lat['p50'])}  p90 {ms(lat['p90'])}  p99 {ms(lat['p99'])}  max {ms(lat['max'])}",
        f"errors     {s['errors']}  (statuses: "
        + ", ".join(f"{k}: {v}" for k, v in s["statuses"].items()) + ")",
        f"cold       {s['cold_starts']} cold starts",
        "nodes      " + ("  ".join(f"{n} {share:.0%}" for n, share in s["nodes"].items()) or "(none reported)"),
    ]
    return "\n".join(lines) + "\n"
