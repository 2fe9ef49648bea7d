"""Killing a node under load: only the requests in flight on it may fail."""

import http.client
import threading
import time

import pytest

from tests.nodes.helpers import http as call
from tests.nodes.helpers import wait_for

pytestmark = pytest.mark.timeout(120)

REQUESTS = 500
CONCURRENCY = 10


def test_killing_a_node_under_load_fails_only_its_requests_in_flight(start_fnlb, fake_node):
    nodes = [fake_node() for _ in range(3)]
    victim = nodes[1]
    lb = start_fnlb("--nodes", ",".join(n.addr for n in nodes), "--hc-interval", "0.5", "--hc-timeout", "0.5")
    wait_for(lambda: set(call("GET", lb.mgmt_url + "/1/lb/nodes")[1]["nodes"].values()) == {"online"}, 5)

    results = []            # (started, finished, status or exception text, node)
    lock = threading.Lock()
    counter = iter(range(REQUESTS))
    killed_at = []
    offline_at = []

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", lb.port, timeout=10)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            if i == REQUESTS // 3 and not killed_at:
                victim.kill()
                killed_at.append(time.monotonic())
            started = time.monotonic()
            try:
                conn.request("GET", f"/r/app/fn{i % 40}?ms=10")
                resp = conn.getresponse()
                body = resp.read()
                outcome, node = resp.status, (body.split(b'"node": "')[1].split(b'"')[0].decode()
                                              if resp.status == 200 else None)
            except (OSError, http.client.HTTPException) as exc:
                outcome, node = type(exc).__name__, None
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", lb.port, timeout=10)
            with lock:
                results.append((started, time.monotonic(), outcome, node))
        conn.close()

    def watch():
        while not offline_at:
            nodes_now = call("GET", lb.mgmt_url + "/1/lb/nodes")[1]["nodes"]
            if killed_at and nodes_now.get(victim.addr) == "offline":
                offline_at.append(time.monotonic())
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    watcher.join(10)

    assert len(results) == REQUESTS
    assert killed_at and offline_at, "the node was never marked offline"
    kill, offline = killed_at[0], offline_at[0]
    failed = [r for r in results if r[2] != 200]
    print(f"\n{len(failed)} of {REQUESTS} failed; offline {offline - kill:.3f}s after the kill")
    # at most the requests in flight on it: the load never has more than CONCURRENCY in flight,
    # and a failed request must have been under way when the node died
    assert len(failed) <= CONCURRENCY, failed
    assert all(r[0] <= kill + 0.05 or r[0] <= offline for r in failed), (kill, offline, failed)
    # none once it is marked offline (a 10 ms polling grain of slack)
    assert not [r for r in failed if r[0] > offline + 0.02]
    # nothing was served by the dead node after its death, and the others took its keys
    assert not [r for r in results if r[3] == victim.addr and r[0] > kill + 0.05]
    assert {r[3] for r in results if r[0] > offline} == {nodes[0].addr, nodes[2].addr}
    # the kill was detected well before the 2 failed active checks at 0.5 s would have
    assert offline - kill < 1.5
