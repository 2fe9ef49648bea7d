"""Hostile or malformed requests are refused before anything reaches a node, and the
connection is closed. Raw sockets, so that we control every byte."""

from __future__ import annotations

import socket
import time

import pytest

from tests.proxy.rawhttp import Conn, exchange

H = b"Host: h\r\n"

BAD_400 = {
    "cl-and-te": b"POST /r/a HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-and-cl": b"POST /r/a HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    "differing-cl": b"POST /r/a HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "cl-list": b"POST /r/a HTTP/1.1\r\n" + H + b"Content-Length: 3, 4\r\n\r\nabcd",
    "negative-cl": b"POST /r/a HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n",
    "non-numeric-cl": b"POST /r/a HTTP/1.1\r\n" + H + b"Content-Length: 1e3\r\n\r\n",
    "plus-cl": b"POST /r/a HTTP/1.1\r\n" + H + b"Content-Length: +3\r\n\r\nabc",
    "te-identity": b"POST /r/a HTTP/1.1\r\n" + H + b"Transfer-Encoding: identity\r\n\r\n",
    "te-xchunked": b"POST /r/a HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "te-gzip-chunked": b"POST /r/a HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "te-chunked-twice": b"POST /r/a HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
    "te-split": b"POST /r/a HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"0\r\n\r\n",
    "te-space-before-colon": b"POST /r/a HTTP/1.1\r\n" + H + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "te-http10": b"POST /r/a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bad-chunk-size": b"POST /r/a HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "chunk-size-overflow": b"POST /r/a HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
                           b"fffffffffffffffffffff\r\n",
    "nul-in-value": b"GET /r/a HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n",
    "ctl-in-value": b"GET /r/a HTTP/1.1\r\n" + H + b"X-A: a\x01b\r\n\r\n",
    "bad-name-char": b"GET /r/a HTTP/1.1\r\n" + H + b"X(A): b\r\n\r\n",
    "empty-name": b"GET /r/a HTTP/1.1\r\n" + H + b": b\r\n\r\n",
    "obs-fold": b"GET /r/a HTTP/1.1\r\n" + H + b"X-A: a\r\n b\r\n\r\n",
    "bare-lf-line": b"GET /r/a HTTP/1.1\n" + H + b"\r\n",
    "bare-lf-header": b"GET /r/a HTTP/1.1\r\nHost: h\nX-A: b\r\n\r\n",
    "bare-cr": b"GET /r/a HTTP/1.1\r\nHost: h\rX-A: b\r\n\r\n",
    "space-before-first-header": b"GET /r/a HTTP/1.1\r\n Host: h\r\n\r\n",
    "lowercase-method": b"get /r/a HTTP/1.1\r\n" + H + b"\r\n",
    "invalid-method": b"G(T /r/a HTTP/1.1\r\n" + H + b"\r\n",
    "absolute-form": b"GET http://evil.example/r/a HTTP/1.1\r\n" + H + b"\r\n",
    "authority-form": b"CONNECT evil.example:443 HTTP/1.1\r\n" + H + b"\r\n",
    "asterisk-with-get": b"GET * HTTP/1.1\r\n" + H + b"\r\n",
    "space-in-target": b"GET /r/a b HTTP/1.1\r\n" + H + b"\r\n",
    "ctl-in-target": b"GET /r/a\x01 HTTP/1.1\r\n" + H + b"\r\n",
    "http09": b"GET /r/a\r\n\r\n",
    "http2-version": b"GET /r/a HTTP/2.0\r\n" + H + b"\r\n",
    "no-host-http11": b"GET /r/a HTTP/1.1\r\n\r\n",
    "two-hosts": b"GET /r/a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "upgrade-with-body": b"POST /r/a HTTP/1.1\r\n" + H + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Content-Length: 3\r\n\r\nabc",
}


@pytest.mark.parametrize("name", sorted(BAD_400))
def test_malformed_request_gets_400_and_close(fresh, name):
    node, proxy = fresh
    resp, closed = exchange(proxy.port, BAD_400[name])
    assert resp is not None and resp.status == 400, name
    assert resp.header("content-type") == "application/json" and "msg" in resp.json()
    assert closed
    time.sleep(0.05)
    assert node.requests == []


def test_too_large_header_block_gets_431(fresh):
    node, proxy = fresh
    many = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"v" * 1000) for i in range(70))
    resp, closed = exchange(proxy.port, b"GET /r/a HTTP/1.1\r\nHost: h\r\n" + many + b"\r\n")
    assert resp.status == 431 and closed and node.requests == []


def test_one_huge_header_sent_slowly_gets_431(fresh):
    node, proxy = fresh
    with Conn(proxy.port) as c:
        c.send(b"GET /r/a HTTP/1.1\r\nHost: h\r\nX-Huge: ")
        try:
            for _ in range(100):
                c.send(b"v" * 8192)
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = c.response()
        assert resp.status == 431
    assert node.requests == []


def test_too_long_request_line_gets_414(fresh):
    node, proxy = fresh
    resp, closed = exchange(proxy.port, b"GET /r/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: h\r\n\r\n")
    assert resp.status == 414 and closed and node.requests == []


def test_unsupported_expect_gets_417(fresh):
    node, proxy = fresh
    resp, closed = exchange(proxy.port, b"POST /r/a HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\n")
    assert resp.status == 417 and node.requests == []


def test_options_asterisk_is_allowed(fresh):
    node, proxy = fresh
    with Conn(proxy.port) as c:
        assert c.request("OPTIONS", "*").status == 200
    assert node.requests[0].target == "*"


def test_bad_chunk_after_head_went_to_node_aborts_node_request(fresh):
    """The node has the head and part of the body when the client's framing breaks: the
    node connection is cut (it never sees a complete request) and the client gets 400."""
    node, proxy = fresh
    with Conn(proxy.port) as c:
        c.send(b"POST /r/smuggle HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        deadline = time.monotonic() + 5
        while not node.connections and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)                 # the head and first chunk are at the node by now
        c.send(b"zz\r\nGET /r/smuggled HTTP/1.1\r\nHost: h\r\n\r\n0\r\n\r\n")
        resp = c.response()
        assert resp.status == 400 and c.closed()
    node.wait_requests(1, timeout=2)
    assert len(node.requests) == 1
    got = node.requests[0]
    assert got.target == "/r/smuggle" and not got.complete


def test_invalid_request_after_a_good_one_is_answered_in_order(fresh):
    node, proxy = fresh
    with Conn(proxy.port) as c:
        c.send(b"GET /r/good HTTP/1.1\r\nHost: h\r\n\r\nGET /r/bad HTTP/1.1\r\nHost: h\r\nX: \x00\r\n\r\n")
        assert c.response().status == 200
        assert c.response().status == 400
        assert c.closed()
    assert [r.target for r in node.requests] == ["/r/good"]


def test_connection_without_a_request_sends_nothing_to_nodes(fresh):
    node, proxy = fresh
    s = socket.create_connection(("127.0.0.1", proxy.port))
    s.close()
    time.sleep(0.1)
    assert node.requests == []
