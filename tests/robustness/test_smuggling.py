"""Request smuggling and hostile framing: each vector carries a second request
(``GET /r/smuggled``) that a server reading the framing differently would see.

For every vector, three ways (raw sockets; the test node counts what arrives):
* alone on a fresh connection: a 4xx, the connection closed, nothing reaches the node;
* pipelined behind a good request on one connection: the good one is answered 200, the
  bad one 4xx, the connection closed, and the node saw exactly the good request;
* afterwards, a normal request still gets its own answer (no node connection was left
  holding half a request).
Vectors whose head is valid and whose body breaks are also sent in two parts, so that the
head is already at the node when the body goes wrong: the node connection must then be
aborted with the request incomplete. tests/proxy/test_rejections.py checks single-vector
400s; here the point is what the node sees.
"""

from __future__ import annotations

import time

import pytest

from tests.robustness.helpers import Conn, exchange

pytestmark = pytest.mark.timeout(60)

SMUGGLED = b"GET /r/smuggled HTTP/1.1\r\nHost: h\r\n\r\n"
S = SMUGGLED
H = b"Host: h\r\n"


def post(headers: bytes, body: bytes, version: bytes = b"HTTP/1.1") -> bytes:
    return b"POST /r/vector " + version + b"\r\n" + H + headers + b"\r\n" + body


def chunked(body: bytes) -> bytes:
    return post(b"Transfer-Encoding: chunked\r\n", body)


