"""Per-second traffic roll-ups behind ``/1/lb/stats``, the dashboard and ``/metrics``.

Theory of operation
-------------------
The data path calls :meth:`StatsRecorder.record` once per finished request. That call is
on the hot path, so it does a handful of list and dict operations and nothing else: it
finds the *live series* of ``(node, func)`` for the current wall-clock second (a flat list
of counters) and bumps the request count, the wait and latency sums, the status-class
count, the spill count and one slot of a fixed latency histogram (``bisect`` into
``LATENCY_BOUNDS``). No locks (one event loop), no prometheus-client calls, no clock reads:
``now`` is the caller's ``time.monotonic()``, turned into wall-clock seconds with an offset
taken once, so every bucket starts on a whole wall-clock second.

When a request (or a reader) arrives in a later second, the live second is *finished*
(a few us a series, so a few ms for a full 1000-series second, paid once a second). A
series' latencies fill a few of the histogram's slots, so the roll-ups find the non-empty
slots once (``buckets``, at C speed) and work on those only, never on all of them:

* each series becomes one compact row of a :class:`Second` (numbers in an ``array('d')``,
  about 140 bytes a row), with mean wait, mean latency and the p50/p99 latency estimated
  from the histogram;
* its counters are added to the cumulative per-node totals that ``/metrics`` exports
  (requests by status class, the latency histogram, spills, retries, invalid waits), and
  its cold starts to the cumulative per-(node, function) counts (below);
* the second's mean wait per node and per function moves the wait EWMAs, as if each of its
  requests had been one sample of ``new = ALPHA * sample + (1 - ALPHA) * old``, the
  routing's average with its weight (``fnlb.routing.waits.ALPHA``, 0.1); functions also get
  a decayed request rate that ranks the top functions.

**Cold starts.** A call whose reported wait is ``cold_wait`` (``--cold-wait``, the same
threshold the default policy reads the waits with) or longer started a container: it is
counted in its series' ``COLD`` slot, one float compare per request with a wait. For
``/metrics`` each finished second's cold starts are also added up per (node, function),
under the function's own name if the pair has a counter already or the function is among
the ``--metrics-top-functions`` busiest (by recent rate) when the second finishes, under
``other`` otherwise; so every counter only grows, and the live second is not included (the
counters move once a second). When the table holds more than ``COLD_PAIRS_PER_TOP`` times
the top's pairs, the pairs of functions outside the top are folded into their node's
``other``: the label set stays bounded and the totals exact.

Finished seconds older than the window are dropped. Reading never drains: readers get
views of immutable finished seconds, so any number of dashboards see the same data. The
live second is never returned by :meth:`rows` (it is incomplete), while :meth:`node_totals`
adds it in so that counters are exact at scrape time.

Memory bound: a second keeps at most ``max_series`` (``--stats-series``) series plus one
``other`` series per node; a request whose ``(node, func)`` would exceed that is counted
under ``(node, "other")``. The window keeps ``ceil(window)`` seconds, so history holds at
most ``window * (max_series + nodes)`` rows. Measured: about 145 bytes a row when names
repeat (50 functions on 10 nodes for 300 s: 21 MB) and 235 bytes when every row has a new
function name (the worst case, 1000 series x 300 s: 70 MB). The function table behind the
top-functions ranking holds at most ``max(1000, 4 * top)`` functions.
"""

from __future__ import annotations

import math
import struct
import time
from array import array
from bisect import bisect_left
from collections import deque
from itertools import compress
from operator import add
from sys import intern

from fnlb.observability.options import ObservabilityConfig
from fnlb.routing.policy import Params  # --cold-wait: one definition, the policy's
from fnlb.routing.waits import ALPHA  # the EWMAs' weight: waits shown move as routing's do

OTHER = "other"          # function name of folded series; real paths start with "/"
RANK_TAU = 60.0          # seconds: time constant of the decayed rate ranking functions
COLD_PAIRS_PER_TOP = 2   # (node, function) cold-start counters kept, per top function and node


def _series(per_decade: tuple[float, ...], first: int, last: int) -> tuple[float, ...]:
    return tuple(round(m * 10.0 ** e, 12) for e in range(first, last + 1) for m in per_decade)


