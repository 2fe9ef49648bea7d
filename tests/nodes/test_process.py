"""The node list through real `fnlb serve` processes and real node processes."""

import signal
import socket
import subprocess
import time

import pytest

from tests.nodes.helpers import http, wait_for
from tests.support.procs import fnlb_argv, free_port

pytestmark = pytest.mark.timeout(120)


def nodes_of(lb):
    status, body = http("GET", lb.mgmt_url + "/1/lb/nodes")
    assert status == 200
    return body["nodes"]


def test_management_api_over_http(start_fnlb, fake_node):
    node = fake_node()
    lb = start_fnlb("--hc-interval", "0.2")
    url = lb.mgmt_url + "/1/lb/nodes"
    assert http("GET", url) == (200, {"nodes": {}, "details": {}})
    assert http("PUT", url, {"node": node.addr}) == (200, {"msg": "node added"})
    wait_for(lambda: nodes_of(lb) == {node.addr: "online"}, 3, what="node online")
    assert http("PUT", url, {"node": node.addr}) == (200, {"msg": "node added"})
    assert http("GET", lb.url + "/r/app/hello")[1]["node"] == node.addr
    status, body = http("PUT", url, {"node": "http://" + node.addr})
    assert status == 400 and "scheme" in body["msg"]
    status, body = http("PUT", url, b"{not json")
    assert status == 400 and "JSON" in body["msg"]
    assert http("POST", url, {"node": node.addr})[0] == 405
    status, body = http("PUT", url, b'{"node": "' + b"a" * 70000 + b'"}')
    assert status == 413 and "msg" in body
    assert http("DELETE", url, {"node": node.addr}) == (200, {"msg": "node deleted"})
    assert http("DELETE", url, {"node": node.addr})[0] == 404
    assert nodes_of(lb) == {}
    # the traffic listener does not serve the management API when the addresses differ
    assert http("PUT", lb.url + "/1/lb/nodes", {"node": node.addr})[0] != 200
    assert nodes_of(lb) == {}


@pytest.mark.parametrize("how", ["flag", "env"])
def test_admin_token(start_fnlb, how):
    if how == "flag":
        lb = start_fnlb("--admin-token", "t0ken", same_listener=True)
    else:
        lb = start_fnlb(same_listener=True, env={"FNLB_ADMIN_TOKEN": "t0ken"})
    url = lb.mgmt_url + "/1/lb/nodes"
    body = {"node": "127.0.0.1:9"}
    assert http("PUT", url, body)[0] == 401
    assert http("PUT", url, body, {"Authorization": "Bearer nope"})[0] == 401
    assert http("DELETE", url, body)[0] == 401
    assert nodes_of(lb) == {}
    assert http("PUT", url, body, {"Authorization": "Bearer t0ken"}) == (200, {"msg": "node added"})
    assert list(nodes_of(lb)) == ["127.0.0.1:9"]
    assert http("DELETE", url, body, {"Authorization": "Bearer t0ken"}) == (200, {"msg": "node deleted"})


def test_node_killed_and_restarted_goes_offline_and_online(start_fnlb, fake_node):
    node = fake_node()
    lb = start_fnlb("--nodes", node.addr, "--hc-interval", "0.2", "--hc-timeout", "0.5",
                    "--hc-unhealthy", "2", "--hc-healthy", "2")
    wait_for(lambda: nodes_of(lb) == {node.addr: "online"}, 3, what="online")
    node.kill()
    _, took = wait_for(lambda: nodes_of(lb)[node.addr] == "offline", 5, what="offline")
    assert took < 0.2 * 2 + 1.0
    time.sleep(0.5)
    assert nodes_of(lb)[node.addr] == "offline"
    status, _ = http("GET", lb.url + "/r/app/x")
    assert status >= 500  # no healthy node left
    fake_node(node.port)
    _, took = wait_for(lambda: nodes_of(lb)[node.addr] == "online", 5, what="online again")
    assert took < 0.2 * 2 + 1.0
    assert http("GET", lb.url + "/r/app/x")[1]["node"] == node.addr


def test_node_deleted_while_dead_stays_gone(start_fnlb, fake_node):
    node = fake_node()
    lb = start_fnlb("--nodes", node.addr, "--hc-interval", "0.1", "--hc-timeout", "0.3")
    wait_for(lambda: nodes_of(lb) == {node.addr: "online"}, 3)
    node.kill()
    wait_for(lambda: nodes_of(lb)[node.addr] == "offline", 3)
    assert http("DELETE", lb.mgmt_url + "/1/lb/nodes", {"node": node.addr})[0] == 200
    fake_node(node.port)
    time.sleep(1.0)  # ten check intervals
    assert nodes_of(lb) == {}
    assert http("GET", lb.url + "/r/app/x")[0] >= 500


