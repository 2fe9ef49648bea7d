"""--workers with real processes on 127.0.0.1: sharing the port, one routing state, one
view, management through a worker, and the faults (a worker dies, SIGTERM, the supervisor dies)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest

from fnlb.workers.ring import CONNS, PID, POS, read_u64
from tests.proxy.conftest import FAST, wait_online
from tests.proxy.rawhttp import Conn, build
from tests.support.backend import Backend, Reply
from tests.support.http import http
from tests.support.procs import fnlb_argv

pytestmark = pytest.mark.timeout(60)


def start(start_fnlb, nodes, *args, workers: int = 2, **kw):
    proc = start_fnlb("--workers", str(workers), "--nodes", ",".join(n.address for n in nodes), *FAST, *args, **kw)
    wait_online(proc, [n.address for n in nodes])
    wait_workers(proc, workers)
    return proc


def wait_workers(proc, n: int, timeout: float = 15.0) -> list[int]:
    """The worker pids, once n workers listen (each logs its traffic listener)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = workers_of(proc.popen.pid)
        if len(pids) == n and proc.output().count(" (traffic") >= n:
            return pids
        time.sleep(0.05)
    raise TimeoutError(f"{n} workers not up:\n{proc.output()}")


def workers_of(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry))
    return [c for c in children if "fnlb.workers.worker" in _cmdline(c)]


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def rings(proc) -> list[str]:
    """The supervisor's worker rings (memfd descriptors, as /proc paths), by worker index."""
    fds = {}
    base = f"/proc/{proc.popen.pid}/fd"
    for fd in os.listdir(base):
        try:
            target = os.readlink(f"{base}/{fd}")
        except OSError:
            continue
        if target.startswith("/memfd:fnlb-worker-"):
            fds[int(target.split("fnlb-worker-")[1].split()[0])] = f"{base}/{fd}"
    return [fds[i] for i in sorted(fds)]


def ring_header(path: str, offset: int) -> int:
    with open(path, "rb") as fh:
        return read_u64(fh.read(64), offset)


