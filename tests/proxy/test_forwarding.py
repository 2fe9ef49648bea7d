"""What reaches the node and what reaches the client: headers, target, framing, keep-alive."""

from __future__ import annotations

import socket
import time

from tests.proxy.rawhttp import Conn, build
from tests.support.backend import Reply


def test_get_is_proxied_with_target_and_host_byte_for_byte(fresh):
    node, proxy = fresh
    node.reply = Reply(200, body=b"hello")
    with Conn(proxy.port) as c:
        resp = c.request("GET", "/r/app/%7Efn//x/../y?b=2&a=%20#", host="Some.Host:1234")
    assert resp.status == 200 and resp.body == b"hello"
    got = node.requests[0]
    assert got.head.startswith(b"GET /r/app/%7Efn//x/../y?b=2&a=%20# HTTP/1.1\r\nHost: Some.Host:1234\r\n")
    assert got.header("x-forwarded-for") == "127.0.0.1"
    assert got.header("x-forwarded-proto") == "http"


def test_x_forwarded_for_is_appended_and_proto_replaced(fresh):
    node, proxy = fresh
    with Conn(proxy.port) as c:
        c.request("GET", "/r/a", headers=[("X-Forwarded-For", "10.1.2.3"), ("X-Forwarded-Proto", "https")])
    got = node.requests[0]
    assert got.header("x-forwarded-for") == "10.1.2.3, 127.0.0.1"
    assert got.header_names().count("x-forwarded-proto") == 1
    assert got.header("x-forwarded-proto") == "http"


def test_hop_by_hop_request_headers_are_removed(fresh):
    node, proxy = fresh
    headers = [("Connection", "keep-alive, X-Secret"), ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "x"),
               ("TE", "trailers"), ("Trailer", "X-T"), ("Upgrade", "h2c"), ("X-Secret", "s"), ("X-Kept", "k")]
    with Conn(proxy.port) as c:
        assert c.request("GET", "/r/a", headers=headers).status == 200
    names = node.requests[0].header_names()
    for gone in ("connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "x-secret"):
        assert gone not in names
    assert node.requests[0].header("x-kept") == "k"


def test_hop_by_hop_response_headers_are_removed(fresh):
    node, proxy = fresh
    node.reply = Reply(200, body=b"x", headers=[("Connection", "X-Internal"), ("X-Internal", "1"),
                                                 ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "x"),
                                                 ("Trailer", "X-T"), ("Upgrade", "foo"), ("X-Public", "p")])
    with Conn(proxy.port) as c:
        resp = c.request("GET", "/r/a")
    names = [n.lower() for n, _ in resp.headers]
    for gone in ("x-internal", "keep-alive", "proxy-connection", "trailer", "upgrade", "connection"):
        assert gone not in names
    assert resp.header("x-public") == "p"


def test_keep_alive_client_and_pooled_node_connection(fresh):
    node, proxy = fresh
    with Conn(proxy.port) as c:
        for i in range(5):
            assert c.request("GET", f"/r/app/{i}").status == 200
    assert len(node.requests) == 5
    assert len({r.conn for r in node.requests}) == 1    # one pooled connection served all


def test_pipelined_requests_are_answered_in_order(fresh):
    node, proxy = fresh
    node.reply = lambda req: Reply(200, body=req.target.encode(), delay=0.05 if req.target.endswith("1") else 0)
    with Conn(proxy.port) as c:
        c.send(b"".join(build("GET", f"/r/p/{i}") for i in range(1, 9)))
        bodies = [c.response().body for _ in range(8)]
    assert bodies == [f"/r/p/{i}".encode() for i in range(1, 9)]


def test_pipelined_post_bodies_stay_with_their_requests(fresh):
    node, proxy = fresh
    node.reply = lambda req: Reply(200, body=req.body)
    with Conn(proxy.port) as c:
        c.send(build("POST", "/r/a", body=b"first") + build("GET", "/r/b") + build("POST", "/r/c", body=b"third"))
        assert [c.response().body for _ in range(3)] == [b"first", b"", b"third"]


def test_content_length_body_reaches_node(fresh):
    node, proxy = fresh
    body = bytes(range(256)) * 1000
    node.reply = lambda req: Reply(200, body=str(len(req.body)).encode())
    with Conn(proxy.port) as c:
        resp = c.request("PUT", "/r/up", body=body)
    assert resp.body == str(len(body)).encode()
    got = node.requests[0]
    assert got.body == body and got.header("content-length") == str(len(body))
    assert got.header("transfer-encoding") is None


