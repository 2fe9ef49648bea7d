"""The real `fnlb serve` in front of tiny real nodes whose XXX-FXLB-WAIT the test sets.

One key's primary starts reporting a 3 s wait: its traffic spreads over the other nodes.
When the wait drops (or when the node stops being sampled at all), the traffic returns.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.procs import free_port


class Node:
    """An Fn-like node on 127.0.0.1: /version for health, everything else a 'function'
    answering {"node": addr} with XXX-FXLB-WAIT set to ``self.wait``."""

    def __init__(self):
        self.wait = "0s"
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        node = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes

            def do_GET(self):
                if self.path == "/version":
                    body = b'{"version": "0.3.700"}'
                    self.send_response(200)
                else:
                    body = json.dumps({"node": node.addr}).encode()
                    self.send_response(200)
                    self.send_header("XXX-FXLB-WAIT", node.wait)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def nodes():
    started = [Node() for _ in range(3)]
    yield started
    for node in started:
        node.close()


def get_json(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null"), dict(resp.getheaders())
    finally:
        conn.close()


class Client:
    """One keep-alive connection to the balancer's traffic port."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def node_for(self, path):
        self.conn.request("GET", path)
        resp = self.conn.getresponse()
        body = resp.read()
        assert resp.status == 200, body
        assert resp.getheader("XXX-FXLB-WAIT") is None  # stripped by default
        return json.loads(body)["node"]

    def spread(self, path, n):
        return Counter(self.node_for(path) for _ in range(n))


def wait_online(lb, want, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body, _ = get_json(lb.mgmt_port, "/1/lb/nodes")
        if status == 200 and all(body["nodes"].get(a) == "online" for a in want):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nodes not online: {body}")


@pytest.fixture
def balancer(start_fnlb, nodes):
    lb = start_fnlb("--nodes", ",".join(n.addr for n in nodes), "--hc-interval", "1s")
    wait_online(lb, [n.addr for n in nodes])
    return lb


def test_slow_primary_spreads_its_key_and_gets_it_back(balancer, nodes):
    key = "/r/app/hello"
    status, route, _ = get_json(balancer.mgmt_port, f"/1/lb/route?key={key}")
    assert status == 200 and route["key"] == key
    primary = route["node"]
    assert route["order"][0] == primary and sorted(route["order"]) == sorted(n.addr for n in nodes)
    by_addr = {n.addr: n for n in nodes}
    client = Client(balancer.port)

    assert client.spread(key, 20) == Counter({primary: 20})  # no load: all on the primary

    by_addr[primary].wait = "3s"
    client.spread(key, 60)  # the average climbs (the first sample is capped: maybe a cold start)
    after = client.spread(key, 200)
    assert after[primary] < 0.3 * 200, after  # spread away (about 10% keeps probing it)
    assert sum(after[n] for n in after if n != primary) > 0.7 * 200
    assert after.most_common(1)[0][0] == route["order"][1]  # onto the key's next node first

    by_addr[primary].wait = "0s"  # the node recovers; the probes bring the average down
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if client.spread(key, 50)[primary] == 50:
            break
    else:
        pytest.fail("traffic never returned to the recovered primary")


def test_stale_wait_stops_repelling_within_5_seconds(balancer, nodes):
    key = "/r/app/stale"
    primary = get_json(balancer.mgmt_port, f"/1/lb/route?key={key}")[1]["node"]
    by_addr = {n.addr: n for n in nodes}
    client = Client(balancer.port)
    by_addr[primary].wait = "3s"
    client.spread(key, 100)
    assert client.spread(key, 100)[primary] < 30
    # No more traffic for the key: the primary gets no new samples. Within 5 s its stale
    # wait must stop counting, and the key goes home (the node still says 3s, but the
    # request that finds that out is already routed).
    time.sleep(5.0)
    status, route, _ = get_json(balancer.mgmt_port, f"/1/lb/route?key={key}")
    assert route["node"] == primary
    assert client.node_for(key) == primary


def test_route_endpoint_errors(balancer):
    status, body, _ = get_json(balancer.mgmt_port, "/1/lb/route")
    assert status == 400 and "key" in body["msg"]
