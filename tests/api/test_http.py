"""MgmtApp: routing by path and method, HEAD, the admin token, and the one error body."""

import asyncio
import json

from fnlb.api.http import HTTPError, MgmtApp, Request, error, json_response, read_json
from fnlb.proxy.wire import error_body


def app_with(handler, write=False, token=""):
    app = MgmtApp(admin_token=token)
    app.route("/1/lb/x", "GET", handler)
    app.route("/1/lb/x", "PUT", handler, write=write)
    return app


def call(app, method, path="/1/lb/x", **kw):
    return asyncio.run(app.handle(Request(method, path, **kw)))


async def ok(request):
    return json_response({"method": request.method})


def test_errors_are_the_proxys_error_body():
    resp = error(404, "nope")
    assert resp.status == 404 and resp.body == error_body("nope") and resp.content_type == "application/json"
    assert json.loads(resp.body) == {"msg": "nope"}


def test_get_brings_head_and_unknown_paths_and_methods_say_so():
    app = app_with(ok)
    assert json.loads(call(app, "HEAD").body) == {"method": "HEAD"}
    resp = call(app, "GET", "/1/lb/y")
    assert resp.status == 404 and resp.body == error_body("no management endpoint /1/lb/y")
    resp = call(app, "DELETE")
    assert resp.status == 405 and dict(resp.headers)["Allow"] == "GET, HEAD, PUT"
    assert app.knows("/1/lb/x") and not app.knows("/1/lb/y")


def test_http_error_and_bad_json_become_error_bodies():
    async def picky(request):
        read_json(request)
        raise HTTPError(409, "no")

    app = app_with(picky)
    resp = call(app, "PUT", body=b"[1]")
    assert resp.status == 400 and json.loads(resp.body) == {"msg": "JSON body must be an object"}
    resp = call(app, "PUT", body=b"{}")
    assert resp.status == 409 and resp.body == error_body("no")


def test_write_routes_need_the_token_when_one_is_set():
    app = app_with(ok, write=True, token="t")
    assert call(app, "PUT").status == 401
    assert call(app, "PUT", headers={"authorization": "Bearer t"}).status == 200
    assert call(app, "GET").status == 200
