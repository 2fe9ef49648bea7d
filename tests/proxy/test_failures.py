"""Node failures: no node, refused, reset, timeouts, broken responses, failover, stale pools."""

from __future__ import annotations

import socket
import time

from tests.proxy.conftest import start_proxy
from tests.proxy.rawhttp import Conn, build
from tests.support.backend import Backend, Reply


def paths_for(proxy_port: int, node: Backend, count: int = 3) -> list[str]:
    """Paths that the router sends to `node` (found by asking through the proxy)."""
    found = []
    with Conn(proxy_port) as c:
        for i in range(200):
            before = len(node.requests)
            c.request("GET", f"/r/probe/{i}")
            if len(node.requests) > before:
                found.append(f"/r/probe/{i}")
                if len(found) == count:
                    return found
    raise AssertionError("no path routes to the node")


def test_no_node_gives_503_json(start_fnlb):
    proxy = start_fnlb("--log-level", "debug")
    with Conn(proxy.port) as c:
        resp = c.request("GET", "/r/a")
        assert resp.status == 503 and resp.header("content-type") == "application/json"
        assert "node" in resp.json()["msg"]
        assert c.request("GET", "/r/b").status == 503      # keep-alive kept


def test_refused_node_fails_over_to_the_next(start_fnlb):
    with Backend() as a, Backend() as b:
        proxy = start_proxy(start_fnlb, [a, b], "--access-log")
        paths = paths_for(proxy.port, a)
        a.stop()
        with Conn(proxy.port) as c:
            for path in paths:
                resp = c.request("GET", path)
                assert resp.status == 200
        assert {r.target for r in b.requests} >= set(paths)


def test_every_node_refusing_gives_502(start_fnlb):
    with Backend() as a, Backend() as b:
        proxy = start_proxy(start_fnlb, [a, b])
        a.stop()
        b.stop()
        with Conn(proxy.port) as c:
            resp = c.request("GET", "/r/a")
        assert resp.status == 502 and "msg" in resp.json()


def test_reset_before_response_fails_over(start_fnlb):
    with Backend() as a, Backend() as b:
        proxy = start_proxy(start_fnlb, [a, b])
        paths = paths_for(proxy.port, a, 1)
        a.reply = Reply(action="reset")
        with Conn(proxy.port) as c:
            resp = c.request("POST", paths[0], body=b"replayed body")
        assert resp.status == 200
        assert b.requests[-1].target == paths[0] and b.requests[-1].body == b"replayed body"


def test_close_without_response_fails_over(start_fnlb):
    with Backend() as a, Backend() as b:
        proxy = start_proxy(start_fnlb, [a, b], "--retries", "1")
        paths = paths_for(proxy.port, a, 1)
        a.reply = Reply(action="close")
        with Conn(proxy.port) as c:
            assert c.request("GET", paths[0]).status == 200
        assert b.requests[-1].target == paths[0]


def test_retries_zero_answers_502(start_fnlb):
    with Backend() as a, Backend() as b:
        proxy = start_proxy(start_fnlb, [a, b], "--retries", "0")
        paths = paths_for(proxy.port, a, 1)
        a.stop()
        with Conn(proxy.port) as c:
            assert c.request("GET", paths[0]).status == 502


def test_connect_timeout_fails_over(start_fnlb):
    """A node that stops accepting (its listen backlog is full: SYNs are dropped) counts as
    failed after --connect-timeout, and the request goes to the next node."""
    with Backend() as a, Backend() as b:
        proxy = start_proxy(start_fnlb, [a, b], "--connect-timeout", "300ms", "--pool-size", "0")
        paths = paths_for(proxy.port, a, 2)
        a.stop()
        stuck = socket.socket()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        stuck.bind(("127.0.0.1", a.port))
        stuck.listen(0)
        fillers = []
        for _ in range(4):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", a.port))
            fillers.append(s)
        try:
            t0 = time.monotonic()
            with Conn(proxy.port) as c:
                for path in paths:
                    assert c.request("GET", path).status == 200
            assert time.monotonic() - t0 < 8
            assert {r.target for r in b.requests} >= set(paths)
        finally:
            for s in fillers:
                s.close()
            stuck.close()


