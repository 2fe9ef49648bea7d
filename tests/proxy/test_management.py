"""Management requests on the management listener; what each listener serves."""

from __future__ import annotations

from tests.proxy.conftest import start_proxy
from tests.proxy.rawhttp import Conn, build
from tests.support.backend import Reply


def test_separate_listeners(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node])
    assert proxy.port != proxy.mgmt_port
    with Conn(proxy.port) as c:
        resp = c.request("GET", "/1/lb/nodes")
        assert resp.status == 404 and "msg" in resp.json()
        assert c.request("GET", "/metrics").status == 200       # a node path like any other
    assert [r.target for r in node.requests] == ["/metrics"]
    with Conn(proxy.mgmt_port) as m:
        resp = m.request("GET", "/1/lb/nodes")
        assert resp.status == 200 and node.address in resp.json()["nodes"]
        resp = m.request("GET", "/r/app/fn")
        assert resp.status == 404 and "msg" in resp.json()
        head = m.request("HEAD", "/1/lb/nodes")
        assert head.status == 200 and head.body == b"" and int(head.header("content-length")) > 0
        assert m.request("GET", "/1/lb/nodes").status == 200      # keep-alive after HEAD
    assert [r.target for r in node.requests] == ["/metrics"]


def test_one_listener_serves_both(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], same_listener=True)
    with Conn(proxy.port) as c:
        assert node.address in c.request("GET", "/1/lb/nodes").json()["nodes"]
        assert c.request("GET", "/r/app/fn").status == 200
        assert c.request("GET", "/1/lb/no-such-endpoint").status == 404
    assert [r.target for r in node.requests] == ["/r/app/fn"]


def test_management_body_and_headers_reach_the_handler(start_fnlb, node, node2):
    proxy = start_proxy(start_fnlb, [node])
    with Conn(proxy.mgmt_port) as m:
        body = b'{"node": "%s"}' % node2.address.encode()
        resp = m.request("PUT", "/1/lb/nodes", body=body, headers=[("Content-Type", "application/json")])
        assert resp.status == 200, resp.body
        assert node2.address in m.request("GET", "/1/lb/nodes").json()["nodes"]
        chunked = (b"PUT /1/lb/nodes HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"3\r\n{\"n\r\n4\r\node\"\r\n1\r\n:\r\n0\r\n\r\n")
        m.send(chunked)
        assert m.response().status == 400   # the handler saw the (broken) JSON body


def test_management_body_over_limit_gets_413(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node])
    with Conn(proxy.mgmt_port) as m:
        resp = m.request("PUT", "/1/lb/nodes", body=b"x" * (64 * 1024 + 1))
        assert resp.status == 413 and "msg" in resp.json()


def test_pipelined_management_request_keeps_its_body(start_fnlb, node, node2):
    proxy = start_proxy(start_fnlb, [node], same_listener=True)
    node.reply = Reply(delay=0.3)
    body = b'{"node": "%s"}' % node2.address.encode()
    with Conn(proxy.port) as c:
        c.send(build("GET", "/r/slow") + build("PUT", "/1/lb/nodes", body=body) + build("GET", "/1/lb/nodes"))
        assert c.response().status == 200
        assert c.response().status == 200
        assert node2.address in c.response().json()["nodes"]
