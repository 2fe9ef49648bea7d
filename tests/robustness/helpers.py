"""Shared helpers of the robustness tests: misbehaving nodes, simulated nodes as real
processes, a cuttable TCP relay (for the PostgreSQL outage), and a small load driver that
records every request's outcome.

Everything listens on 127.0.0.1 ephemeral ports and is stopped by the test that started it.
Reuses tests/support (Backend, Fnlb) and tests/proxy (raw client, start_proxy).
"""

from __future__ import annotations

import http.client as httpclient
import json
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass

from tests.proxy.conftest import FAST, start_proxy, wait_online  # noqa: F401  (re-exported)
from tests.proxy.rawhttp import Conn, exchange  # noqa: F401  (re-exported)
from tests.support.http import http  # noqa: F401  (re-exported)
from tests.support.procs import Proc, free_port, wait_port

HEALTH_REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r\n"
                b'{"version": "0.3.700"}\n')

# Errors fnlb itself answers, with a JSON {"msg"} body: the "clean errors" a client may see.
CLEAN_ERRORS = {502, 503, 504}


# -- talking to the balancer ------------------------------------------------------------

def nodes_state(lb) -> dict[str, str]:
    return http("GET", lb.mgmt_url + "/1/lb/nodes")[1]["nodes"]


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    start = time.monotonic()
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what} not reached within {timeout}s (last: {value!r})")
        time.sleep(interval)


def still_serves(lb, path: str = "/r/app/probe") -> bool:
    """The balancer process is up and a normal request through it gets 200."""
    if not lb.alive():
        return False
    with Conn(lb.port, timeout=10) as c:
        return c.request("GET", path).status == 200


# -- simulated nodes as processes --------------------------------------------------------

class SimNode(Proc):
    """`fnlb sim-node` on a port of its own; restartable on the same port."""

    def __init__(self, *args: str, port: int | None = None):
        self.port = port or free_port()
        self.args = args
        super().__init__([sys.executable, "-m", "fnlb", "sim-node", "--listen", f"127.0.0.1:{self.port}",
                          "--slots", "16", "--cold-start", "20ms", "--exec", "5ms", *args])
        wait_port(self.port, proc=self.popen)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def restart(self) -> SimNode:
        return SimNode(*self.args, port=self.port)


# -- a node that misbehaves on purpose --------------------------------------------------

