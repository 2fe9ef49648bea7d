"""The limits at their edges and under pressure (tests/proxy/test_limits.py checks each one
alone): --max-connections full of idle clients, the header size limits at the exact byte,
--client-idle-timeout on a hundred clients. (--connect-timeout toward a node that stops
accepting is tests/proxy/test_failures.py; --upstream-timeout is test_node_faults.py.)"""

from __future__ import annotations

import time

import pytest

from tests.robustness.helpers import Conn, exchange, http, start_proxy
from tests.support.backend import Backend

pytestmark = pytest.mark.timeout(60)


def test_max_connections_full_of_idle_clients(start_fnlb):
    with Backend() as node:
        lb = start_proxy(start_fnlb, [node], "--max-connections", "50")
        time.sleep(0.2)
        held = [Conn(lb.port) for _ in range(50)]
        try:
            for c in held[:5]:
                assert c.request("GET", "/r/held").status == 200
            # beyond the limit: closed at once, before any byte is read; ten times over
            for _ in range(10):
                with Conn(lb.port) as extra:
                    t0 = time.monotonic()
                    try:
                        extra.send(b"GET /r/extra HTTP/1.1\r\nHost: h\r\n\r\n")
                    except OSError:
                        pass
                    assert extra.closed(timeout=3)
                    assert time.monotonic() - t0 < 2
            # the management listener is not counted: still reachable
            assert http("GET", lb.mgmt_url + "/1/lb/nodes")[0] == 200
            # the ones held are all still served
            for c in held:
                assert c.request("GET", "/r/held").status == 200
            assert not [r for r in node.requests if r.target == "/r/extra"]
        finally:
            for c in held[:10]:
                c.close()
        time.sleep(0.3)
        try:
            with Conn(lb.port) as again:     # room again once some left
                assert again.request("GET", "/r/again").status == 200
        finally:
            for c in held[10:]:
                c.close()


def test_header_limits_at_the_exact_byte(start_fnlb):
    with Backend() as node:
        lb = start_proxy(start_fnlb, [node], "--max-request-line", "200", "--max-header-size", "1000")
        path = "/r/" + "a" * 197                     # the target is exactly 200 bytes
        with Conn(lb.port) as c:
            assert c.request("GET", path).status == 200
        resp, closed = exchange(lb.port, f"GET {path}a HTTP/1.1\r\nHost: h\r\n\r\n".encode())
        assert resp.status == 414 and closed
        # header block: each header counts len(name) + len(value) + 4 (": " and CRLF)
        host = len("Host") + len("h") + 4
        value = "v" * (1000 - host - len("X-Fill") - 4)
        with Conn(lb.port) as c:
            assert c.request("GET", "/r/a", headers=[("X-Fill", value)], host="h").status == 200
        resp, closed = exchange(lb.port, f"GET /r/a HTTP/1.1\r\nHost: h\r\nX-Fill: {value}v\r\n\r\n".encode())
        assert resp.status == 431 and closed
        # many small headers add up the same way
        many = "".join(f"X-{i:03d}: {'v' * 40}\r\n" for i in range(30))
        resp, closed = exchange(lb.port, f"GET /r/a HTTP/1.1\r\nHost: h\r\n{many}\r\n".encode())
        assert resp.status == 431 and closed
    assert [r.target for r in node.requests] == [path, "/r/a"]


def test_idle_timeout_closes_many_idle_clients_and_keeps_serving(start_fnlb):
    with Backend() as node:
        lb = start_proxy(start_fnlb, [node], "--client-idle-timeout", "1s")
        idle = [Conn(lb.port) for _ in range(100)]
        try:
            for c in idle:
                assert c.request("GET", "/r/once").status == 200
            t0 = time.monotonic()
            # a busy client keeps its connection for longer than the idle timeout
            with Conn(lb.port) as busy:
                for _ in range(15):
                    assert busy.request("GET", "/r/busy").status == 200
                    time.sleep(0.15)
                assert time.monotonic() - t0 > 2.0
            assert all(c.closed(timeout=3) for c in idle)
        finally:
            for c in idle:
                c.close()
        assert lb.alive()
