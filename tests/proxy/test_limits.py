"""Connection limits and client timeouts (generous bounds: the machine may be busy)."""

from __future__ import annotations

import time

from tests.proxy.conftest import start_proxy
from tests.proxy.rawhttp import Conn


def test_max_connections_closes_new_ones_and_serves_existing(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--max-connections", "2")
    time.sleep(0.2)     # the health-check client connections above are gone
    with Conn(proxy.port) as a, Conn(proxy.port) as b:
        assert a.request("GET", "/r/a").status == 200
        assert b.request("GET", "/r/b").status == 200
        with Conn(proxy.port) as c:
            assert c.closed(timeout=3)
        assert a.request("GET", "/r/c").status == 200
    time.sleep(0.2)
    with Conn(proxy.port) as d:
        assert d.request("GET", "/r/d").status == 200   # room again once they left


def test_slow_headers_are_cut_off(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--client-header-timeout", "500ms")
    t0 = time.monotonic()
    with Conn(proxy.port) as c:
        c.send(b"GET /r/a HTTP/1.1\r\nHost: h\r\n")
        for _ in range(20):
            time.sleep(0.1)
            try:
                c.send(b"X-Drip: 1\r\n")
            except OSError:
                break
        assert c.closed(timeout=5)
    assert time.monotonic() - t0 < 5
    assert node.requests == []


def test_silent_connection_is_cut_off_by_header_timeout(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--client-header-timeout", "300ms")
    with Conn(proxy.port) as c:
        t0 = time.monotonic()
        assert c.closed(timeout=5)
        assert 0.2 < time.monotonic() - t0 < 4


def test_idle_keep_alive_connection_is_closed(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--client-idle-timeout", "400ms")
    with Conn(proxy.port) as c:
        assert c.request("GET", "/r/a").status == 200
        t0 = time.monotonic()
        assert c.closed(timeout=5)
        assert 0.3 < time.monotonic() - t0 < 4


def test_idle_timeout_does_not_cut_busy_connections(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--client-idle-timeout", "300ms")
    with Conn(proxy.port) as c:
        for i in range(8):
            assert c.request("GET", f"/r/{i}").status == 200
            time.sleep(0.1)


def test_stalled_body_is_cut_off_and_node_never_sees_it_complete(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--client-body-timeout", "400ms")
    with Conn(proxy.port) as c:
        c.send(b"POST /r/a HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n0123456789")
        resp = c.response()
        assert resp.status == 408
        assert c.closed(timeout=5)
    time.sleep(0.2)
    assert all(not r.complete for r in node.requests)


def test_slow_but_steady_body_is_accepted(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--client-body-timeout", "500ms")
    with Conn(proxy.port) as c:
        c.send(b"POST /r/a HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n")
        for i in range(10):
            time.sleep(0.15)
            c.send(b"%d" % i)
        assert c.response().status == 200
    assert node.requests[0].body == b"0123456789"


def test_custom_header_limits(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--max-header-size", "1KiB", "--max-request-line", "100")
    with Conn(proxy.port) as c:
        assert c.request("GET", "/r/" + "a" * 50, headers=[("X-A", "v" * 500)]).status == 200
    with Conn(proxy.port) as c:
        assert c.request("GET", "/r/" + "a" * 150).status == 414
    with Conn(proxy.port) as c:
        assert c.request("GET", "/r/a", headers=[("X-A", "v" * 1100)]).status == 431