def test_chunked_request_is_rechunked_without_extensions(fresh):
    node, proxy = fresh
    raw = (b"POST /r/chunky HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
    with Conn(proxy.port) as c:
        c.send(raw)
        assert c.response().status == 200
    got = node.requests[0]
    assert got.complete and got.body == b"hello world"
    assert got.header("transfer-encoding") == "chunked"
    assert b"ext" not in got.raw_body and b"X-Trailer" not in got.raw_body


def test_chunked_response_reaches_client_chunked(fresh):
    node, proxy = fresh
    node.reply = Reply(200, framing="chunked", chunks=[b"a" * 10, b"b" * 70000, b"c"])
    with Conn(proxy.port) as c:
        resp = c.request("GET", "/r/a")
        assert resp.chunked and resp.body == b"a" * 10 + b"b" * 70000 + b"c"
        assert c.request("GET", "/r/b").status == 200     # the connection is still usable


def test_read_until_close_response_is_rechunked_for_http11(fresh):
    node, proxy = fresh
    node.reply = Reply(200, body=b"until close" * 1000, framing="close")
    with Conn(proxy.port) as c:
        resp = c.request("GET", "/r/a")
        assert resp.chunked and resp.body == b"until close" * 1000
        assert c.request("GET", "/r/b").status == 200


def test_read_until_close_response_to_http10_client_closes(fresh):
    node, proxy = fresh
    node.reply = Reply(200, body=b"old", framing="close")
    with Conn(proxy.port) as c:
        c.send(b"GET /r/a HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n")
        resp = c.response()
        assert resp.body == b"old" and resp.header("transfer-encoding") is None
        assert c.closed()


def test_http10_without_host_gets_node_host(fresh):
    node, proxy = fresh
    with Conn(proxy.port) as c:
        c.send(b"GET /r/old HTTP/1.0\r\n\r\n")
        resp = c.response()
        assert resp.status == 200 and c.closed()
    got = node.requests[0]
    assert got.version == "HTTP/1.1" and got.header("host") == node.address


def test_http10_keep_alive(fresh):
    node, proxy = fresh
    with Conn(proxy.port) as c:
        for _ in range(2):
            c.send(b"GET /r/a HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n")
            resp = c.response()
            assert resp.status == 200 and resp.header("connection").lower() == "keep-alive"


def test_connection_close_from_client_is_honoured(fresh):
    node, proxy = fresh
    with Conn(proxy.port) as c:
        resp = c.request("GET", "/r/a", headers=[("Connection", "close")])
        assert resp.status == 200 and resp.header("connection") == "close"
        assert c.closed()


def test_head_response_has_no_body_and_connection_goes_on(fresh):
    node, proxy = fresh
    node.reply = Reply(200, body=b"x" * 1234)
    with Conn(proxy.port) as c:
        resp = c.request("HEAD", "/r/a")
        assert resp.status == 200 and resp.header("content-length") == "1234"
        c.send(build("GET", "/r/b"))
        assert c.response().body == b"x" * 1234     # no stray HEAD body before it
    assert len({r.conn for r in node.requests}) == 1    # the node connection was reused after HEAD


def test_204_and_304_have_no_body(fresh):
    node, proxy = fresh
    for status in (204, 304):
        node.reply = Reply(status, body=b"", framing="none")
        with Conn(proxy.port) as c:
            resp = c.request("GET", "/r/a")
            assert resp.status == status
            c.send(build("GET", "/r/b"))
            second = c.response()
            assert second.status == status and not second.body


def test_interim_1xx_responses_are_forwarded(fresh):
    node, proxy = fresh
    node.reply = Reply(200, body=b"final", interim=[b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"])
    with Conn(proxy.port) as c:
        c.send(build("GET", "/r/a"))
        first = c.response(interim=True)
        assert first.status == 103 and first.header("link") == "</s.css>"
        assert c.response().body == b"final"


def test_expect_100_continue(fresh):
    node, proxy = fresh
    node.reply = lambda req: Reply(200, body=req.body)
    with Conn(proxy.port) as c:
        c.send(b"POST /r/a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        interim = c.response(interim=True)
        assert interim.status == 100
        c.send(b"data")
        assert c.response().body == b"data"
    assert node.requests[0].header("expect") is None


def test_wait_header_is_stripped(fresh):
    node, proxy = fresh
    node.reply = Reply(200, headers=[("XXX-FXLB-WAIT", "1.5ms")])
    with Conn(proxy.port) as c:
        assert c.request("GET", "/r/a").header("xxx-fxlb-wait") is None


def test_client_disconnect_aborts_node_request(fresh):
    node, proxy = fresh
    node.reply = lambda req: Reply(200, delay=0.5 if req.target == "/r/slow" else 0)
    c = Conn(proxy.port)
    c.send(build("GET", "/r/slow"))
    node.wait_requests(1)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()
    time.sleep(0.8)
    with Conn(proxy.port) as c2:
        assert c2.request("GET", "/r/next").status == 200
    slow, nxt = node.requests
    assert nxt.conn != slow.conn        # the aborted node connection was not reused


def test_early_response_before_body_end_keeps_client_connection(fresh):
    node, proxy = fresh
    node.reply = Reply(413, body=b"too big", read_body=False)
    with Conn(proxy.port) as c:
        c.send(b"POST /r/a HTTP/1.1\r\nHost: h\r\nContent-Length: 300000\r\n\r\n" + b"x" * 1000)
        resp = c.response()
        assert resp.status == 413 and resp.body == b"too big"
        c.send(b"y" * 299000)       # the rest of the body is read and dropped by fnlb
        node.reply = Reply(200, body=b"next")
        assert c.request("GET", "/r/b").body == b"next"


def test_content_length_zero_is_forwarded(fresh):
    node, proxy = fresh
    with Conn(proxy.port) as c:
        assert c.request("POST", "/r/empty", body=b"").status == 200
    assert node.requests[0].header("content-length") == "0"


def test_repeated_targets_are_forwarded_and_routed_alike(fresh):
    # the second request of each target takes the remembered-target path (client.py _keys)
    node, proxy = fresh
    with Conn(proxy.port) as c:
        for _ in range(3):
            for target in ("/r/app/hello", "/r/app/hello?x=1", "/r/app/hello?"):
                assert c.request("GET", target).status == 200
            resp = c.request("GET", "/1/lb/nodes")      # management path on the traffic listener
            assert resp.status == 404 and b"management endpoint /1/lb/nodes" in resp.body
    heads = [r.head for r in node.requests]
    assert len(heads) == 9 and heads[0:3] == heads[3:6] == heads[6:9]
    assert [r.target for r in node.requests[:3]] == ["/r/app/hello", "/r/app/hello?x=1", "/r/app/hello?"]
