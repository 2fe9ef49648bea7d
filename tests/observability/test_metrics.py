"""/metrics parsed back with prometheus-client's own parser."""

from prometheus_client.parser import text_string_to_metric_families

from tests.api.fakes import T0, get, make_balancer

A, B = "127.0.0.1:8080", "127.0.0.1:8081"


def scrape(b):
    resp = get(b, "/metrics")
    assert resp.status == 200 and resp.content_type.startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(resp.body.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_metrics_after_known_traffic():
    b = make_balancer(metrics_top_functions=2)
    for i in range(100):
        b.stats.record(A, f"/r/app/f{i % 3}", 200 if i % 10 else 503, 0.004, 0.25, i % 4 == 0, T0 + i / 50)
    b.stats.record(B, "/r/app/f0", 0, 2.0, None, False, T0 + 1.5)
    b.stats.count_retry(B, "/r/app/f0", T0 + 1.6)
    b.stats.count_invalid_wait(B, "/r/app/f0", T0 + 1.6)
    b.registry.states[B] = "offline"
    b.registry.checks = {(A, "success"): 7, (B, "failure"): 2}
    b.router.in_flight = {A: 4}
    b.clock.now = T0 + 2.5                        # second 2 (part of the traffic) is live
    m = scrape(b)
    assert m[("fnlb_requests_total", (("code", "2xx"), ("node", A)))] == 90
    assert m[("fnlb_requests_total", (("code", "5xx"), ("node", A)))] == 10
    assert m[("fnlb_requests_total", (("code", "broken"), ("node", B)))] == 1
    assert m[("fnlb_request_duration_seconds_bucket", (("le", "0.005"), ("node", A)))] == 100
    assert m[("fnlb_request_duration_seconds_bucket", (("le", "1.0"), ("node", B)))] == 0
    assert m[("fnlb_request_duration_seconds_count", (("node", B),))] == 1
    assert m[("fnlb_spills_total", (("node", A),))] == 25
    assert m[("fnlb_retries_total", (("node", B),))] == 1
    assert m[("fnlb_invalid_wait_headers_total", (("node", B),))] == 1
    assert m[("fnlb_node_up", (("node", A),))] == 1 and m[("fnlb_node_up", (("node", B),))] == 0
    assert m[("fnlb_node_in_flight", (("node", A),))] == 4
    assert m[("fnlb_health_checks_total", (("node", B), ("result", "failure")))] == 2
    assert abs(m[("fnlb_node_wait_seconds", (("node", A),))] - 0.25) < 1e-9
    funcs = {labels for name, labels in m if name == "fnlb_function_wait_seconds"}
    assert len(funcs) == 2                                  # bounded by --metrics-top-functions
    assert ("process_cpu_seconds_total", ()) in m           # process collector, own registry
    assert not any(name.startswith("fnlb_worker") for name, _ in m)  # one process: no workers


def test_a_supervisors_workers():
    class Workers:  # what fnlb.workers.supervisor.Supervisor offers the collector
        max_lag = 0.002

        def worker_states(self):
            return [(True, 0), (False, 3)]

    b = make_balancer()
    b.workers = Workers()
    m = scrape(b)
    assert m[("fnlb_worker_up", (("worker", "0"),))] == 1 and m[("fnlb_worker_up", (("worker", "1"),))] == 0
    assert m[("fnlb_worker_restarts_total", (("worker", "1"),))] == 3
    assert m[("fnlb_worker_event_lag_max_seconds", ())] == 0.002


def test_metrics_label_cardinality_stays_bounded():
    b = make_balancer(metrics_top_functions=5)
    for i in range(20_000):
        b.stats.record(A, f"/r/app/{i}", 200, 0.01, 0.01, False, T0 + i / 5000)
    b.clock.now = T0 + 5
    m = scrape(b)
    assert len({labels for name, labels in m if name.startswith("fnlb_function_")}) == 5
    assert len(m) < 200


def test_cold_starts_and_warm_containers():
    b = make_balancer(metrics_top_functions=2)
    for i in range(60):       # f0 busiest, f1 next, f2 rare: calls with a wait of 0.3 s are cold
        func = "/r/app/f0" if i % 2 else ("/r/app/f2" if i % 10 == 0 else "/r/app/f1")
        b.stats.record(A, func, 200, 0.3, 0.3 if i % 3 == 0 else 0.001, False, T0 + i / 30)
    b.stats.record(B, "/r/app/f0", 200, 0.4, 0.35, False, T0 + 0.5)
    b.stats.record(B, "/r/app/f0", 200, 0.4, None, False, T0 + 0.6)      # no wait: not cold
    b.router.containers = {A: 7}
    b.clock.now = T0 + 2.5
    m = scrape(b)
    cold = {labels: v for (name, labels), v in m.items() if name == "fnlb_cold_starts_total"}
    rows = b.stats.rows(T0 + 2.5)
    assert sum(cold.values()) == sum(r["cold"] for r in rows) == 21       # every third of 60, plus B's one
    assert {dict(labels)["func"] for labels in cold} <= {"/r/app/f0", "/r/app/f1", "other"}
    assert cold[(("func", "/r/app/f0"), ("node", B))] == 1
    assert cold[(("func", "other"), ("node", A))] == 2     # f2's (calls 0 and 30)
    assert m[("fnlb_node_warm_containers", (("node", A),))] == 7
    assert m[("fnlb_node_warm_containers", (("node", B),))] == 0
    b.router.containers = None                   # a policy without an estimate: no gauge
    assert not [k for k in scrape(b) if k[0] == "fnlb_node_warm_containers"]


def test_cold_start_counters_only_grow_and_stay_bounded():
    b = make_balancer(metrics_top_functions=3)
    seen = {}
    for sec in range(40):                        # the busiest functions change every 10 s
        for i in range(50):
            func = f"/r/app/f{(sec // 10) * 3 + i % 3}" if i % 5 else f"/r/tail/{sec}-{i}"
            b.stats.record(A, func, 200, 0.3, 0.3, False, T0 + sec + i / 50)
        b.clock.now = T0 + sec + 1
        cold = {labels: v for (name, labels), v in scrape(b).items() if name == "fnlb_cold_starts_total"}
        for labels, v in seen.items():
            assert cold.get(labels, v) >= v, labels      # never decreases (a folded pair may go)
        seen.update(cold)
        assert len(cold) <= 2 * (3 + 1) + 1
        assert sum(cold.values()) == 50 * (sec + 1)
