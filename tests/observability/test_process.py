"""Stats, since and metrics through a real `fnlb serve` in front of real `fnlb sim-node`s."""

import json
import time
from datetime import datetime, timezone

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.observability.cluster import Cluster


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(3, node_args=("--exec", "2ms", "--cold-start", "20ms"))
    yield c
    c.stop()


def stats(cluster, query=""):
    status, ctype, body = cluster.mgmt("/1/lb/stats" + query)
    assert status == 200 and ctype.startswith("application/json")
    return json.loads(body)["stats"]


def test_known_traffic_shows_up_in_stats_and_metrics(cluster):
    start_ms = int(time.time() * 1000)
    paths = [f"/r/obs/f{i % 4}" for i in range(200)] + ["/r/obs/bad?ms=1"] * 10
    assert set(cluster.send(paths)) == {200}
    time.sleep(1.1)                                    # let the last second finish
    rows = stats(cluster, f"?since={start_ms - 1000}")
    by_func = {}
    for r in rows:
        if r["func"] == "/r/obs/since":                # the other test's traffic, if it ran first
            continue
        by_func[r["func"]] = by_func.get(r["func"], 0) + r["tp"]
        assert r["node"] in cluster.addresses
        assert r["timestamp"].endswith("Z") and r["waits"] == r["tp"]   # sim nodes report waits
    assert by_func == {"/r/obs/f0": 50, "/r/obs/f1": 50, "/r/obs/f2": 50, "/r/obs/f3": 50, "/r/obs/bad": 10}
    # Two readers see the same buckets: reading never drains.
    assert stats(cluster, f"?since={start_ms - 1000}") == rows

    status, ctype, body = cluster.mgmt("/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    total = sum(s.value for s in families["fnlb_requests"].samples if s.labels["code"] == "2xx")
    assert total >= 210
    up = {s.labels["node"]: s.value for s in families["fnlb_node_up"].samples}
    assert up == {a: 1.0 for a in cluster.addresses}
    checks = families["fnlb_health_checks"].samples
    assert {s.labels["node"] for s in checks} == set(cluster.addresses)


def test_since_in_both_formats_over_http(cluster):
    cluster.send(["/r/obs/since"] * 5)
    time.sleep(1.1)
    rows = stats(cluster)
    newest = max(r["timestamp"] for r in rows)
    assert stats(cluster, "?since=" + newest) == []
    sec = datetime.strptime(newest, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    as_ms = stats(cluster, f"?since={int(sec * 1000) - 1}")
    assert {r["timestamp"] for r in as_ms} == {newest}
    status, _, body = cluster.mgmt("/1/lb/stats?since=last%20tuesday")
    assert status == 400 and "since" in json.loads(body)["msg"]


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_log_formats_and_access_log_through_a_real_fnlb(fmt):
    c = Cluster(1, lb_args=("--log-format", fmt, "--access-log"))
    try:
        c.send(["/r/logs/hello?x=1"] * 3)
    finally:
        c.stop()
    lines = [line for line in c.lb.output().splitlines() if line.strip()]
    assert lines
    if fmt == "json":
        objs = [json.loads(line) for line in lines]          # every line is one JSON object
        assert all({"time", "level", "logger", "msg"} <= set(o) for o in objs)
        access = [o for o in objs if o["logger"] == "fnlb.access" and o["target"].startswith("/r/")]
        assert len(access) == 3
        assert {(o["method"], o["target"], o["status"], o["node"]) for o in access} == \
            {("GET", "/r/logs/hello?x=1", 200, c.addresses[0])}
        assert any(o["logger"] == "fnlb.nodes" and c.addresses[0] in o["msg"] for o in objs)
    else:
        access = [line for line in lines if " fnlb.access: " in line and " /r/" in line]
        assert len(access) == 3 and all(" GET /r/logs/hello?x=1 200 " + c.addresses[0] in a for a in access)
        assert all(line[:4].isdigit() and line[23] == "Z" for line in lines)