# Fine histogram (the R10 series: 10 bounds a decade, 100 us .. 100 s) for p50/p99 within
# 25%; /metrics exports the coarser 1-2.5-5 subset so that Prometheus gets ~19 buckets.
LATENCY_BOUNDS = _series((1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8), -4, 1) + (100.0,)
METRIC_BOUNDS = _series((1, 2.5, 5), -4, 1) + (100.0,)
_METRIC_INDEX = tuple(LATENCY_BOUNDS.index(b) for b in METRIC_BOUNDS)
NB = len(LATENCY_BOUNDS) + 1          # histogram slots, the last one is +Inf
_SLOTS = range(NB)

# Status classes: index status // 100; 0 = the node broke the connection mid-response.
CLASS_NAMES = ("broken", "1xx", "2xx", "3xx", "4xx", "5xx")

# Slots of a live series list.
TP, WAIT_SUM, WAIT_N, LAT_SUM, SPILLS, RETRIES, INVALID, COLD, CLASS = range(9)
HIST = CLASS + len(CLASS_NAMES)
WIDTH = HIST + NB
# record() uses these as literals (speed): keep them in step.
assert (TP, WAIT_SUM, WAIT_N, LAT_SUM, SPILLS, COLD, CLASS, HIST) == (0, 1, 2, 3, 4, 7, 8, 14)

# Fields of a finished row (array('d') with this stride).
FIELDS = ("tp", "wait", "waits", "latency", "p50", "p99", "spills", "retries", "invalid_wait", "cold") \
    + tuple("c_" + name for name in CLASS_NAMES)
_CLASSES_AT = FIELDS.index("c_" + CLASS_NAMES[0])
STRIDE = len(FIELDS)
# A row's numbers as the bytes of STRIDE doubles: array.frombytes() of this costs a
# fraction of array.extend(), which parses each number separately.
_PACK_ROW = struct.Struct(f"={STRIDE}d").pack


def is_cold(wait: float | None, cold_wait: float) -> bool:
    """A call that reported this wait started a container (the definition ``record`` inlines)."""
    return wait is not None and wait >= cold_wait


def merge_ewma(old: float | None, mean: float, n: float, alpha: float = ALPHA) -> float:
    """The EWMA after ``n`` samples that all equal ``mean`` (exact for one sample)."""
    if old is None:
        return mean
    return mean + (old - mean) * (1.0 - alpha) ** n


def quantiles(hist, n: int, qs=(0.5, 0.99)) -> list[float]:
    """Quantiles of a histogram over LATENCY_BOUNDS (one count per slot)."""
    return bucket_quantiles(buckets(hist), n, qs)


def buckets(hist) -> list[tuple[int, int]]:
    """The histogram's non-empty slots as (slot, count), in slot order. A series' latencies
    fill a few of the NB slots: the roll-ups work on these (found at C speed by compress)
    instead of walking all NB slots once per series and second."""
    return [(i, hist[i]) for i in compress(_SLOTS, hist)]


def bucket_quantiles(slots: list[tuple[int, int]], n: int, qs=(0.5, 0.99)) -> list[float]:
    """Quantiles of a histogram given as its non-empty (slot, count) pairs in slot order and
    its total ``n``, interpolating inside the slot where the quantile falls."""
    if not n:
        return [0.0] * len(qs)
    out = []
    for q in qs:
        target = q * n
        cum = 0
        for i, count in slots:  # noqa: B007  (i is the slot found: read after the loop)
            cum += count
            if cum >= target:
                break
        lo = LATENCY_BOUNDS[i - 1] if i else 0.0
        hi = LATENCY_BOUNDS[i] if i < len(LATENCY_BOUNDS) else lo
        out.append(lo + (hi - lo) * (target - (cum - count)) / count)
    return out


class Second:
    """One finished wall-clock second: parallel name lists and a flat array of numbers."""

    __slots__ = ("sec", "nodes", "funcs", "values")

    def __init__(self, sec: int, keys, values: array):
        self.sec = sec
        self.nodes = [k[0] for k in keys]
        self.funcs = [k[1] for k in keys]
        self.values = values

    def __len__(self) -> int:
        return len(self.nodes)

    def row(self, i: int) -> tuple[str, str, array]:
        return self.nodes[i], self.funcs[i], self.values[i * STRIDE:(i + 1) * STRIDE]


def _row_numbers(s: list, slots: list[tuple[int, int]]) -> list[float]:
    tp, wn = s[TP], s[WAIT_N]
    p50, p99 = bucket_quantiles(slots, tp) if tp else (0.0, 0.0)
    return [tp, s[WAIT_SUM] / wn if wn else 0.0, wn, s[LAT_SUM] / tp if tp else 0.0, p50, p99,
            s[SPILLS], s[RETRIES], s[INVALID], s[COLD], *s[CLASS:HIST]]