def listen(port: int, backlog: int, accept_loop) -> socket.socket:
    """A listening socket on 127.0.0.1:port (reusable at once after a close), served by
    accept_loop(sock) in a daemon thread."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(backlog)
    threading.Thread(target=accept_loop, args=(sock,), daemon=True).start()
    return sock


def close_listener(sock: socket.socket | None) -> None:
    """Stop listening (the shutdown also wakes the thread blocked in accept)."""
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


class FaultNode:
    """A raw HTTP node whose behaviour a test switches at any time (``mode``):

    ``ok``        answers every request 200 with a body naming itself
    ``blackhole`` accepts and reads, never answers anything (health checks included)
    ``reset_mid`` function calls: head + half the body, then a TCP RST (health checks answered)
    ``slow``      function calls answered after ``delay`` seconds (health checks answered)
    ``down``      the listening socket is closed: connections are refused

    Counts the function requests it received (``calls``) and answered in full (``answered``).
    """

    BODY = b'{"node": "%s", "pad": "' + b"x" * 4000 + b'"}\n'

    def __init__(self, mode: str = "ok", delay: float = 1.0):
        self.mode = mode
        self.delay = delay
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.body = self.BODY % self.address.encode()
        self.calls = 0
        self.answered = 0
        self.lock = threading.Lock()
        self.conns: list[socket.socket] = []
        self.sock: socket.socket | None = None
        self.stopped = False
        self.up()

    # listening on / off: a process dying and coming back, without process start-up cost
    def up(self) -> None:
        self.sock = listen(self.port, 256, self._accept)

    def down(self) -> None:
        """Stop listening and reset every open connection (like a killed process)."""
        sock, self.sock = self.sock, None
        close_listener(sock)
        with self.lock:
            conns, self.conns = self.conns, []
        for conn in conns:
            _reset(conn)

    def stop(self) -> None:
        self.stopped = True
        self.down()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while not self.stopped:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                target = head.split(b" ", 2)[1]
                # function calls here carry no body (the tests send GETs)
                if self.mode == "blackhole":
                    while conn.recv(65536):
                        pass
                    return
                if target == b"/version":
                    conn.sendall(HEALTH_REPLY)
                    continue
                with self.lock:
                    self.calls += 1
                mode = self.mode
                if mode == "slow":
                    time.sleep(self.delay)
                head_out = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" \
                           b"XXX-FXLB-WAIT: 0s\r\n\r\n" % len(self.body)
                if mode == "reset_mid":
                    conn.sendall(head_out + self.body[: len(self.body) // 2])
                    time.sleep(0.01)
                    _reset(conn)
                    return
                conn.sendall(head_out + self.body)
                with self.lock:
                    self.answered += 1
        except OSError:
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass


def _reset(conn: socket.socket) -> None:
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    except OSError:
        pass


# -- a TCP relay that a test can cut and restore ---------------------------------------

class Relay:
    """127.0.0.1:port -> upstream, byte for byte. ``cut()`` resets every relayed connection
    and refuses new ones (a server that went away); ``hang()`` accepts but relays nothing
    (a server that stopped answering); ``restore()`` relays again on the same port."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = free_port()
        self.lock = threading.Lock()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.held: list[socket.socket] = []
        self.sock: socket.socket | None = None
        self.hanging = False
        self.accepted = 0
        self.restore()

    def restore(self) -> None:
        self.hanging = False
        if self.sock is None:
            self.sock = listen(self.port, 64, self._accept)

    def cut(self) -> None:
        sock, self.sock = self.sock, None
        close_listener(sock)
        self._drop_all()

    def hang(self) -> None:
        """New connections are accepted and held silent; the relayed ones are cut."""
        self.hanging = True
        self._drop_all()

    def _drop_all(self) -> None:
        with self.lock:
            pairs, self.pairs = self.pairs, []
            held, self.held = self.held, []
        for a, b in pairs:
            _reset(a)
            _reset(b)
        for s in held:
            _reset(s)

    def close(self) -> None:
        self.cut()

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                client, _ = sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.hanging:
                with self.lock:
                    self.held.append(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=3)
                server.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self.lock:
                self.pairs.append((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# -- load with every outcome recorded -----------------------------------------------------

@dataclass
class Outcome:
    started: float
    finished: float
    path: str
    status: int             # 0 = no complete response (connection error)
    error: str = ""         # exception name when status == 0
    node: str = ""          # from a body {"node": ...} when there is one
    msg: bool = False       # a JSON {"msg"} body (fnlb's own clean errors)


class Load:
    """``threads`` keep-alive clients sending GETs to the balancer in a loop until stop().
    Each client waits ``pause`` between requests; paths cycle over ``paths``."""

    def __init__(self, port: int, paths: list[str], threads: int = 4, pause: float = 0.005,
                 timeout: float = 15.0):
        self.port = port
        self.paths = paths
        self.pause = pause
        self.timeout = timeout
        self.outcomes: list[Outcome] = []
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for t in self._threads:
            t.join(self.timeout + 5)
        assert not any(t.is_alive() for t in self._threads), "a client is stuck past its timeout"
        return self.outcomes

    def since(self, t: float) -> list[Outcome]:
        with self.lock:
            return [o for o in self.outcomes if o.started >= t]

    def _run(self, n: int) -> None:
        conn = httpclient.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        i = n
        while not self._stop.is_set():
            path = self.paths[i % len(self.paths)]
            i += 1
            started = time.monotonic()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                body = resp.read()
                out = Outcome(started, time.monotonic(), path, resp.status)
                try:
                    obj = json.loads(body)
                    out.node = obj.get("node", "") if isinstance(obj, dict) else ""
                    out.msg = isinstance(obj, dict) and isinstance(obj.get("msg"), str)
                except ValueError:
                    pass
                if resp.will_close:
                    conn.close()
            except (OSError, httpclient.HTTPException) as exc:
                out = Outcome(started, time.monotonic(), path, 0, type(exc).__name__)
                conn.close()
            with self.lock:
                self.outcomes.append(out)
            if self.pause:
                time.sleep(self.pause)
        conn.close()


def summary(outcomes: list[Outcome]) -> dict:
    counts: dict = {}
    for o in outcomes:
        key = o.status or o.error
        counts[key] = counts.get(key, 0) + 1
    return counts


def assert_clean(outcomes: list[Outcome], bound: float) -> None:
    """Every outcome is a 200 or one of fnlb's JSON errors (or a connection cut by a node
    dying mid-response), and none took longer than ``bound`` seconds."""
    for o in outcomes:
        assert o.status == 200 or (o.status in CLEAN_ERRORS and o.msg) or o.status == 0, o
        assert o.finished - o.started < bound, o
