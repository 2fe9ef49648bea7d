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


def test_metrics_label_cardinality_stays_bounded():
    b = make_balancer(metrics_top_functions=5)
    for i in range(20_000):
        b.stats.record(A, f"/r/app/{i}", 200, 0.01, 0.01, False, T0 + i / 5000)
    b.clock.now = T0 + 5
    m = scrape(b)
    assert len({labels for name, labels in m if name.startswith("fnlb_function_")}) == 5
    assert len(m) < 200
