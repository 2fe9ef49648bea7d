"""Fixtures of the proxy tests: real test nodes (tests/support/backend.py) behind a real
`fnlb serve` process on 127.0.0.1 ephemeral ports."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.support.backend import Backend
from tests.support.procs import Fnlb

# Health checks are made rare so that a node a test stops stays "online" (the data path's
# own failover is under test), but nodes still come online at start.
FAST = ("--hc-interval", "1h", "--log-level", "debug")


def wait_online(proc: Fnlb, nodes: list[str], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    state = {}
    while time.monotonic() < deadline:
        with urllib.request.urlopen(proc.mgmt_url + "/1/lb/nodes", timeout=5) as resp:
            state = json.load(resp)["nodes"]
        if all(state.get(n) == "online" for n in nodes):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nodes not online: {state}")


def start_proxy(start_fnlb, nodes: list[Backend], *args: str, **kw) -> Fnlb:
    addresses = [n.address for n in nodes]
    node_args = ("--nodes", ",".join(addresses)) if addresses else ()
    proc = start_fnlb(*node_args, *FAST, *args, **kw)
    if addresses:
        wait_online(proc, addresses)
    return proc


@pytest.fixture
def node():
    with Backend() as backend:
        yield backend


@pytest.fixture
def node2():
    with Backend() as backend:
        yield backend


@pytest.fixture
def proxy(start_fnlb, node):
    """fnlb in front of one test node, separate traffic and management listeners."""
    return start_proxy(start_fnlb, [node])


@pytest.fixture(scope="module")
def shared_pair():
    """One node and one fnlb for a whole module (tests reset the node with ``fresh``)."""
    started = []
    with Backend() as backend:
        def start(*args, **kw):
            proc = Fnlb(*args, **kw)
            started.append(proc)
            return proc
        try:
            yield backend, start_proxy(start, [backend])
        finally:
            for proc in started:
                proc.kill()


@pytest.fixture
def fresh(shared_pair):
    backend, proc = shared_pair
    from tests.support.backend import Reply
    backend.reply = Reply()
    backend.requests.clear()
    return backend, proc