def test_min_api_version_over_processes(start_fnlb, fake_node):
    old, new = fake_node(version="0.0.200"), fake_node(version="0.3.700")
    lb = start_fnlb("--nodes", f"{old.addr},{new.addr}", "--hc-interval", "0.2", "--min-api-version", "0.1.0")
    wait_for(lambda: nodes_of(lb) == {old.addr: "offline", new.addr: "online"}, 3)
    details = http("GET", lb.mgmt_url + "/1/lb/nodes")[1]["details"]
    assert details[old.addr]["version"] == "0.0.200" and "older" in details[old.addr]["last_error"]
    for i in range(10):
        assert http("GET", lb.url + f"/r/app/{i}")[1]["node"] == new.addr


def test_sqlite_store_survives_a_restart(start_fnlb, fake_node, tmp_path):
    node = fake_node()
    db = f"sqlite3://{tmp_path}/state/nodes.db"
    lb = start_fnlb("--db", db, "--hc-interval", "0.2", "--nodes", "127.0.0.1:7")
    assert http("PUT", lb.mgmt_url + "/1/lb/nodes", {"node": node.addr})[0] == 200
    assert http("DELETE", lb.mgmt_url + "/1/lb/nodes", {"node": "127.0.0.1:7"})[0] == 200
    lb.stop()
    lb2 = start_fnlb("--db", db, "--hc-interval", "0.2")
    wait_for(lambda: nodes_of(lb2) == {node.addr: "online"}, 3, what="restored list")


def run_cli(*args, timeout=10):
    return subprocess.run(fnlb_argv(*args), capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("db", ["mysql://u@h/db", "redis://x", "nodes.db", "postgres://h:notaport/db", "sqlite3://"])
def test_bad_db_url_exits_2_with_one_line_before_listening(db):
    port = free_port()
    result = run_cli("--listen", f"127.0.0.1:{port}", "--mgmt-listen", f"127.0.0.1:{port}", "--db", db)
    assert result.returncode == 2
    err = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(err) == 1 and "--db" in err[0] and "Traceback" not in result.stderr
    assert "listening" not in result.stderr
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


@pytest.mark.parametrize("args, words", [
    (["--nodes", "127.0.0.1:1,http://x:80"], "--nodes"),
    (["--min-api-version", "latest"], "--min-api-version"),
    (["--hc-interval", "0"], "--hc-interval"),
    (["--hc-path", "version"], "--hc-path"),
    (["--hc-path", "/v HTTP/1.1\r\nX: y"], "--hc-path"),
])
def test_bad_node_flags_exit_2(args, words):
    result = run_cli(*args)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr


def test_postgres_down_at_start_is_not_a_usage_error(start_fnlb, fake_node):
    node = fake_node()
    lb = start_fnlb("--db", f"postgres://postgres@127.0.0.1:{free_port()}/nothing", "--nodes", node.addr,
                    "--hc-interval", "0.2")
    wait_for(lambda: nodes_of(lb) == {node.addr: "online"}, 3)
    assert http("GET", lb.url + "/r/app/x")[1]["node"] == node.addr
    status, body = http("PUT", lb.mgmt_url + "/1/lb/nodes", {"node": "127.0.0.1:9"})
    assert status == 503 and "unavailable" in body["msg"]
    assert lb.alive()
    assert "node list store unavailable" in lb.output()


@pytest.mark.parametrize("mgmt, token, warned", [("0.0.0.0", "", True), ("127.0.0.1", "", False),
                                                  ("0.0.0.0", "tok", False)])
def test_warning_when_management_listener_is_open(mgmt, token, warned):
    """Reads the start-up log; 0.0.0.0 is bound for a moment only and reached via 127.0.0.1."""
    from tests.support.procs import Proc, wait_port

    port = free_port()
    proc = Proc(fnlb_argv("--listen", f"127.0.0.1:{free_port()}", "--mgmt-listen", f"{mgmt}:{port}",
                          "--admin-token", token))
    try:
        wait_port(port, proc=proc.popen)
    finally:
        proc.stop(signal.SIGTERM)
    out = proc.output()
    assert ("set --admin-token" in out) == warned, out
