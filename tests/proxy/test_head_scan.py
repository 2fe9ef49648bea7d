"""The one-pass head scanners (fnlb.proxy.head) against httptools (llhttp), differentially.

A head the scanner takes must be one llhttp accepts and reads the same way (method,
target, version, keep-alive, every header's name and value, no body); a head llhttp
rejects must never be taken. And end to end: a ClientProtocol and its node connection on
fake transports, fed the same bytes with the scanners on and off, must send the node and
the client the same bytes, report the same outcomes and keep or close the same
connections. Smuggling vectors first (tests/robustness/test_smuggling.py), then random and
hostile heads (hypothesis). Runs on both builds (the scanners are forced on uncompiled).
"""

from __future__ import annotations

from collections import deque

import httptools
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fnlb.config.flags import parse
from fnlb.config.serve import FLAGS, ServeConfig
from fnlb.proxy import client as client_mod
from fnlb.proxy import head, upstream
from fnlb.proxy.client import TRAFFIC, ClientProtocol
from fnlb.proxy.pool import Pool
from fnlb.proxy.server import ProxyServer
from fnlb.proxy.upstream import UpstreamProtocol
from fnlb.proxy.wire import REQUEST_SPECIAL
from tests.proxy.fakes import Transport
from tests.robustness.test_smuggling import ALL as SMUGGLING

NODE = "127.0.0.1:9000"
RESPONSE = (b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
            b"Connection: keep-alive\r\nXXX-FXLB-WAIT: 1ms\r\n\r\nhello")
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
REQUEST_NAMES = head.name_table({n: head.HOST if n == b"host" else head.SPECIAL for n in REQUEST_SPECIAL})
RESPONSE_KINDS = head.name_table(upstream._KINDS)


# -- httptools' reading of a head --------------------------------------------------------

class Recorder:
    def __init__(self):
        self.url = b""
        self.headers = []
        self.body = b""
        self.complete = False
        self.head_done = False

    def on_url(self, url):
        self.url += url

    def on_header(self, name, value):
        self.headers.append((name, value))

    def on_headers_complete(self):
        self.head_done = True

    def on_body(self, body):
        self.body += body

    def on_message_complete(self):
        self.complete = True


def llhttp_request(data: bytes):
    rec = Recorder()
    parser = httptools.HttpRequestParser(rec)
    try:
        parser.feed_data(data)
    except httptools.HttpParserError:
        return None
    return rec, parser


def check_request(data: bytes) -> None:
    scan = head.RequestHead()
    end = head.scan_request(data, 0, scan, REQUEST_NAMES)
    if not end:
        return
    got = llhttp_request(data[:end])
    assert got is not None, "the scanner took a head that llhttp rejects"
    rec, parser = got
    assert rec.complete and rec.body == b""
    assert parser.get_method() == scan.method and rec.url == scan.target
    assert parser.get_http_version() == "1.1" and parser.should_keep_alive() and not parser.should_upgrade()
    assert b"".join(b"%b: %b\r\n" % hv for hv in rec.headers) == scan.headers
    lows = [name.lower() for name, _ in rec.headers]
    assert lows.count(b"host") == 1
    assert not (set(lows) & (REQUEST_SPECIAL - {b"host"}))


# -- end to end: the client side and one node connection on fake transports ---------------


class Dispatcher:
    def __init__(self):
        self.calls = []

    def begin(self, key, now):
        self.calls.append(("begin", key))
        return NODE

    def begin_retry(self, key, tried, now):
        return None

    def request_done(self, node, key, status, latency, wait, now):
        self.calls.append(("done", key, status, wait))

    def upstream_failed(self, node, key, now):
        self.calls.append(("failed", key))


def wired() -> tuple:
    """A ClientProtocol whose pool holds one idle UpstreamProtocol to NODE, both on fake
    transports: (dispatcher, client, client transport, node connection, node transport)."""
    ns, _ = parse(FLAGS, ["--listen", "127.0.0.1:1", "--mgmt-listen", "127.0.0.1:2"], env={})
    cfg = ServeConfig.from_namespace(ns)
    dispatcher = Dispatcher()
    server = ProxyServer(dispatcher, cfg.proxy, None, False)
    server.pool = Pool(None, cfg.proxy, False)
    up = UpstreamProtocol(server.pool, NODE)
    node_side = Transport()
    up.connection_made(node_side)
    server.pool.idle[NODE] = deque([up])
    client = ClientProtocol(server, TRAFFIC)
    client_side = Transport()
    client.connection_made(client_side)
    return dispatcher, client, client_side, up, node_side