class NodeTotals:
    """Cumulative counters of one node since start (what /metrics exports)."""

    __slots__ = ("classes", "hist", "latency_sum", "spills", "retries", "invalid_wait", "wait_ewma")

    def __init__(self):
        self.classes = [0] * len(CLASS_NAMES)
        self.hist = [0] * NB
        self.latency_sum = 0.0
        self.spills = self.retries = self.invalid_wait = 0
        self.wait_ewma: float | None = None

    def add(self, s: list, slots: list[tuple[int, int]]) -> None:
        """Add a live series whose non-empty histogram slots are ``slots``."""
        self.classes = list(map(add, self.classes, s[CLASS:HIST]))
        hist = self.hist
        for i, count in slots:
            hist[i] += count
        self.latency_sum += s[LAT_SUM]
        self.spills += s[SPILLS]
        self.retries += s[RETRIES]
        self.invalid_wait += s[INVALID]

    def copy(self) -> "NodeTotals":
        t = NodeTotals()
        t.classes, t.hist = list(self.classes), list(self.hist)
        t.latency_sum, t.spills, t.retries = self.latency_sum, self.spills, self.retries
        t.invalid_wait, t.wait_ewma = self.invalid_wait, self.wait_ewma
        return t

    @property
    def requests(self) -> int:
        return sum(self.classes)

    def metric_buckets(self) -> list[tuple[str, int]]:
        """Cumulative (le, count) pairs over METRIC_BOUNDS plus +Inf."""
        out, cum, start = [], 0, 0
        for bound, idx in zip(METRIC_BOUNDS, _METRIC_INDEX):
            cum += sum(self.hist[start:idx + 1])
            start = idx + 1
            out.append((repr(bound), cum))
        out.append(("+Inf", cum + sum(self.hist[start:])))
        return out


