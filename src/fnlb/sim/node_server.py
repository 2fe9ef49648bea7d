"""``fnlb sim-node``: an HTTP server that answers like an Fn node, in real time.

Each call to ``/r/<app>/<route>`` goes through a :class:`fnlb.sim.model.NodeModel`; the
server then really waits (``call_later``) for the cold start and the execution time, and
reports in ``XXX-FXLB-WAIT`` the wait it measured with the monotonic clock between the
request's arrival and the start of its function. Nothing here computes a wait. (The event
loop's timers have a resolution of about a millisecond, so a measured cold start may be a
hair shorter or longer than ``--cold-start``.)

Endpoints (any method):
  /version           200 {"version": "0.3.700"}
  /stats             200 the model's counters (see NodeModel.stats) plus "node" and "failures"
  /r/<app>/<route>   a function call; ``?ms=N`` sets its execution time in milliseconds
  anything else      404 {"error": ..., "node": ...}

One small httptools Protocol per connection: keep-alive, and pipelined requests are
answered in order (a response waits for the ones before it on its connection).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections import deque

import httptools

from fnlb.config.goduration import format_seconds
from fnlb.sim.options import SimNodeConfig

WAIT_HEADER = b"XXX-FXLB-WAIT"
MAX_EXEC_S = 3600.0  # a ?ms= beyond an hour is surely a typo
# A client pipelining without reading its answers stops being read past this many
# unanswered requests, and is read again once they are down to the low mark.
PENDING_HIGH, PENDING_LOW = 1024, 128
_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 500: b"Internal Server Error"}


def response_bytes(status: int, body: dict, keep_alive: bool, wait: float | None = None) -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    head = [b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            % (status, _REASONS.get(status, b"Unknown"), len(payload))]
    if wait is not None:
        head.append(WAIT_HEADER + b": " + format_seconds(wait).encode() + b"\r\n")
    if not keep_alive:
        head.append(b"Connection: close\r\n")
    head.append(b"\r\n")
    head.append(payload)
    return b"".join(head)


def exec_from_query(query: bytes, default: float) -> float:
    """The ``ms`` query parameter in seconds (default when absent); ValueError when bad."""
    for part in query.split(b"&"):
        name, _, value = part.partition(b"=")
        if name == b"ms":
            ms = float(value)  # ValueError on garbage
            if not (0 <= ms / 1000 <= MAX_EXEC_S) or math.isnan(ms):
                raise ValueError(f"ms={ms} is out of range")
            return ms / 1000
    return default


class _Exchange:
    """One request of a connection; ``data`` is its response once ready."""

    __slots__ = ("conn", "keep_alive", "data", "call", "fail", "t0", "wait")

    def __init__(self, conn: "NodeProtocol", keep_alive: bool):
        self.conn = conn
        self.keep_alive = keep_alive
        self.data: bytes | None = None
        self.call = None
        self.fail = False
        self.t0 = 0.0  # arrival (monotonic clock)
        self.wait = 0.0  # measured: arrival until the function started


class SimNode:
    """A simulated node: the model, its knobs, its listening socket and open connections."""

    def __init__(self, config: SimNodeConfig = SimNodeConfig(), *, rng: random.Random | None = None,
                 name: str = ""):
        from fnlb.sim.model import NodeModel

        self.model = NodeModel(config.slots, config.idle_timeout, config.cold_start, config.on_busy)
        self.exec_s = config.exec
        self.fail_rate = config.fail_rate
        self.slow = config.slow
        self.version_body = {"version": config.version_string}
        self.rng = rng or random.Random()
        self.name = name
        self.address = ""
        self.port = 0
        self.failures = 0
        self.conns: set[NodeProtocol] = set()
        self._server: asyncio.AbstractServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen; returns the address it reports as ``node`` (``--name`` or host:port)."""
        self._loop = asyncio.get_running_loop()
        self._server = await self._loop.create_server(lambda: NodeProtocol(self), host or None, port)
        sock_host, sock_port = self._server.sockets[0].getsockname()[:2]
        if not host or host in ("0.0.0.0", "::"):
            sock_host = "127.0.0.1"  # an address that reaches us, unlike the wildcard
        shown = f"[{sock_host}]" if ":" in sock_host else sock_host
        self.address = self.name or f"{shown}:{sock_port}"
        self.port = sock_port
        return self.address

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for conn in list(self.conns):
                conn.transport.close()
            await self._server.wait_closed()
            self._server = None

    # -- requests -----------------------------------------------------------------------

    def handle(self, ex: _Exchange, url: bytes) -> None:
        path, _, query = url.partition(b"?")
        if path.startswith(b"/r/") and path.count(b"/") >= 3 and not path.endswith(b"/"):
            self._call(ex, path.decode("utf-8", "replace"), query)
        elif path == b"/version":
            self._later(ex, 200, self.version_body)
        elif path == b"/stats":
            stats = self.model.stats(time.monotonic())
            stats.update(node=self.address, failures=self.failures)
            ex.conn.reply(ex, response_bytes(200, stats, ex.keep_alive))
        else:
            body = {"error": f"not found: {path.decode('utf-8', 'replace')}", "node": self.address}
            ex.conn.reply(ex, response_bytes(404, body, ex.keep_alive))

    def _call(self, ex: _Exchange, route: str, query: bytes) -> None:
        try:
            exec_s = exec_from_query(query, self.exec_s)
        except ValueError:
            body = {"error": "ms must be a number of milliseconds", "node": self.address}
            ex.conn.reply(ex, response_bytes(400, body, ex.keep_alive))
            return
        ex.fail = self.fail_rate > 0 and self.rng.random() < self.fail_rate
        ex.t0 = time.monotonic()
        ex.call = call = self.model.arrive(route, exec_s, ex.t0, tag=ex)
        if call.started:
            self._begin(call)

    def _begin(self, call) -> None:
        """The call got a container: pay the cold start (for real), then run."""
        if call.cold_s > 0:
            self._loop.call_later(call.cold_s, self._run, call)
        else:
            self._run(call)

    def _run(self, call) -> None:
        ex = call.tag
        ex.wait = time.monotonic() - ex.t0
        self._loop.call_later(call.exec_s, self._end, call)

    def _end(self, call) -> None:
        for started in self.model.finish(call, time.monotonic()):
            self._begin(started)
        ex = call.tag
        if ex.conn.closed:
            return
        body = {"node": self.address, "function": call.route, "cold": call.cold,
                "wait": round(ex.wait, 6), "exec": call.exec_s}
        status = 200
        if ex.fail:
            self.failures += 1
            status = 500
            body["error"] = "simulated failure (--fail-rate)"
        self._later(ex, status, body, ex.wait)

    def _later(self, ex: _Exchange, status: int, body: dict, wait: float | None = None) -> None:
        data = response_bytes(status, body, ex.keep_alive, wait)
        if self.slow > 0:
            self._loop.call_later(self.slow, ex.conn.reply, ex, data)
        else:
            ex.conn.reply(ex, data)


