"""The observability handlers (/1/lb/stats, the dashboard), called through MgmtApp.handle (no sockets)."""

import json
import re

import pytest

from fnlb.api.observability import parse_since
from tests.api.fakes import T0, get, make_balancer

A, B = "127.0.0.1:8080", "127.0.0.1:8081"


def traffic(b):
    for k in range(4):                                  # seconds T0 .. T0+3, 3 calls each
        for i in range(3):
            b.stats.record(A, "/r/app/hello", 200, 0.02, 0.1, False, T0 + k + i / 10)
    b.stats.record(B, "/r/app/world", 200, 0.03, 0.2, True, T0 + 3.5)
    b.clock.now = T0 + 4.5


def body(resp):
    return json.loads(resp.body)


def test_stats_endpoint_shape():
    b = make_balancer()
    traffic(b)
    resp = get(b, "/1/lb/stats")
    assert resp.status == 200 and resp.content_type == "application/json"
    stats = body(resp)["stats"]
    assert len(stats) == 5 and sum(r["tp"] for r in stats) == 13
    assert {r["timestamp"] for r in stats} == {f"2023-11-14T22:13:2{k}Z" for k in range(4)}
    world = [r for r in stats if r["func"] == "/r/app/world"]
    assert world == [dict(world[0], node=B, tp=1, wait=0.2, spills=1)]


@pytest.mark.parametrize("since", [
    "2023-11-14T22:13:21Z", "2023-11-14t22:13:21z", "2023-11-14T23:13:21+01:00",
    "2023-11-14T22:13:21.000Z", str(int((T0 + 1) * 1000)), "1700000001000.0",
    "2023-11-14T23:13:21+01:00+",       # "+" left unencoded: parse_qs makes it a space
])
def test_since_both_formats(since):
    b = make_balancer()
    traffic(b)
    query = since[:-1] if since.endswith("+") else since.replace("+", "%2B")
    stats = body(get(b, "/1/lb/stats", "since=" + query))["stats"]
    assert sorted({r["timestamp"] for r in stats}) == ["2023-11-14T22:13:22Z", "2023-11-14T22:13:23Z"]


def test_since_fraction_selects_the_next_second():
    b = make_balancer()
    traffic(b)
    stats = body(get(b, "/1/lb/stats", "since=2023-11-14T22:13:20.5Z"))["stats"]
    assert min(r["timestamp"] for r in stats) == "2023-11-14T22:13:21Z"


@pytest.mark.parametrize("since", ["yesterday", "2023-11-14", "2023-11-14T22:13:21", "-5",
                                   "2023-13-45T22:13:21Z", "", "1e12"])
def test_bad_since_is_400_with_msg(since):
    b = make_balancer()
    resp = get(b, "/1/lb/stats", "since=" + since)
    assert resp.status == 400 and "since" in body(resp)["msg"]


def test_parse_since_values():
    assert parse_since("1970-01-01T00:00:01.25Z") == 1.25
    assert parse_since("1500") == 1.5


def test_dashboard_serves_only_local_registered_assets():
    b = make_balancer()
    page = get(b, "/1/lb/dash")
    assert page.status == 200 and page.content_type.startswith("text/html")
    csp = dict(page.headers)["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    html = page.body.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/1/lb/dash/") or a.startswith("data:") for a in assets)
    for path in (a for a in assets if a.startswith("/")):
        resp = get(b, path)
        assert resp.status == 200, path
        text = resp.body.decode()
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), path   # SVG namespace only
        assert resp.content_type.split(";")[0] in ("text/javascript", "text/css")


def test_dash_state_lists_nodes_with_in_flight_and_errors():
    b = make_balancer()
    b.registry.states[B] = "offline"
    b.registry.errors[B] = "connection refused"
    b.router.in_flight = {A: 3}
    state = body(get(b, "/1/lb/dash/state"))
    assert state["now_ms"] == int(T0 * 1000) and state["window"] == 300
    assert state["nodes"] == [
        {"node": A, "state": "online", "health": "healthy", "in_flight": 3, "warm": None, "last_error": None,
         "last_check": None, "version": "0.3.700"},
        {"node": B, "state": "offline", "health": "unhealthy", "in_flight": 0, "warm": None,
         "last_error": "connection refused", "last_check": None, "version": "0.3.700"}]
    assert state["warm"] is None                        # the policy keeps no container estimate


def test_dash_state_has_the_warm_estimate_per_node_and_busiest_function():
    b = make_balancer()
    b.router.containers = {A: 5}
    b.router.keys = {"/r/app/f": {A: {"busy": 1, "idle": 2}, B: {"busy": 0, "idle": 1}}}
    for i in range(4):
        b.stats.record(A, "/r/app/f", 200, 0.01, 0.0, False, T0 + i * 0.1)
    b.stats.record(B, "/r/app/g", 200, 0.01, 0.0, False, T0 + 0.5)
    b.clock.now = T0 + 1.5
    state = body(get(b, "/1/lb/dash/state"))
    assert [(n["node"], n["warm"]) for n in state["nodes"]] == [(A, 5), (B, 0)]
    assert state["warm"] == {"/r/app/f": {A: 3, B: 1}, "/r/app/g": {}}


def test_big_stats_read_yields_to_the_event_loop():
    import asyncio

    from fnlb.api.http import Request

    b = make_balancer()
    for sec in range(10):                               # 10 seconds x 600 series
        for i in range(600):
            b.stats.record(A if i % 2 else B, f"/r/app/f{i}", 200, 0.01, 0.01, False, T0 + sec + i / 1000)
    b.clock.now = T0 + 11

    async def main():
        ticks = 0
        done = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        ticks = 0
        resp = await b.mgmt.handle(Request("GET", "/1/lb/stats"))
        done.set()
        await task
        return resp, ticks

    resp, ticks = asyncio.run(main())
    assert len(json.loads(resp.body)["stats"]) == 6000
    assert ticks >= 2                                   # the data path got turns meanwhile
