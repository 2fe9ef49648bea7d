"""Property-based fuzzing (hypothesis) of the data path and of the management API.

Data path: requests assembled from valid and hostile parts (methods, targets, versions,
header names and values with control and non-ASCII bytes, framing headers, bare LF line
endings, bodies) go over a raw socket. Whatever comes, fnlb answers within its timeouts
with 200 or a 4xx JSON error, a 4xx closes the connection (except a 404 for a
well-formed request read whole, which is a finished exchange like any other) and nothing of
that request reaches the node, and the process stays up and serves a normal request after every example.

Management API: arbitrary JSON and bytes as PUT/DELETE bodies, arbitrary route keys and
since= values, arbitrary methods: never a 5xx, every error is JSON {"msg"}.
"""

from __future__ import annotations

import json
import socket
import urllib.parse
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fnlb.nodes import address
from tests.proxy.rawhttp import Conn
from tests.robustness.helpers import http, still_serves
from tests.support.backend import Backend
from tests.support.procs import Fnlb, free_port

pytestmark = pytest.mark.timeout(240)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
ALLOWED = {200, 400, 404, 408, 413, 414, 417, 431}
CLOSED = f"127.0.0.1:{free_port()}"
SEEN: Counter = Counter()      # first-response statuses of the data-path fuzz (None = closed)


@pytest.fixture(scope="module")
def pair():
    with Backend() as node:
        lb = Fnlb("--nodes", node.address, "--hc-interval", "1h", "--client-header-timeout", "1s",
                  "--client-body-timeout", "1s", "--max-header-size", "4KiB", "--max-request-line", "1KiB")
        try:
            yield node, lb
        finally:
            lb.kill()


# -- data path ----------------------------------------------------------------------------

def mostly(valid, hostile):
    """Three times in four a valid part, else a hostile one: so that whole requests are
    sometimes valid (the parser's both sides get exercised), and often one part is not."""
    return st.integers(0, 3).flatmap(lambda i: hostile if i == 0 else valid)


TCHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~"
methods = mostly(st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"OPTIONS", b"PATCH"]),
                 st.one_of(st.sampled_from([b"CONNECT", b"TRACE", b"get", b"G ET", b"", b"G\x00T", b"SMUGGLE"]),
                           st.binary(min_size=1, max_size=12)))
targets = mostly(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-._~/%?=&", max_size=24).map(lambda s: b"/r/app/" + s.encode()),
    st.one_of(st.builds(lambda s: b"/r/app/" + s, st.binary(max_size=20)),
              st.sampled_from([b"*", b"/", b"http://127.0.0.1/r/a", b"127.0.0.1:80", b"//r/a", b"/1/lb/nodes",
                               b"/r/a#f", b"/r/\xff", b"", b"/r/a b"])))
versions = mostly(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0"]),
                  st.sampled_from([b"HTTP/2.0", b"HTTP/1.1 ", b"HTTP/0.9", b"http/1.1", b"HTTP/1.10", b""]))
header_names = mostly(
    st.one_of(st.sampled_from([b"Content-Length", b"Transfer-Encoding", b"Connection", b"Expect", b"Upgrade",
                               b"TE", b"Trailer", b"X-Forwarded-For", b"Keep-Alive"]),
              st.text(TCHARS, min_size=1, max_size=10).map(str.encode)),
    st.one_of(st.sampled_from([b"Transfer-Encoding ", b" Host", b"Content-Length\x00", b"X-\xc3\xa4", b"",
                               b"Host"]),
              st.binary(max_size=10)))
header_values = mostly(
    st.one_of(st.sampled_from([b"chunked", b"0", b"5", b"100-continue", b"close", b"keep-alive", b"h"]),
              st.text(TCHARS + " ,;=", max_size=16).map(str.encode)),
    st.one_of(st.sampled_from([b"xchunked", b"chunked, identity", b"-1", b"1, 2", b"\x00", b"a\rb", b"\xff",
                               b"a\nb", b"99999999999999999999"]),
              st.binary(max_size=16)))
headers = st.lists(st.tuples(header_names, header_values), max_size=5)
line_ends = mostly(st.just(b"\r\n"), st.sampled_from([b"\n", b"\r", b"\r\r\n"]))
bodies = st.one_of(st.just(b""), st.binary(max_size=64),
                   st.sampled_from([b"0\r\n\r\n", b"5\r\nhello\r\n0\r\n\r\n", b"ffffffffffffffffff\r\n",
                                    b"5\nhello\n0\n\n", b"0\r\n\r\nGET /r/smuggled HTTP/1.1\r\nHost: h\r\n\r\n"]))


