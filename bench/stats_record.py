"""Micro-benchmark of StatsRecorder.record(), the hot-path call (not a test).

Run: python bench/stats_record.py

500 (node, func) series (50 functions on 10 nodes) at 100,000 requests per simulated
second, so the once-a-second roll-up is included in the amortised cost. The cost of a
no-op method with the same arguments (the call itself, which the proxy pays anyway when
stats are on) is measured too and subtracted.
"""

import time

from fnlb.observability.options import ObservabilityConfig
from fnlb.observability.stats import StatsRecorder

T0 = 1_700_000_000.0
KEYS = [(f"127.0.0.1:{8080 + i % 10}", f"/r/app/f{i % 50}") for i in range(500)]


class Noop:
    def record(self, node, func, status, latency, wait, spilled, now):
        pass


def per_call_ns(recorder, n=500_000) -> float:
    keys = KEYS
    start = time.perf_counter()
    for i in range(n):
        node, func = keys[i % 500]
        recorder.record(node, func, 200, 0.0123, 0.002, False, T0 + i / 100_000)
    return (time.perf_counter() - start) / n * 1e9


def main() -> None:
    base = min(per_call_ns(Noop()) for _ in range(3))
    real = min(per_call_ns(StatsRecorder(ObservabilityConfig(), clock_offset=0.0)) for _ in range(3))
    print(f"no-op call {base:.0f} ns, record() {real:.0f} ns: stats cost {real - base:.0f} ns per request")


if __name__ == "__main__":
    main()