def test_upstream_timeout_gives_504(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--upstream-timeout", "400ms")
    node.reply = Reply(delay=3)
    t0 = time.monotonic()
    with Conn(proxy.port) as c:
        resp = c.request("GET", "/r/slow")
    assert resp.status == 504 and "msg" in resp.json()
    assert 0.3 < time.monotonic() - t0 < 2.5


def test_slow_but_in_time_response_is_not_cut(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--upstream-timeout", "2s")
    node.reply = Reply(delay=0.5, body=b"late")
    with Conn(proxy.port) as c:
        assert c.request("GET", "/r/slow").body == b"late"


def test_node_closing_mid_response_closes_client(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node])
    node.reply = Reply(body=b"x" * 100000, action="partial")
    with Conn(proxy.port) as c:
        c.send(build("GET", "/r/a"))
        head = c._until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert c.closed(timeout=5)      # never a hang
        assert len(c.buf) < 100000


def test_invalid_response_gives_502(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node])
    node.reply = Reply(status=200, headers=[("Bad Name", "v")], body=b"x")
    with Conn(proxy.port) as c:
        assert c.request("GET", "/r/a").status == 502


def test_odd_reason_phrase_is_not_passed_on(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node])
    node.reply = Reply(status=200, reason="OK\x00\x7fodd", body=b"x")
    with Conn(proxy.port) as c:
        resp = c.request("GET", "/r/a")
    assert resp.status == 200 and resp.raw_head.startswith(b"HTTP/1.1 200 OK\r\n")


def test_stale_pooled_connection_is_replayed_on_a_fresh_one(start_fnlb, node):
    """The node closes each connection right after answering (without saying so): the
    pooled connection is dead when reused, and the request must still succeed."""
    proxy = start_proxy(start_fnlb, [node])
    node.reply = Reply(body=b"once", keep_alive=True)
    node.reply.close_after = True
    with Conn(proxy.port) as c:
        for i in range(5):
            assert c.request("POST", f"/r/a/{i}", body=b"payload").body == b"once"
            time.sleep(0.05)
    assert len(node.requests) == 5


def test_wait_header_exposed_when_asked(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--expose-wait-header")
    node.reply = Reply(headers=[("xxx-fxlb-wait", "1.5ms")])
    with Conn(proxy.port) as c:
        assert c.request("GET", "/r/a").header("XXX-FXLB-WAIT") == "1.5ms"


def test_pool_size_zero_opens_a_connection_per_request(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--pool-size", "0")
    with Conn(proxy.port) as c:
        for i in range(3):
            assert c.request("GET", f"/r/{i}").status == 200
    assert len({r.conn for r in node.requests}) == 3


def test_idle_pooled_connections_are_closed(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--pool-idle-timeout", "300ms")
    with Conn(proxy.port) as c:
        assert c.request("GET", "/r/a").status == 200
        time.sleep(1.5)
        assert c.request("GET", "/r/b").status == 200
    first, second = node.requests
    assert first.conn != second.conn


def test_access_log_reports_client_gone_as_499(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node], "--access-log")
    node.reply = Reply(delay=0.5)
    c = Conn(proxy.port)
    c.send(build("GET", "/r/gone"))
    node.wait_requests(1)
    c.close()
    with Conn(proxy.port) as c2:
        node.reply = Reply(body=b"fine")
        assert c2.request("GET", "/r/fine?x=1").status == 200
    time.sleep(0.6)
    lines = [line for line in proxy.output().splitlines() if "fnlb.access" in line]
    assert any("GET /r/gone 499" in line for line in lines), lines
    assert any(f"GET /r/fine?x=1 200 {node.address} 4 " in line for line in lines), lines


def test_response_with_both_length_and_chunked_gives_502(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node])
    node.reply = Reply(headers=[("Transfer-Encoding", "chunked")], body=b"0\r\n\r\n")   # plus Content-Length
    with Conn(proxy.port) as c:
        assert c.request("GET", "/r/a").status == 502


def test_node_closing_inside_a_chunked_body_cuts_the_client(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node])
    # a head that promises chunks, then the node closes without sending any
    node.reply = Reply(status=200, framing="none", headers=[("Transfer-Encoding", "chunked")], keep_alive=False)
    with Conn(proxy.port) as c:
        c.send(build("GET", "/r/a"))
        head = c._until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert c.closed(timeout=5)      # never a hang