HEAD_VECTORS = {
    # CL.TE and TE.CL: both framings given
    "cl-te": post(b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(b"0\r\n\r\n" + S), b"0\r\n\r\n" + S),
    "te-cl": post(b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
                  b"%x\r\n%b\r\n0\r\n\r\n" % (len(S), S)),
    # TE.TE obfuscations: one reader sees chunked, another does not
    "te-xchunked": post(b"Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n" + S),
    "te-space-before-colon": post(b"Transfer-Encoding : chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n" + S),
    "te-second-header": post(b"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n" + S),
    "te-second-header-bogus": post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\n", b"0\r\n\r\n" + S),
    "te-list-identity": post(b"Transfer-Encoding: chunked, identity\r\n", b"0\r\n\r\n" + S),
    "te-list-gzip": post(b"Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n" + S),
    "te-vertical-tab": post(b"Transfer-Encoding:\x0bchunked\r\n", b"0\r\n\r\n" + S),
    "te-obs-fold": post(b"X-A: a\r\nTransfer-Encoding:\r\n chunked\r\n", b"0\r\n\r\n" + S),
    "te-name-nul": post(b"Transfer-Encoding\x00: chunked\r\n", b"0\r\n\r\n" + S),
    "te-name-non-ascii": post(b"Transfer-\xc9ncoding: chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n" + S),
    "te-quoted": post(b'Transfer-Encoding: "chunked"\r\n', b"0\r\n\r\n" + S),
    "te-http10": post(b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n" + S, version=b"HTTP/1.0"),
    # Content-Length games
    "cl-duplicate-differing": post(b"Content-Length: 0\r\nContent-Length: %d\r\n" % len(S), S),
    "cl-list": post(b"Content-Length: 0, %d\r\n" % len(S), S),
    "cl-negative": post(b"Content-Length: -%d\r\n" % len(S), S),
    "cl-plus": post(b"Content-Length: +%d\r\n" % len(S), S),
    "cl-hex": post(b"Content-Length: 0x%x\r\n" % len(S), S),
    "cl-space-inside": post(b"Content-Length: 1 0\r\n", S),
    "cl-overflow": post(b"Content-Length: 18446744073709551617\r\n", S),
    "cl-space-before-colon": post(b"Content-Length : %d\r\n" % len(S), S),
    # line endings
    "bare-lf-head": b"POST /r/vector HTTP/1.1\nHost: h\nContent-Length: 0\n\n" + S,
    "bare-cr-header": b"GET /r/vector HTTP/1.1\r\nHost: h\rX-A: 1\r\n\r\n" + S,
    "bare-cr-smuggle": b"GET /r/vector HTTP/1.1\r\nHost: h\r\nX-A: 1\r" + S,
    # header names
    "nul-in-name": b"GET /r/vector HTTP/1.1\r\n" + H + b"X-\x00A: 1\r\n\r\n" + S,
    "non-ascii-name": b"GET /r/vector HTTP/1.1\r\n" + H + b"X-\xc3\xa4: 1\r\n\r\n" + S,
    "latin1-name": b"GET /r/vector HTTP/1.1\r\n" + H + b"X-\xe9: 1\r\n\r\n" + S,
    "space-in-name": b"GET /r/vector HTTP/1.1\r\n" + H + b"X A: 1\r\n\r\n" + S,
    # request targets and methods
    "absolute-form": b"GET http://127.0.0.1/r/vector HTTP/1.1\r\n" + H + b"\r\n" + S,
    "absolute-form-other-host": b"GET http://evil.example/r/vector HTTP/1.1\r\nHost: h\r\n\r\n" + S,
    "asterisk-get": b"GET * HTTP/1.1\r\n" + H + b"\r\n" + S,
    "asterisk-post": b"POST * HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n" + S,
    "authority-form": b"CONNECT 127.0.0.1:80 HTTP/1.1\r\n" + H + b"\r\n" + S,
    "method-nul": b"G\x00T /r/vector HTTP/1.1\r\n" + H + b"\r\n" + S,
    "method-non-ascii": b"G\xc9T /r/vector HTTP/1.1\r\n" + H + b"\r\n" + S,
    "method-unknown": b"SMUGGLE /r/vector HTTP/1.1\r\n" + H + b"\r\n" + S,
    "method-lowercase": b"post /r/vector HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n" + S,
    "leading-space": b" GET /r/vector HTTP/1.1\r\n" + H + b"\r\n" + S,
    "version-garbage": b"GET /r/vector HTTP/1.1x\r\n" + H + b"\r\n" + S,
    "version-09": b"GET /r/vector\r\n" + S,
}

# valid heads whose chunked body breaks: the head may already be at the node
BODY_VECTORS = {
    "chunk-size-overflow": b"fffffffffffffffffffffff1\r\n" + S + b"\r\n0\r\n\r\n",
    "chunk-size-negative": b"-5\r\nhello\r\n0\r\n\r\n" + S,
    "chunk-size-0x": b"0x5\r\nhello\r\n0\r\n\r\n" + S,
    "chunk-size-space-inside": b"5 5\r\nhello\r\n0\r\n\r\n" + S,
    "chunk-size-not-hex": b"zz\r\n" + S + b"\r\n0\r\n\r\n",
    "chunk-bare-lf": b"5\nhello\n0\n\n" + S,
    "chunk-data-too-long": b"3\r\nhello\r\n0\r\n\r\n" + S,
    "chunk-ext-bare-lf": b"5;a\nb\r\nhello\r\n0\r\n\r\n" + S,
    "chunk-last-bare-lf": b"5\r\nhello\r\n0\n\n" + S,
}
BODY_HEAD = b"POST /r/vector HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
ALL = {**HEAD_VECTORS, **{name: BODY_HEAD + body for name, body in BODY_VECTORS.items()}}
GOOD = b"GET /r/good HTTP/1.1\r\nHost: h\r\n\r\n"


def settle(node) -> None:
    time.sleep(0.1)     # anything fnlb sent the node has arrived by now


def assert_normal_request_still_clean(node, proxy) -> None:
    node.requests.clear()
    with Conn(proxy.port) as c:
        resp = c.request("GET", "/r/after")
        assert resp.status == 200
    settle(node)
    assert [(r.target, r.complete) for r in node.requests] == [("/r/after", True)]


@pytest.mark.parametrize("name", sorted(ALL))
def test_vector_alone_reaches_nothing(fresh, name):
    node, proxy = fresh
    resp, closed = exchange(proxy.port, ALL[name])
    assert resp is not None, f"{name}: no response"
    assert 400 <= resp.status < 500, (name, resp.status)
    assert resp.json()["msg"]
    assert closed, name
    settle(node)
    assert node.requests == [], (name, node.requests)
    assert_normal_request_still_clean(node, proxy)


@pytest.mark.parametrize("name", sorted(ALL))
def test_vector_pipelined_after_a_good_request(fresh, name):
    node, proxy = fresh
    with Conn(proxy.port) as warm:      # a pooled node connection is ready (the usual case)
        assert warm.request("GET", "/r/warm").status == 200
    node.requests.clear()
    with Conn(proxy.port, timeout=3) as c:
        c.send(GOOD + ALL[name])
        first = c.response()
        assert first.status == 200
        second = c.response()
        assert 400 <= second.status < 500, (name, second.status)
        assert c.closed()
    settle(node)
    assert [(r.target, r.complete) for r in node.requests] == [("/r/good", True)], name
    assert_normal_request_still_clean(node, proxy)


@pytest.mark.parametrize("name", sorted(BODY_VECTORS))
def test_body_vector_after_the_head_went_to_the_node(fresh, name):
    node, proxy = fresh
    with Conn(proxy.port, timeout=5) as c:
        c.send(BODY_HEAD + b"3\r\nabc\r\n")
        deadline = time.monotonic() + 5
        while node.connections == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)     # the head and the first chunk are at the node
        c.send(BODY_VECTORS[name])
        resp = c.response()
        assert resp.status == 400, (name, resp.status)
        assert c.closed()
    node.wait_requests(1, timeout=3)
    settle(node)
    # the node saw the head and never a complete request, and never the smuggled one
    assert [(r.target, r.complete) for r in node.requests] == [("/r/vector", False)], name
    assert_normal_request_still_clean(node, proxy)


def test_obs_fold_host_and_two_hosts_reach_nothing(fresh):
    node, proxy = fresh
    for data in (b"GET /r/vector HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                 b"GET /r/vector HTTP/1.1\r\nHost:\r\n b\r\n\r\n"):
        resp, closed = exchange(proxy.port, data)
        assert resp.status == 400 and closed
    settle(node)
    assert node.requests == []


def test_unambiguous_forms_are_served(fresh):
    """The control group: what is allowed really is served, re-framed for the node."""
    node, proxy = fresh
    with Conn(proxy.port) as c:
        c.send(post(b"Transfer-Encoding: Chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n"))
        assert c.response().status == 200
        c.send(post(b"Content-Length: 5\r\n", b"hello"))
        assert c.response().status == 200
        c.send(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")
        assert c.response().status == 200
    settle(node)
    got = node.requests
    assert [(r.target, r.body, r.complete) for r in got] == [
        ("/r/vector", b"hello", True), ("/r/vector", b"hello", True), ("*", b"", True)]
    assert got[0].header("transfer-encoding") == "chunked"