def port_free(port: int) -> bool:
    """Nothing listens on the port and a new listener can take it (SO_REUSEADDR: the
    closed connections' TIME_WAIT entries do not count)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except OSError:
        pass
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
            return True
        except OSError:
            return False


@pytest.fixture
def nodes():
    with Backend() as a, Backend() as b:
        yield a, b


def test_two_workers_share_the_port_and_place_as_one_balancer(start_fnlb, nodes):
    proc = start(start_fnlb, nodes)
    keys = [f"/r/app/f{i}" for i in range(16)]
    for _ in range(6):
        for key in keys:
            with Conn(proc.port) as c:                  # a new connection each: any worker
                assert c.request("GET", key).status == 200
    # both workers served (each made routing calls into its own ring)
    assert all(ring_header(name, POS) > 0 for name in rings(proc)), rings(proc)
    # stickiness across workers: every call of a key went to one node, whichever worker took it
    where: dict[str, set[str]] = {}
    for node in nodes:
        for req in node.requests:
            where.setdefault(req.target, set()).add(node.address)
    assert sorted(where) == sorted(keys) and all(len(v) == 1 for v in where.values()), where
    # and the supervisor's /1/lb/route names that node
    for key in keys:
        status, body = http("GET", f"{proc.mgmt_url}/1/lb/route?key={key}")
        assert status == 200 and {body["node"]} == where[key]
    # one view: the stats count every request of both workers
    deadline = time.monotonic() + 5
    total = 0
    while time.monotonic() < deadline:
        status, body = http("GET", proc.mgmt_url + "/1/lb/stats")
        total = sum(row["tp"] for row in body["stats"])
        if total == 6 * len(keys):
            break
        time.sleep(0.2)
    assert total == 6 * len(keys)
    status, text = http("GET", proc.mgmt_url + "/metrics")
    count = sum(float(line.rsplit(" ", 1)[1]) for line in text.decode().splitlines()
                if line.startswith("fnlb_requests_total{"))
    assert count == 6 * len(keys)


def test_management_on_the_shared_port_goes_through_the_workers(start_fnlb, nodes):
    proc = start(start_fnlb, nodes[:1], "--admin-token", "s3cret", same_listener=True)
    for _ in range(10):     # new connections: both workers relay
        status, body = http("GET", proc.url + "/1/lb/nodes")
        assert status == 200 and body["nodes"] == {nodes[0].address: "online"}
    status, body = http("PUT", proc.url + "/1/lb/nodes", {"node": nodes[1].address})
    assert status == 401 and "msg" in body
    status, body = http("PUT", proc.url + "/1/lb/nodes", {"node": nodes[1].address},
                        headers={"Authorization": "Bearer s3cret"})
    assert status == 200, body
    wait_online(proc, [n.address for n in nodes])
    status, _ = http("GET", proc.url + "/1/lb/dash")
    assert status == 200
    status, body = http("GET", proc.url + "/1/lb/nope")
    assert status == 404 and "msg" in body
    with Conn(proc.port) as c:      # keep-alive: traffic and management on one connection
        assert c.request("GET", "/r/app/x").status == 200
        assert c.request("HEAD", "/1/lb/nodes").status == 200
        assert c.request("GET", "/metrics").status == 200


def test_separate_management_listener_and_traffic_only_workers(start_fnlb, nodes):
    proc = start(start_fnlb, nodes[:1])
    with Conn(proc.port) as c:
        resp = c.request("GET", "/1/lb/nodes")
        assert resp.status == 404           # the traffic port serves no management
    assert http("GET", proc.mgmt_url + "/1/lb/nodes")[0] == 200


def test_a_killed_worker_is_restarted_and_the_other_keeps_serving(start_fnlb, nodes):
    proc = start(start_fnlb, nodes)
    victim, survivor = wait_workers(proc, 2)
    os.kill(victim, signal.SIGKILL)
    # Connections the kernel queued on its listener before the listener closed are reset
    # (docs/reliability.md); the listener is surely closed once the supervisor reaped it.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "exited with" not in proc.output():
        time.sleep(0.01)
    for i in range(40):                     # served by the other worker while it restarts
        try:
            with Conn(proc.port) as c:
                assert c.request("GET", f"/r/app/k{i % 5}").status == 200
        except OSError as exc:
            raise AssertionError(f"request {i}: {exc!r}\n{proc.output()}") from None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        pids = workers_of(proc.popen.pid)
        if len(pids) == 2 and victim not in pids:
            break
        time.sleep(0.05)
    assert survivor in pids and victim not in pids and len(pids) == 2
    assert "restarting it" in proc.output()
    wait_workers(proc, 2)
    before = [ring_header(name, POS) for name in rings(proc)]
    for i in range(60):
        with Conn(proc.port) as c:
            assert c.request("GET", f"/r/app/k{i % 5}").status == 200
    after = [ring_header(name, POS) for name in rings(proc)]
    assert all(a > b for a, b in zip(after, before)), (before, after)   # the new worker serves too
    metrics = http("GET", proc.mgmt_url + "/metrics")[1].decode()
    assert 'fnlb_worker_up{worker="0"} 1.0' in metrics and 'fnlb_worker_up{worker="1"} 1.0' in metrics
    restarts = [line for line in metrics.splitlines() if line.startswith("fnlb_worker_restarts_total{")]
    assert sorted(float(line.rsplit(" ", 1)[1]) for line in restarts) == [0.0, 1.0], restarts
    assert "fnlb_worker_event_lag_max_seconds " in metrics


def test_the_calls_of_a_killed_worker_are_released_everywhere(start_fnlb, nodes):
    """Calls in flight on a worker that dies never finish: the supervisor ends them in
    every replica, so the node's in-flight count does not stay inflated forever."""
    proc = start(start_fnlb, nodes[:1])
    nodes[0].reply = Reply(body=b"late", delay=1.5)
    wait_workers(proc, 2)
    conns = [Conn(proc.port) for _ in range(8)]
    try:
        for i, c in enumerate(conns):
            c.send(build("GET", f"/r/app/slow{i}"))
        nodes[0].wait_requests(8)
        time.sleep(0.1)             # the supervisor has replayed the STARTED events

        def in_flight() -> int:
            return http("GET", proc.mgmt_url + "/1/lb/dash/state")[1]["nodes"][0]["in_flight"]
        assert in_flight() == 8
        # the victim: a worker holding some of them (its ring header has its pid)
        victim = next(ring_header(r, PID) for r in rings(proc) if ring_header(r, CONNS) > 0)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and in_flight():
            time.sleep(0.1)
        assert in_flight() == 0, proc.output()
        assert "released" in proc.output()
    finally:
        for c in conns:
            c.close()
    nodes[0].reply = Reply()
    wait_workers(proc, 2)
    for i in range(20):
        with Conn(proc.port) as c:
            assert c.request("GET", f"/r/app/after{i % 3}").status == 200


