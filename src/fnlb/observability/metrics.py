"""``/metrics``: a prometheus-client Collector that reads fnlb's own counters at scrape time.

Theory of operation
-------------------
The data path never touches prometheus-client: it bumps plain counters in
:class:`~fnlb.observability.stats.StatsRecorder`. At scrape time :func:`families` turns a
snapshot of those counters, plus what the router (in-flight) and the node registry (up/down,
health-check results) report, into metric families. The collector lives in its own
``CollectorRegistry`` (never the global default) next to the process collector. The
collector reads no clock of its own: "now" comes from the clock the ``/metrics`` handler
(``fnlb.api.observability``) gives it.

Label cardinality is bounded: ``node`` takes the configured nodes, ``code`` six classes,
``func`` only the ``--metrics-top-functions`` busiest functions by recent rate (the cold-start
counters: those that were among them when they got a counter, at most
``stats.COLD_PAIRS_PER_TOP`` times as many pairs, the rest as ``other``; ``stats.py``).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from fnlb.observability.stats import CLASS_NAMES, StatsRecorder

__all__ = ["CONTENT_TYPE_LATEST", "FnlbCollector", "families", "make_registry", "exposition"]


def families(stats: StatsRecorder, now: float, up: dict[str, bool], in_flight: dict[str, int],
             checks: dict[tuple[str, str], int], warm: dict[str, int] | None = None) -> list:
    """All fnlb metric families for one scrape (pure: everything comes in as arguments).
    ``warm``: the policy's estimate of containers per node (None: it keeps none)."""
    totals = stats.node_totals(now)
    out = _traffic(totals) + _nodes(totals, up, in_flight, checks) + _functions(stats, now) \
        + _placement(stats, now, up, warm)
    folded = CounterMetricFamily("fnlb_stats_folded_requests",
                                 "Requests counted under func 'other' in /1/lb/stats because a "
                                 "second already held --stats-series series")
    folded.add_metric([], stats.folded)
    return out + [folded]


def _traffic(totals) -> list:
    requests = CounterMetricFamily("fnlb_requests", "Requests finished, by node and status class "
                                   "(broken = the node closed the connection mid-response)",
                                   labels=["node", "code"])
    duration = HistogramMetricFamily("fnlb_request_duration_seconds",
                                     "Time from fnlb having a request's headers to the end of the node's "
                                     "response (failed tries included)",
                                     labels=["node"])
    spills = CounterMetricFamily("fnlb_spills", "Requests served by a node other than the key's "
                                 "consistent-hash home", labels=["node"])
    retries = CounterMetricFamily("fnlb_retries", "Tries that failed before any response byte "
                                  "(refused, reset, timed out); the proxy retries them elsewhere",
                                  labels=["node"])
    invalid = CounterMetricFamily("fnlb_invalid_wait_headers", "Responses whose XXX-FXLB-WAIT "
                                  "header did not parse and was ignored", labels=["node"])
    for node, t in sorted(totals.items()):
        for name, count in zip(CLASS_NAMES, t.classes):
            if count:
                requests.add_metric([node, name], count)
        duration.add_metric([node], t.metric_buckets(), t.latency_sum)
        spills.add_metric([node], t.spills)
        retries.add_metric([node], t.retries)
        invalid.add_metric([node], t.invalid_wait)
    return [requests, duration, spills, retries, invalid]


def _nodes(totals, up, in_flight, checks) -> list:
    node_up = GaugeMetricFamily("fnlb_node_up", "1 if the node is online (healthy), else 0",
                                labels=["node"])
    flight = GaugeMetricFamily("fnlb_node_in_flight", "Requests sent to the node and not finished",
                               labels=["node"])
    wait = GaugeMetricFamily("fnlb_node_wait_seconds", "EWMA (alpha 0.1 per request) of the "
                             "XXX-FXLB-WAIT the node reported", labels=["node"])
    hc = CounterMetricFamily("fnlb_health_checks", "Active health checks by result",
                             labels=["node", "result"])
    for node in sorted(up):
        node_up.add_metric([node], 1.0 if up[node] else 0.0)
        flight.add_metric([node], in_flight.get(node, 0))
    for node, t in sorted(totals.items()):
        if t.wait_ewma is not None:
            wait.add_metric([node], t.wait_ewma)
    for (node, result), count in sorted(checks.items()):
        hc.add_metric([node, result], count)
    return [node_up, flight, wait, hc]


def _functions(stats: StatsRecorder, now: float) -> list:
    wait = GaugeMetricFamily("fnlb_function_wait_seconds", "EWMA of the reported wait of the "
                             "busiest functions (--metrics-top-functions)", labels=["func"])
    rate = GaugeMetricFamily("fnlb_function_requests_per_second", "Recent request rate (decayed "
                             "over about a minute) of the busiest functions", labels=["func"])
    for func, per_second, ewma in stats.top_functions_now(now):
        rate.add_metric([func], per_second)
        if ewma is not None:
            wait.add_metric([func], ewma)
    return [wait, rate]


def _placement(stats: StatsRecorder, now: float, up: dict[str, bool], warm: dict[str, int] | None) -> list:
    cold = CounterMetricFamily("fnlb_cold_starts", "Calls whose reported XXX-FXLB-WAIT was --cold-wait or "
                               "longer (they started a container), by node and function (busiest functions, "
                               "the rest as 'other')", labels=["node", "func"])
    for (node, func), count in sorted(stats.cold_counts(now).items()):
        cold.add_metric([node, func], count)
    out = [cold]
    if warm is not None:
        containers = GaugeMetricFamily("fnlb_node_warm_containers", "The default policy's estimate of the "
                                       "containers (busy and idle) this balancer's calls keep on the node",
                                       labels=["node"])
        for node in sorted(set(up) | set(warm)):
            containers.add_metric([node], warm.get(node, 0))
        out.append(containers)
    return out


def _workers(states: list[tuple[bool, int]], max_lag: float) -> list:
    """The --workers supervisor's view of its workers (absent without --workers)."""
    up = GaugeMetricFamily("fnlb_worker_up", "1 if the worker process is running, 0 while it restarts",
                           labels=["worker"])
    restarts = CounterMetricFamily("fnlb_worker_restarts", "Times the worker exited and was started again",
                                   labels=["worker"])
    for i, (running, count) in enumerate(states):
        up.add_metric([str(i)], 1 if running else 0)
        restarts.add_metric([str(i)], count)
    lag = GaugeMetricFamily("fnlb_worker_event_lag_max_seconds", "The longest time so far between a "
                            "worker's routing event and the supervisor replaying it")
    lag.add_metric([], max_lag)
    return [up, restarts, lag]


class FnlbCollector:
    """Thin shell: gathers the balancer's live views and calls :func:`families`."""

    def __init__(self, balancer, clock):
        self.balancer = balancer
        self.clock = clock

    def collect(self):
        b = self.balancer
        up = {node: state == "online" for node, state in b.registry.snapshot().items()}
        now = self.clock()
        out = families(b.stats, now, up, b.router.in_flight_by_node(), b.registry.check_counts(),
                       b.router.warm_by_node(now))
        if b.workers is not None:
            out.extend(_workers(b.workers.worker_states(), b.workers.max_lag))
        return out


def make_registry(balancer, clock) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FnlbCollector(balancer, clock))
    ProcessCollector(registry=registry)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