@st.composite
def requests(draw) -> bytes:
    eol = draw(line_ends)
    parts = [draw(methods) + b" " + draw(targets) + b" " + draw(versions)]
    if draw(mostly(st.just(True), st.just(False))):
        parts.append(b"Host: h")
    for name, value in draw(headers):
        parts.append(name + b": " + value)
    body = draw(bodies)
    if body and draw(st.booleans()):
        parts.append(b"Content-Length: %d" % len(body))
    return eol.join(parts) + eol + eol + body


def first_response(port: int, data: bytes):
    """(status or None, closed after it) within generous bounds of fnlb's 1 s timeouts."""
    with Conn(port, timeout=4) as c:
        try:
            c.send(data)
        except OSError:
            pass
        try:
            resp = c.response(head=data.startswith(b"HEAD "))
        except (ConnectionError, socket.timeout, OSError, ValueError, AssertionError):
            return None, True
        closed = c.closed(timeout=3) if resp.status >= 400 else None
        return resp, closed


@settings(FUZZ, max_examples=400)
@given(data=requests())
def test_fuzzed_requests(pair, data):
    node, lb = pair
    node.requests.clear()
    resp, closed = first_response(lb.port, data)
    SEEN[resp.status if resp is not None else None] += 1
    if resp is not None:
        assert resp.status in ALLOWED, (resp.status, data)
        if resp.status >= 400:
            assert json.loads(resp.body or b"{}").get("msg") or data.startswith(b"HEAD "), (resp.status, data)
            # a 404 answers a well-formed request that was read whole (a management path on
            # the traffic listener): the connection may stay open, as HAProxy's and nginx's do
            assert closed or resp.status == 404, (resp.status, data)
            if resp.status not in (404, 408, 413, 417):
                # refused while reading the head: nothing of it reached the node
                assert node.requests == [], (resp.status, data, node.requests)
    # the node never sees the smuggled request, nor anything it could not parse
    assert not [r for r in node.requests if r.target == "/r/smuggled"], data
    assert still_serves(lb), data


# -- management API -------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10)
node_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.just("node"), json_values | st.text(max_size=40), min_size=1).map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=200),
    st.sampled_from([b"", b"{", b'{"node": "127.0.0.1:1"', b'{"node": "\\ud800:1"}', b"\xff\xfe",
                     b'{"node": "127.0.0.1:0"}', b'{"node": "[::1]:99999"}', b'{"node": null}', b"[]",
                     b'{"node": "' + b"a" * 70000 + b'"}']))


def local_only(body: bytes) -> bytes:
    """A body naming a valid address is pointed at a closed 127.0.0.1 port: the balancer
    must never health-check (or resolve) anything else."""
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return body
    if isinstance(obj, dict) and isinstance(obj.get("node"), str):
        try:
            address.validate(obj["node"])
        except address.AddressError:
            return body
        obj["node"] = CLOSED
        return json.dumps(obj).encode()
    return body


def assert_clean_answer(status, body, what) -> None:
    assert status < 500, (status, body, what)
    if status >= 400:
        assert isinstance(body, dict) and isinstance(body.get("msg"), str), (status, body, what)


@FUZZ
@given(method=st.sampled_from(["PUT", "DELETE"]), body=node_bodies)
def test_fuzzed_node_changes(pair, method, body):
    node, lb = pair
    body = local_only(body)
    status, answer = http(method, lb.mgmt_url + "/1/lb/nodes", body,
                          headers={"Content-Type": "application/json"})
    assert_clean_answer(status, answer, body[:200])


@FUZZ
@given(key=st.text(max_size=40), since=st.text(max_size=40),
       method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
       path=st.sampled_from(["/1/lb/route", "/1/lb/stats", "/1/lb/nodes", "/1/lb/dash", "/1/lb/dash/state",
                             "/metrics", "/1/lb/", "/1/lb/nope", "/1/lb/dash/../nodes"]))
def test_fuzzed_queries_and_methods(pair, key, since, method, path):
    node, lb = pair
    query = urllib.parse.urlencode({"key": key, "since": since})
    body = b"{}" if method in ("PUT", "DELETE", "POST", "PATCH") else None
    if method in ("PUT", "DELETE") and path == "/1/lb/nodes":
        body = json.dumps({"node": CLOSED}).encode()
    status, answer = http(method, f"{lb.mgmt_url}{path}?{query}", body)
    if method == "HEAD":
        assert status < 500
    else:
        assert_clean_answer(status, answer, (method, path, key, since))


def test_still_up_after_the_fuzzing(pair):
    node, lb = pair
    print("\ndata-path fuzz, first responses:", dict(SEEN))
    if SEEN:
        assert SEEN[200] and SEEN[400], SEEN    # both sides of the parser were exercised
    assert lb.alive() and still_serves(lb)
    assert http("GET", lb.mgmt_url + "/1/lb/nodes")[0] == 200
