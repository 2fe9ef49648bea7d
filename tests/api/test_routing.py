"""GET /1/lb/route called through MgmtApp.handle (no sockets), on a real Router."""

import asyncio
import json
from types import SimpleNamespace

from fnlb.api import routing as api
from fnlb.api.http import MgmtApp, Request
from fnlb.routing.options import RoutingConfig
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
    assert status == 200 and body == {"key": "/x", "node": None, "order": []}