class NodeProtocol(asyncio.Protocol):
    """One client connection: parse requests, hand them to the node, answer in order."""

    def __init__(self, node: SimNode):
        self.node = node
        self.parser = httptools.HttpRequestParser(self)
        self.transport = None
        self.url = b""
        self.pending: deque[_Exchange] = deque()
        self.closed = False
        self.broken = False  # a parse error: read nothing more
        self.paused = False
        self.expect_continue = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.node.conns.add(self)

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.node.conns.discard(self)
        for ex in self.pending:  # queued calls of a gone client never run
            if ex.call is not None:
                self.node.model.cancel(ex.call)
        self.pending.clear()

    def data_received(self, data: bytes) -> None:
        if self.broken:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            ex = _Exchange(self, False)
            self.pending.append(ex)
            self.reply(ex, response_bytes(400, {"error": "bad request", "node": self.node.address}, False))
            self.broken = True  # close once the 400 (after earlier answers) is out

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.expect_continue = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"expect" and value.lower() == b"100-continue":
            self.expect_continue = True

    def on_headers_complete(self) -> None:
        # A client waiting for "100 Continue" before its body would otherwise stall (only
        # when nothing is pending, so the interim answer cannot cut into another one).
        if self.expect_continue and not self.pending:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_message_complete(self) -> None:
        ex = _Exchange(self, self.parser.should_keep_alive())
        self.pending.append(ex)
        if len(self.pending) >= PENDING_HIGH and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        self.node.handle(ex, self.url)

    def reply(self, ex: _Exchange, data: bytes) -> None:
        """Set ``ex``'s response and write every ready response at the head, in order."""
        ex.data = data
        pending = self.pending
        while pending and pending[0].data is not None:
            head = pending.popleft()
            if self.transport.is_closing():
                return
            self.transport.write(head.data)
            if not head.keep_alive:
                self.transport.close()
                return
        if self.paused and len(pending) <= PENDING_LOW:
            self.paused = False
            self.transport.resume_reading()