def test_sigterm_drains_every_worker(start_fnlb, nodes):
    proc = start(start_fnlb, nodes[:1])
    nodes[0].reply = Reply(body=b"finished", delay=1.0)
    pids = wait_workers(proc, 2)
    conns = [Conn(proc.port) for _ in range(8)]      # in flight on both workers (most likely)
    try:
        for i, c in enumerate(conns):
            c.send(build("GET", f"/r/slow{i}"))
        nodes[0].wait_requests(8)
        proc.send_signal(signal.SIGTERM)
        for c in conns:
            resp = c.response()
            assert resp.body == b"finished" and resp.header("connection") == "close"
    finally:
        for c in conns:
            c.close()
    assert proc.popen.wait(10) == 0
    assert not any(os.path.exists(f"/proc/{p}") for p in pids)
    assert port_free(proc.port)
    assert not [n for n in os.listdir("/dev/shm") if n.startswith("fnlb")]     # nothing named, nothing left


def test_a_dead_supervisor_takes_its_workers_with_it(start_fnlb, nodes):
    proc = start(start_fnlb, nodes[:1])
    pids = wait_workers(proc, 2)
    os.kill(proc.popen.pid, signal.SIGKILL)
    proc.popen.wait(5)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_cmdline(p) for p in pids):
        time.sleep(0.05)
    assert not any(_cmdline(p) for p in pids), "orphaned workers"
    assert port_free(proc.port)


def test_max_connections_counts_the_whole_balancer(start_fnlb, nodes):
    proc = start(start_fnlb, nodes[:1], "--max-connections", "10")
    held = []
    try:
        for i in range(10):
            c = Conn(proc.port)
            assert c.request("GET", f"/r/app/h{i}").status == 200
            held.append(c)
        names = rings(proc)
        assert sum(ring_header(n, CONNS) for n in names) == 10
        assert all(ring_header(n, CONNS) > 0 for n in names)    # spread over both workers
        for _ in range(6):
            with Conn(proc.port) as extra:
                assert extra.closed(timeout=2)      # closed at once, whichever worker took it
        assert http("GET", proc.mgmt_url + "/1/lb/nodes")[0] == 200
        held.pop().close()
        held.pop().close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and sum(ring_header(n, CONNS) for n in names) > 8:
            time.sleep(0.02)
        with Conn(proc.port) as again:
            assert again.request("GET", "/r/app/again").status == 200
    finally:
        for c in held:
            c.close()


@pytest.mark.parametrize("value", ["0", "many", "-1", "257"])
def test_a_bad_workers_value_is_one_line_and_status_2(value):
    out = subprocess.run(fnlb_argv("--workers", value, "--listen", "127.0.0.1:0"), capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 2 and "--workers" in out.stderr.splitlines()[0] and "Traceback" not in out.stderr


def test_workers_auto_and_the_environment(start_fnlb, nodes):
    proc = start_fnlb("--nodes", nodes[0].address, *FAST, env={"FNLB_WORKERS": "2"})
    wait_workers(proc, 2)
    proc2 = start_fnlb("--workers", "auto", *FAST)
    wait_workers(proc2, len(os.sched_getaffinity(0)))


def test_listen_address_in_use_is_a_usage_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = subprocess.run(fnlb_argv("--workers", "2", "--listen", f"127.0.0.1:{port}",
                                       "--mgmt-listen", "127.0.0.1:0"), capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "--listen" in out.stderr and "Traceback" not in out.stderr
