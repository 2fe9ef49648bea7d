"""GET /1/lb/route called through MgmtApp.handle (no sockets), on a real Router."""

import asyncio
import json
import time
from types import SimpleNamespace

from fnlb.api import routing as api
from fnlb.api.http import MgmtApp, Request
from fnlb.routing.options import RoutingConfig
from fnlb.routing.policy import REASONS
from fnlb.routing.router import build_router

NODES = ["127.0.0.1:8082", "127.0.0.1:8080", "127.0.0.1:8081"]


def test_route_endpoint():
    r = build_router(RoutingConfig())     # the serve flags' defaults
    r.set_nodes(NODES)
    app = MgmtApp()
    api.register(app, SimpleNamespace(router=r))

    def get(qs):
        resp = asyncio.run(app.handle(Request("GET", "/1/lb/route", qs)))
        return resp.status, json.loads(resp.body)

    status, body = get("key=/r/app/hello")
    assert status == 200
    assert body["key"] == "/r/app/hello" and body["node"] == "127.0.0.1:8081"
    assert body["order"][0] == "127.0.0.1:8081" and sorted(body["order"]) == sorted(NODES)
    status, body = get("key=%2Fr%2Fapp%2Fworld")
    assert (status, body["node"]) == (200, "127.0.0.1:8082")
    status, body = get("key=/r/caf%C3%A9")
    assert body["key"] == "/r/café"
    assert body["order"][0] == r.nodeset.primary("/r/café".encode().decode("latin-1"))
    status, body = get("")
    assert status == 400 and "key" in body["msg"]
    status, body = get("key=")
    assert status == 200 and body["key"] == "" and body["node"] == "127.0.0.1:8082"
    r.set_nodes([])
    status, body = get("key=/x")
    assert status == 200 and body == {"key": "/x", "node": None, "reason": None, "why": None, "order": [],
                                      "warm": {}}


def test_route_says_why_and_where_the_key_is_warm():
    r = build_router(RoutingConfig())
    r.set_nodes(NODES)
    app = MgmtApp()
    api.register(app, SimpleNamespace(router=r))
    key = "/r/app/hello"
    status, body = _get(app, "key=" + key)
    assert (body["node"], body["reason"], body["warm"]) == ("127.0.0.1:8081", "grow", {})
    assert body["why"] == REASONS["grow"]
    now = time.monotonic()                       # the endpoint reads the monotonic clock
    node = r.pick(key, now)
    r.started(node, key, now)
    r.finished(node, key, now, 0.3, 0.4, 200)    # a cold start; its container is idle now
    status, body = _get(app, "key=" + key)
    assert (body["node"], body["reason"]) == ("127.0.0.1:8081", "home")
    assert body["warm"] == {"127.0.0.1:8081": {"busy": 0, "idle": 1}}
    sticky = build_router(RoutingConfig(policy="sticky"))
    sticky.set_nodes(NODES)
    app = MgmtApp()
    api.register(app, SimpleNamespace(router=sticky))
    status, body = _get(app, "key=" + key)
    assert (body["reason"], body["warm"]) == ("home", None)


def _get(app, qs):
    resp = asyncio.run(app.handle(Request("GET", "/1/lb/route", qs)))
    return resp.status, json.loads(resp.body)


def test_the_documented_reasons_are_the_policies_reasons():
    """docs/openapi.yaml's enum of ``reason`` names every reason a policy can give, no more."""
    import os

    import yaml

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "docs", "openapi.yaml")) as f:
        spec = yaml.safe_load(f)
    enum = spec["components"]["schemas"]["Route"]["properties"]["reason"]["enum"]
    assert set(enum) - {None} == set(REASONS)
