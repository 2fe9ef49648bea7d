"""TLS termination, listener addresses, graceful shutdown."""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import time

import pytest

from tests.proxy.conftest import start_proxy, wait_online
from tests.proxy.rawhttp import Conn, build
from tests.support.backend import Reply
from tests.support.procs import Proc, fnlb_argv, free_port, wait_port


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")], check=True, capture_output=True)
    return str(d / "cert.pem"), str(d / "key.pem")


def tls_conn(port: int) -> Conn:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return Conn(port, sock=ctx.wrap_socket(raw, server_hostname="localhost"))


def test_tls_termination(start_fnlb, node, cert):
    proxy = start_proxy(start_fnlb, [node], "--tls-cert", cert[0], "--tls-key", cert[1])
    node.reply = lambda req: Reply(body=req.body or b"plain")
    with tls_conn(proxy.port) as c:
        assert c.request("GET", "/r/secure").body == b"plain"
        assert c.request("POST", "/r/secure", body=b"x" * 200000).body == b"x" * 200000
    assert node.requests[0].header("x-forwarded-proto") == "https"
    with Conn(proxy.mgmt_port) as m:            # the separate management listener stays plain
        assert m.request("GET", "/1/lb/nodes").status == 200


def test_tls_flag_errors(tmp_path, cert):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    other_key = tmp_path / "other.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(other_key), "2048"], check=True, capture_output=True)
    cases = [
        (["--tls-cert", cert[0]], "--tls-key"),
        (["--tls-key", cert[1]], "--tls-cert"),
        (["--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", cert[1]], "--tls-cert"),
        (["--tls-cert", cert[0], "--tls-key", str(tmp_path / "missing.pem")], "--tls-key"),
        (["--tls-cert", str(garbage), "--tls-key", cert[1]], "--tls-cert"),
        (["--tls-cert", cert[0], "--tls-key", str(garbage)], "--tls-key"),
        (["--tls-cert", cert[0], "--tls-key", str(other_key)], "--tls-key"),     # does not match
    ]
    for args, flag in cases:
        out = subprocess.run(fnlb_argv("--listen", "127.0.0.1:0", "--mgmt-listen", "127.0.0.1:0", *args),
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 2, (args, out.stderr)
        # checked before serving; a log line of the start-up may come first (at most 3 lines)
        lines = [line for line in out.stderr.strip().splitlines() if " INFO " not in line]
        assert "Traceback" not in out.stderr and flag in lines[0], (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) <= 3


def test_listen_address_in_use_is_a_usage_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = subprocess.run(fnlb_argv("--listen", f"127.0.0.1:{port}", "--mgmt-listen", "127.0.0.1:0"),
                             capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "--listen" in out.stderr and "Traceback" not in out.stderr


def test_listening_is_logged_per_listener(start_fnlb):
    proxy = start_fnlb()
    time.sleep(0.2)
    out = proxy.output()
    assert f"listening on 127.0.0.1:{proxy.port} (traffic)" in out
    assert f"listening on 127.0.0.1:{proxy.mgmt_port} (management)" in out


def own_process(host: str, node, *args: str) -> tuple[Proc, int]:
    """fnlb in a process of its own (these tests signal it), traffic on host:port and
    management on a separate loopback port, with the node online. Returns (proc, port)."""
    port, mgmt = free_port(), free_port()
    proc = Proc(fnlb_argv("--listen", f"{host}{port}", "--mgmt-listen", f"127.0.0.1:{mgmt}",
                          "--nodes", node.address, "--hc-interval", "1h", *args))
    class Mgmt:
        mgmt_url = f"http://127.0.0.1:{mgmt}"
    try:
        wait_port(port, proc=proc.popen)
        wait_port(mgmt, proc=proc.popen)    # the two listeners open one after the other
        wait_online(Mgmt, [node.address])
    except BaseException:
        proc.kill()
        raise
    return proc, port


def test_graceful_shutdown_finishes_in_flight_requests(node):
    proc, port = own_process("127.0.0.1:", node)
    try:
        node.reply = Reply(body=b"finished", delay=1.0)
        with Conn(port) as busy, Conn(port) as idle:
            busy.send(build("GET", "/r/slow"))
            node.wait_requests(1)
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.2)
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()   # no longer accepting
            resp = busy.response()
            assert resp.body == b"finished" and resp.header("connection") == "close"
            assert idle.closed(timeout=5)
        assert proc.popen.wait(10) == 0
    finally:
        proc.kill()


def test_shutdown_timeout_cuts_stragglers(node):
    proc, port = own_process("127.0.0.1:", node, "--shutdown-timeout", "300ms")
    try:
        node.reply = Reply(delay=5)
        with Conn(port) as busy:
            busy.send(build("GET", "/r/slow"))
            node.wait_requests(1)
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.popen.wait(10) == 0
            assert time.monotonic() - t0 < 4
            assert busy.closed(timeout=2)
    finally:
        proc.kill()


def test_all_interfaces_listener_reports_plain_ipv4_clients(node):
    proc, port = own_process(":", node)
    try:
        with Conn(port) as c:
            assert c.request("GET", "/r/a").status == 200
        assert node.requests[0].header("x-forwarded-for") == "127.0.0.1"
    finally:
        proc.kill()