class FunctionTable:
    """Decayed request rate and wait EWMA per function, bounded, to rank the top functions."""

    def __init__(self, cap: int, tau: float = RANK_TAU):
        self.cap = cap
        self.tau = tau
        self.entries: dict[str, list] = {}    # func -> [score, sec, wait_ewma | None]

    def update(self, sec: int, func: str, tp: int, wait_sum: float, wait_n: int) -> None:
        e = self.entries.get(func)
        if e is None:
            e = self.entries[func] = [0.0, sec, None]
            if len(self.entries) > self.cap:
                self._prune(sec)
        e[0] = self._score(e, sec) + tp
        if sec > e[1]:
            e[1] = sec
        if wait_n:
            e[2] = merge_ewma(e[2], wait_sum / wait_n, wait_n)

    def _score(self, e: list, sec: int) -> float:
        # min(): a reader's clock a little behind the last update must not inflate scores.
        age = (e[1] - sec) / self.tau
        return e[0] * math.exp(age if age < 0.0 else 0.0)

    def _prune(self, sec: int) -> None:
        # Keep the busier half: amortised O(1) per new function, and a burst of one-off
        # paths cannot lock a popular newcomer out for long.
        ranked = sorted(self.entries.items(), key=lambda kv: self._score(kv[1], sec), reverse=True)
        self.entries = dict(ranked[: self.cap // 2])

    def top(self, sec: int, n: int) -> list[tuple[str, float, float | None]]:
        """Up to n (func, requests per second, wait EWMA) by recent rate, busiest first."""
        ranked = sorted(((self._score(e, sec), f, e[2]) for f, e in self.entries.items()), reverse=True)
        return [(f, score / self.tau, ewma) for score, f, ewma in ranked[:n]]


class StatsRecorder:
    """Per-second buckets per (node, function), cumulative node totals, top functions."""

    def __init__(self, cfg: ObservabilityConfig, clock_offset: float | None = None,
                 cold_wait: float = Params.cold_wait):
        self.window = int(math.ceil(cfg.stats_window))
        self.cold_wait = cold_wait    # a reported wait this long or longer was a cold start
        self.max_series = cfg.stats_series
        self.top_functions = cfg.metrics_top_functions
        # Wall-clock seconds = monotonic + offset, taken once so that buckets never jump
        # when the system clock is stepped.
        self.offset = time.time() - time.monotonic() if clock_offset is None else clock_offset
        self.seconds: deque[Second] = deque()
        self.totals: dict[str, NodeTotals] = {}
        self.functions = FunctionTable(max(1000, 4 * self.top_functions))
        self.folded = 0               # requests counted under func "other" for lack of room
        self.cold: dict[tuple[str, str], int] = {}  # (node, func or "other") -> cold starts so far
        self._sec = 0                 # wall-clock second of the live series
        self._next = -math.inf        # monotonic time at which that second ends
        self._live: dict[tuple[str, str], list] = {}

    # -- the hot path -------------------------------------------------------------------

    def record(self, node: str, func: str, status: int, latency: float, wait: float | None,
               spilled: bool, now: float, _bisect=bisect_left, _bounds=LATENCY_BOUNDS) -> None:
        if now >= self._next:                 # one float compare while the second lasts
            self._roll(int(now + self.offset))
        s = self._live.get((node, func)) or self._open(node, func)
        # Literal slots (TP=0, WAIT_SUM=1, WAIT_N=2, LAT_SUM=3, SPILLS=4, COLD=7, CLASS=8,
        # HIST=14, asserted at the top): global lookups cost ~10% of this call.
        s[0] += 1
        s[3] += latency
        if wait is not None:
            s[1] += wait
            s[2] += 1
            if wait >= self.cold_wait:        # is_cold(), inline
                s[7] += 1
        if spilled:
            s[4] += 1
        s[8 + (status // 100 if status < 600 else 5)] += 1
        s[14 + _bisect(_bounds, latency)] += 1

    def count_retry(self, node: str, func: str = OTHER, now: float | None = None) -> None:
        """A try on ``node`` failed before any response byte (the proxy may retry)."""
        self._event(node, func, now)[RETRIES] += 1

    def count_invalid_wait(self, node: str, func: str = OTHER, now: float | None = None) -> None:
        """``node`` sent an XXX-FXLB-WAIT that does not parse (ignored by routing)."""
        self._event(node, func, now)[INVALID] += 1

    def _event(self, node: str, func: str, now: float | None) -> list:
        if now is not None and int(now + self.offset) > self._sec:
            self._roll(int(now + self.offset))
        return self._live.get((node, func)) or self._open(node, func)

    def _open(self, node: str, func: str) -> list:
        if len(self._live) >= self.max_series:
            self.folded += 1
            func = OTHER
            s = self._live.get((node, func))
            if s is not None:
                return s
        # Interned so that 300 seconds of the same path share one string.
        s = self._live[(intern(node), intern(func))] = [0] * WIDTH
        return s

    # -- finishing a second (about once a second) ---------------------------------------

    def _roll(self, sec: int) -> None:
        if sec > self._sec:
            if self._live:
                self._finish(self._sec, self._live)
            self._live = {}
            self._sec = sec
            horizon = sec - self.window
            while self.seconds and self.seconds[0].sec <= horizon:
                self.seconds.popleft()
        # Monotonic instant at which the live second ends (float rounding at the edge only
        # makes record() call this once more, which then changes nothing).
        self._next = self._sec + 1 - self.offset

    def _finish(self, sec: int, live: dict) -> None:
        values = array("d")
        node_wait: dict[str, list] = {}
        func_agg: dict[str, list] = {}
        colds = []
        for (node, func), s in live.items():
            slots = buckets(s[HIST:])
            values.frombytes(_PACK_ROW(*_row_numbers(s, slots)))
            totals = self.totals.get(node)
            if totals is None:
                totals = self.totals[node] = NodeTotals()
            totals.add(s, slots)
            nw = node_wait.get(node)        # (not setdefault: it builds a list every time)
            if nw is None:
                nw = node_wait[node] = [0.0, 0]
            nw[0] += s[WAIT_SUM]
            nw[1] += s[WAIT_N]
            if s[COLD]:
                colds.append((node, func, s[COLD]))
            if func != OTHER:
                fa = func_agg.get(func)
                if fa is None:
                    fa = func_agg[func] = [0, 0.0, 0]
                fa[0] += s[TP]
                fa[1] += s[WAIT_SUM]
                fa[2] += s[WAIT_N]
        if self.window > 0:
            self.seconds.append(Second(sec, live, values))
        for node, (wsum, wn) in node_wait.items():
            if wn:
                t = self.totals[node]
                t.wait_ewma = merge_ewma(t.wait_ewma, wsum / wn, wn)
        for func, (tp, wsum, wn) in func_agg.items():
            self.functions.update(sec, func, tp, wsum, wn)
        if colds:
            self._count_cold(sec, colds)

    def _count_cold(self, sec: int, colds: list[tuple[str, str, int]]) -> None:
        """Add a finished second's cold starts to the (node, function) counters: a pair
        without a counter gets one if its function is in the top now, else counts as
        ``other`` (so the label set stays bounded)."""
        top = {f for f, _, _ in self.functions.top(sec, self.top_functions)}
        cold = self.cold
        for node, func, n in colds:
            pair = (node, func)
            if pair not in cold and func not in top:
                pair = (node, OTHER)
            cold[pair] = cold.get(pair, 0) + n
        nodes = {node for node, _ in cold}
        if len(cold) > COLD_PAIRS_PER_TOP * (len(top) + 1) * len(nodes):
            for pair in [p for p in cold if p[1] not in top and p[1] != OTHER]:
                rest = (pair[0], OTHER)
                cold[rest] = cold.get(rest, 0) + cold.pop(pair)

    # -- readers (never drain) ----------------------------------------------------------

    def advance(self, now: float) -> None:
        """Finish the live second if ``now`` is past it (readers call this first)."""
        sec = int(now + self.offset)
        if sec > self._sec:
            self._roll(sec)

    def finished(self, now: float, since: float | None = None) -> list[Second]:
        """Finished seconds in the window, oldest first; only those starting after ``since``
        (wall-clock Unix seconds) when given."""
        self.advance(now)
        horizon = int(now + self.offset) - self.window
        out = []
        for second in reversed(self.seconds):    # newest first: polling reads only the tail
            if second.sec <= horizon or (since is not None and second.sec <= since):
                break
            out.append(second)
        out.reverse()
        return out

    def rows(self, now: float, since: float | None = None) -> list[dict]:
        """The /1/lb/stats entries: one per (second, node, func), oldest first."""
        return [row for second in self.finished(now, since) for row in second_rows(second)]

    def node_totals(self, now: float) -> dict[str, NodeTotals]:
        """Cumulative totals per node including the live second (exact at scrape time)."""
        self.advance(now)
        out = {node: t.copy() for node, t in self.totals.items()}
        for (node, _), s in self._live.items():
            out.setdefault(node, NodeTotals()).add(s, buckets(s[HIST:]))
        return out

    def cold_counts(self, now: float) -> dict[tuple[str, str], int]:
        """Cold starts per (node, function or ``other``) over the finished seconds since start."""
        self.advance(now)
        return dict(self.cold)

    def top_functions_now(self, now: float, n: int | None = None) -> list[tuple[str, float, float | None]]:
        self.advance(now)
        return self.functions.top(int(now + self.offset), self.top_functions if n is None else n)

    def wall(self, now: float) -> float:
        """Wall-clock Unix seconds of a monotonic instant, by the recorder's offset."""
        return now + self.offset


class NullRecorder(StatsRecorder):
    """``--stats=false``: the same readers over no data; the data path's calls do nothing.
    Exists so that benchmarks can measure what statistics cost."""

    def record(self, node, func, status, latency, wait, spilled, now, _bisect=None, _bounds=None) -> None:
        pass

    def count_retry(self, node, func=OTHER, now=None) -> None:
        pass

    def count_invalid_wait(self, node, func=OTHER, now=None) -> None:
        pass


def make_recorder(cfg: ObservabilityConfig, cold_wait: float = Params.cold_wait) -> StatsRecorder:
    return StatsRecorder(cfg, cold_wait=cold_wait) if cfg.stats else NullRecorder(cfg, cold_wait=cold_wait)


def rfc3339(sec: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sec))


def second_rows(second: Second) -> list[dict]:
    ts = rfc3339(second.sec)
    return [row_dict(ts, *second.row(i)) for i in range(len(second))]


def row_dict(ts: str, node: str, func: str, v) -> dict:
    tp = int(v[0])
    classes = {name: int(c) for name, c in zip(CLASS_NAMES, v[_CLASSES_AT:]) if c}
    return {
        "timestamp": ts, "tp": tp, "node": node, "func": func,
        "wait": round(v[1], 6), "waits": int(v[2]),
        "latency": round(v[3], 6), "p50": round(v[4], 6), "p99": round(v[5], 6),
        "errors": classes.get("5xx", 0) + classes.get("broken", 0),
        "spills": int(v[6]), "retries": int(v[7]), "invalid_wait": int(v[8]), "cold": int(v[9]),
        "status": classes,
    }
