"""/1/lb/nodes handlers called through MgmtApp.handle (no sockets but the stores')."""

import asyncio
import json
from types import SimpleNamespace

import pytest

from fnlb.api import nodes as api
from fnlb.api.http import MgmtApp, Request
from fnlb.nodes.registry import NodeRegistry
from tests.nodes.helpers import make_cfg
from tests.support.procs import free_port


def scenario(fn, *flags, token=""):
    """Run ``await fn(call, registry)`` with a fresh registry and management app."""
    async def main():
        cfg = make_cfg("--hc-interval", "60s", *flags)
        changes = []
        registry = NodeRegistry(cfg.nodes, changes.append)
        app = MgmtApp(admin_token=token)
        api.register(app, SimpleNamespace(registry=registry, cfg=cfg))
        await registry.start()

        async def call(method, body=b"", headers=None):
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            resp = await app.handle(Request(method, "/1/lb/nodes", headers=headers or {}, body=raw))
            return resp.status, json.loads(resp.body)

        try:
            return await fn(call, registry)
        finally:
            await registry.stop()
    return asyncio.run(main())


def test_put_get_delete_roundtrip():
    async def fn(call, registry):
        assert await call("PUT", {"node": "127.0.0.1:1"}) == (200, {"msg": "node added"})
        status, body = await call("GET")
        assert status == 200
        # added, not yet checked: offline
        assert body["nodes"] == {"127.0.0.1:1": "offline"}
        d = body["details"]["127.0.0.1:1"]
        assert d["state"] == "unknown" and d["online"] is False and d["last_check"] is None
        assert set(d) >= {"successes", "failures", "last_check", "last_error", "version"}
        assert await call("PUT", {"node": "127.0.0.1:1"}) == (200, {"msg": "node added"})  # idempotent
        assert await call("DELETE", {"node": "127.0.0.1:1"}) == (200, {"msg": "node deleted"})
        assert (await call("GET"))[1]["nodes"] == {}
        status, body = await call("DELETE", {"node": "127.0.0.1:1"})
        assert status == 404 and "not in the node list" in body["msg"]
    scenario(fn)


@pytest.mark.parametrize("body, words", [
    (b"", "invalid JSON"),
    (b"{nope", "invalid JSON"),
    (b"[]", "object"),
    (b'"127.0.0.1:1"', "object"),
    ({}, "missing"),
    ({"nodes": "127.0.0.1:1"}, "missing"),
    ({"node": 8080}, "string"),
    ({"node": None}, "string"),
    ({"node": ["127.0.0.1:1"]}, "string"),
    ({"node": ""}, "empty"),
    ({"node": "http://127.0.0.1:8080"}, "scheme"),
    ({"node": "127.0.0.1"}, "no port"),
    ({"node": "127.0.0.1:99999"}, "out of range"),
    ({"node": "my host:80"}, "whitespace"),
    (b"\xff\xfe", "invalid JSON"),
])
@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_bad_input_is_400_saying_what_is_wrong(method, body, words):
    async def fn(call, registry):
        status, resp = await call(method, body)
        assert status == 400
        assert words.lower() in resp["msg"].lower()
        assert registry.snapshot() == {}
    scenario(fn)


def test_other_methods_are_405():
    async def fn(call, registry):
        for method in ("POST", "PATCH"):
            status, body = await call(method, {"node": "127.0.0.1:1"})
            assert status == 405 and "msg" in body
    scenario(fn)


def test_admin_token_guards_put_and_delete_only():
    async def fn(call, registry):
        good = {"authorization": "Bearer s3cret"}
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "s3cret"}):
            assert (await call("PUT", {"node": "127.0.0.1:1"}, headers))[0] == 401
            assert (await call("DELETE", {"node": "127.0.0.1:1"}, headers))[0] == 401
        assert registry.snapshot() == {}
        assert await call("PUT", {"node": "127.0.0.1:1"}, good) == (200, {"msg": "node added"})
        assert (await call("GET"))[0] == 200           # reading needs no token
        assert (await call("DELETE", {"node": "127.0.0.1:1"}, good))[0] == 200
    scenario(fn, token="s3cret")


def test_change_that_cannot_be_stored_is_503_and_not_applied():
    async def fn(call, registry):
        for method in ("PUT", "DELETE"):
            status, body = await call(method, {"node": "127.0.0.1:1"})
            assert status == 503 and "store is unavailable" in body["msg"]
        assert (await call("GET"))[1]["nodes"] == {"127.0.0.1:2": "offline"}  # --nodes still listed
    scenario(fn, "--db", f"postgres://postgres@127.0.0.1:{free_port()}/x", "--nodes", "127.0.0.1:2")


def test_delete_of_a_listed_malformed_entry_works(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE lb_nodes (address text NOT NULL PRIMARY KEY)")
    conn.execute("INSERT INTO lb_nodes VALUES ('http://legacy:8080')")
    conn.commit()
    conn.close()

    async def fn(call, registry):
        assert "http://legacy:8080" in (await call("GET"))[1]["nodes"]
        assert (await call("DELETE", {"node": "http://legacy:8080"}))[0] == 200
        assert (await call("GET"))[1]["nodes"] == {}
    scenario(fn, "--db", f"sqlite3://{path}")


@pytest.mark.parametrize("listen, token, warned", [
    (":8081", "", True), ("0.0.0.0:8081", "", True), ("10.1.2.3:8081", "", True), ("[::]:8081", "", True),
    ("127.0.0.1:8081", "", False), ("[::1]:8081", "", False), ("localhost:8081", "", False),
    (":8081", "tok", False),
])
def test_warning_when_management_is_open(caplog, listen, token, warned):
    cfg = make_cfg("--mgmt-listen", listen, "--admin-token", token)
    with caplog.at_level("WARNING", logger="fnlb.nodes"):
        api.warn_if_open(cfg)
    assert ("--admin-token" in caplog.text) == warned