def transcript(data: bytes, response: bytes, scan: bool) -> tuple:
    """What the node and the client get for ``data`` (then ``response`` to every request
    that reached the node), with the scanners on or off."""
    saved = client_mod.SCAN, upstream.SCAN
    client_mod.SCAN = upstream.SCAN = scan
    try:
        dispatcher, client, client_side, up, node_side = wired()
        client.data_received(data)
        seen = 0
        for _ in range(4):      # answer each request that reached the node, in turn
            if len(node_side.out) == seen or up.ex is None or node_side.closed:
                break
            seen = len(node_side.out)
            up.data_received(response)
        return (b"".join(node_side.out), node_side.closed, b"".join(client_side.out), client_side.closed,
                dispatcher.calls, up.ex is None and not up.closed)
    finally:
        client_mod.SCAN, upstream.SCAN = saved


def check_both_ways(data: bytes, response: bytes = RESPONSE) -> None:
    assert transcript(data, response, True) == transcript(data, response, False)


# -- requests -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SMUGGLING))
def test_smuggling_vectors_read_alike(name):
    data = SMUGGLING[name]
    check_request(data)
    check_both_ways(data)
    check_both_ways(b"GET /r/good HTTP/1.1\r\nHost: h\r\n\r\n" + data)


def test_the_plain_requests_are_scanned():
    scan = head.RequestHead()
    data = b"GET /r/app/fn?x=1 HTTP/1.1\r\nHost: h:1\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\nGET"
    end = head.scan_request(data, 0, scan, REQUEST_NAMES)
    assert end == len(data) - 3
    assert (scan.method, scan.target) == (b"GET", b"/r/app/fn?x=1")
    assert scan.headers == b"Host: h:1\r\nUser-Agent: wrk\r\nAccept: */*\r\n"
    for other in (b"GET / HTTP/1.0\r\nHost: h\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n",
                  b"GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n", b"GET / HTTP/1.1\r\nHost: h\r\n",
                  b"GET / HTTP/1.1\r\nHost:h\r\n\r\n", b"GET / HTTP/1.1\r\nHost: h \r\n\r\n",
                  b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx",
                  b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", b"get / HTTP/1.1\r\nHost: h\r\n\r\n"):
        assert head.scan_request(other, 0, scan, REQUEST_NAMES) == 0, other


# Each list leads with the plain choices, repeated so that about half the heads drawn are
# plain ones the scanners take and the rest differ from one in a byte or two.
PLAIN = 6
METHODS = [b"GET"] * PLAIN + [b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"get", b"CONNECT", b"TRACE",
           b"PROPFIND", b"G ET", b"GETS", b"", b"GET\x00", b"PURGE", b"M-SEARCH"]
TARGETS = [b"/", b"/r/app/fn", b"/r/a?x=1&y=%20", b"*", b"http://h/x", b"h:80", b"/a b", b"/a\x00", b"/%zz",
           b"/\x7f", b"/\xe9", b"/#frag", b'/a"b', b"/{}|\\^`", b"/a\tb", b"//x", b"/../etc", b"", b"/1/lb/nodes",
           b"/metrics", b"/" + b"a" * 300]
VERSIONS = [b"HTTP/1.1"] * 3 * PLAIN + [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.2", b"http/1.1", b"HTTP/1.1 ", b"HTTP/0.9", b"HTTP/11"]
NAMES = [b"User-Agent", b"Accept", b"X-A", b"Cookie"] * PLAIN + [b"Host", b"host", b"HOST", b"Content-Length", b"Transfer-Encoding", b"Connection", b"X-Forwarded-For",
         b"X-Forwarded-Proto", b"Expect", b"Upgrade", b"TE", b"Keep-Alive", b"Trailer", b"Proxy-Connection",
         b"User-Agent", b"Accept", b"X-A", b"Host ", b" Host", b"Ho st", b"Host\x00", b"H\xe9st", b"", b"X_Y",
         b"Content-Lengt", b"Hosts", b"Referer", b"Cookie", b"Accept-Encoding"]
EOLS = [b"\r\n"] * 4 * PLAIN + [b"\n", b"\r", b"\r\n ", b"\r\n\t"]
SEPS = [b": "] * 4 * PLAIN + [b":", b":  ", b":\t", b" : ", b": \t"]
VALUE_CHARS = b"abcXYZ019 ,;=:/-\t\x00\x7f\x80\xff\x0b\"chunked"
values = st.one_of(st.sampled_from([b"h", b"wrk", b"*/*", b"a=1; b=2", b"Mozilla/5.0 (X11)"] * PLAIN + [b"chunked", b"0", b"5", b"close", b"keep-alive", b"100-continue",
                                    b"127.0.0.1:8081", b"", b" h", b"h ", b"a\tb"]),
                   st.lists(st.sampled_from(list(VALUE_CHARS)), max_size=12).map(bytes))
header = st.tuples(st.one_of(st.sampled_from(NAMES), st.binary(min_size=1, max_size=8)), st.sampled_from(SEPS),
                   values, st.sampled_from(EOLS))


def request_bytes(method, target, version, eol, headers, end, tail):
    head_ = method + b" " + target + b" " + version + eol
    head_ += b"".join(n + s + v + e for n, s, v, e in headers)
    return head_ + end + tail


hostile_requests = st.builds(
    request_bytes, st.sampled_from(METHODS),
    st.one_of(st.sampled_from(TARGETS), st.binary(max_size=10),
              st.lists(st.sampled_from(list(head.URL_CHARS)), max_size=12).map(lambda cs: b"/" + bytes(cs))),
    st.sampled_from(VERSIONS), st.sampled_from(EOLS),
    st.lists(header, max_size=5).map(lambda hs: [(b"Host", b": ", b"h", b"\r\n"), *hs]) | st.lists(header, max_size=5),
    st.sampled_from([b"\r\n"] * PLAIN + [b"\n", b"", b"\r\n\r\n"]),
    st.sampled_from([b"", b"GET /r/next HTTP/1.1\r\nHost: h\r\n\r\n", b"x", b"0\r\n\r\n"]))


HOSTILE_BYTES = list(b"\x00\r\n\t \x0b\x7f\x80\xff:;,\"/?#%@Hh0Aa-_")


def mutate(data: bytes, pos: int, byte: int, how: int) -> bytes:
    """``data`` with one byte replaced, inserted or removed at ``pos`` (how 0: unchanged)."""
    pos %= len(data) + 1
    if how == 1:
        return data[:pos] + bytes([byte]) + data[pos + 1:]
    if how == 2:
        return data[:pos] + bytes([byte]) + data[pos:]
    if how == 3:
        return data[:pos] + data[pos + 1:]
    return data


plain_header = st.tuples(st.sampled_from([b"User-Agent", b"Accept", b"X-A", b"Cookie", b"host"]), st.just(b": "),
                         st.sampled_from([b"h", b"wrk", b"*/*", b"a=1; b=2", b"Mozilla/5.0 (X11)", b"a\tb"]),
                         st.just(b"\r\n"))
plain_requests = st.builds(
    request_bytes, st.sampled_from(head.METHODS),
    st.lists(st.sampled_from(list(head.URL_CHARS)), max_size=12).map(lambda cs: b"/" + bytes(cs)),
    st.just(b"HTTP/1.1"), st.just(b"\r\n"),
    st.lists(plain_header, max_size=4).map(lambda hs: [(b"Host", b": ", b"h", b"\r\n"), *hs]),
    st.just(b"\r\n"), st.sampled_from([b"", b"GET /r/next HTTP/1.1\r\nHost: h\r\n\r\n", b"x"]))
requests = st.one_of(
    st.builds(mutate, plain_requests, st.integers(0, 120), st.sampled_from(HOSTILE_BYTES), st.integers(0, 3)),
    hostile_requests)


@FUZZ
@given(requests)
@example(b"GET /r/a HTTP/1.1\r\nHost: h\r\n\r\n")
@example(b"GET /r/a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
@example(b"GET /r/a HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n")
@example(b"GET /r/a HTTP/1.1\r\nhost: h\r\nX-A: b\r\n\r\nGET /r/b HTTP/1.1\r\nHost: h\r\n\r\n")
def test_random_and_hostile_requests_read_alike(data):
    check_request(data)
    check_both_ways(data)


# -- responses ----------------------------------------------------------------------------

def check_response(data: bytes, expose: bool) -> None:
    scan = head.ResponseHead()
    end = head.scan_response(data, scan, RESPONSE_KINDS, upstream.CONTENT_LENGTH, upstream.CONNECTION,
                             upstream.WAIT, upstream.TRANSFER_ENCODING, expose)
    if not end:
        return
    rec = Recorder()
    parser = httptools.HttpResponseParser(rec)
    parser.feed_data(data)      # raises if llhttp rejects what the scanner took
    assert rec.head_done and parser.get_status_code() == scan.status
    assert rec.body == data[end:] and (rec.complete or len(rec.body) < scan.length)
    lengths = [v for n, v in rec.headers if n.lower() == b"content-length"]
    assert lengths == [scan.cl] and int(scan.cl) == scan.length


STATUS_LINES = [b"HTTP/1.1 200 OK"] * 2 * PLAIN + [b"HTTP/1.1 404 Not Found", b"HTTP/1.1 500 ", b"HTTP/1.1 200", b"HTTP/1.0 200 OK",
                b"HTTP/1.1 204 No Content", b"HTTP/1.1 304 Not Modified", b"HTTP/1.1 100 Continue",
                b"HTTP/1.1 101 Switching", b"HTTP/1.1 2000 OK", b"HTTP/1.1 20 OK", b"HTTP/1.1 999 X", b"http/1.1 200 OK",
                b"HTTP/1.1 200 O\tK", b"HTTP/1.1 200 \xe9", b"HTTP/1.1 200 OK ", b"HTTP/1.1  200 OK"]
RESPONSE_NAMES = [b"Server", b"Date", b"Content-Type", b"XXX-FXLB-WAIT", b"Keep-Alive"] * PLAIN + [b"Server", b"Date", b"Content-Type", b"Content-Length", b"content-length", b"Connection",
                  b"Transfer-Encoding", b"XXX-FXLB-WAIT", b"xxx-fxlb-wait", b"Keep-Alive", b"TE", b"Trailer",
                  b"Upgrade", b"Proxy-Connection", b"Set-Cookie", b"X-A", b"Content-Length ", b""]
length_values = st.sampled_from([b"5"] * PLAIN + [b"0", b"5", b"3", b"9", b"05", b"+5", b"-5", b"5 ", b" 5", b"5, 5", b"x", b"",
                                 b"99999999999999999999"])
response_header = st.one_of(
    st.tuples(st.sampled_from(RESPONSE_NAMES), st.sampled_from(SEPS), values, st.sampled_from(EOLS)),
    st.tuples(st.just(b"Content-Length"), st.sampled_from(SEPS), length_values, st.just(b"\r\n")),
    st.tuples(st.just(b"Connection"), st.sampled_from(SEPS),
              st.sampled_from([b"keep-alive"] * PLAIN + [b"close", b"Close", b"Keep-Alive", b"CLOSE", b"x-a", b"close, x-a",
                               b"upgrade"]), st.just(b"\r\n")))


def response_bytes(line, headers, cl, end, body):
    data = line + b"\r\n" + b"".join(n + s + v + e for n, s, v, e in headers)
    if cl is not None:
        data += b"Content-Length: " + cl + b"\r\n"
    return data + end + body


hostile_responses = st.builds(response_bytes, st.sampled_from(STATUS_LINES), st.lists(response_header, max_size=5),
                      length_values | st.none(), st.sampled_from([b"\r\n"] * PLAIN + [b"\n", b""]),
                      st.sampled_from([b"hello"] * PLAIN + [b"", b"hel", b"hello world", b"0\r\n\r\n"]))


plain_response_header = st.tuples(
    st.sampled_from([b"Server", b"Date", b"Content-Type", b"XXX-FXLB-WAIT", b"Keep-Alive", b"Connection", b"X-A"]),
    st.just(b": "), st.sampled_from([b"nginx", b"1ms", b"keep-alive", b"close", b"text/plain; charset=utf-8"]),
    st.just(b"\r\n"))
plain_responses = st.builds(response_bytes, st.sampled_from([b"HTTP/1.1 200 OK", b"HTTP/1.1 404 Not Found",
                                                             b"HTTP/1.1 503 Service Unavailable", b"HTTP/1.1 299 "]),
                            st.lists(plain_response_header, max_size=5), st.sampled_from([b"5", b"0", b"11"]),
                            st.just(b"\r\n"), st.sampled_from([b"hello", b"", b"hel", b"hello world"]))
responses = st.one_of(
    st.builds(mutate, plain_responses, st.integers(0, 150), st.sampled_from(HOSTILE_BYTES), st.integers(0, 3)),
    hostile_responses)


@FUZZ
@given(responses, st.booleans())
@example(RESPONSE, False)
@example(RESPONSE, True)
@example(RESPONSE[:-2], False)
@example(RESPONSE + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", False)
@example(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhel", False)
def test_random_and_hostile_responses_read_alike(data, expose):
    check_response(data, expose)
    request = b"GET /r/a HTTP/1.1\r\nHost: h\r\n\r\n"
    assert transcript(request, data, True) == transcript(request, data, False)
    # the same response in two reads: the second part is followed by httptools
    for cut in (len(data) // 2, len(data) - 1):
        if 0 < cut < len(data):
            assert two_reads(data, cut, True) == two_reads(data, cut, False)


def two_reads(data: bytes, cut: int, scan: bool) -> tuple:
    first, second = data[:cut], data[cut:]
    saved = client_mod.SCAN, upstream.SCAN
    client_mod.SCAN = upstream.SCAN = scan
    try:
        dispatcher, client, client_side, up, node_side = wired()
        client.data_received(b"GET /r/a HTTP/1.1\r\nHost: h\r\n\r\n")
        for part in (first, second):
            if up.ex is None or node_side.closed:
                break
            up.data_received(part)
        return (b"".join(client_side.out), client_side.closed, node_side.closed, dispatcher.calls,
                up.ex is None and not up.closed)
    finally:
        client_mod.SCAN, upstream.SCAN = saved
