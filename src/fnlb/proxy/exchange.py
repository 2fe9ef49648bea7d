"""One request's journey through the proxy: pick a node, get a connection, stream the
request body, hand the response over, report the outcome to the dispatcher once.

Theory of operation
-------------------
The client side parses a request head and creates an Exchange. ``start`` asks the
dispatcher for a node and binds a pooled connection, or opens one (the body that arrives
meanwhile is held, up to REPLAY_LIMIT, then the client is paused). Every body byte sent is
also kept while the total stays within REPLAY_LIMIT, so that a try that fails before any
response byte can be replayed:

* on a reused pooled connection: once, on a fresh connection to the same node (a node
  closing an idle connection is not a node failure);
* otherwise: ``upstream_failed`` and the next node from ``begin_retry``, until it says
  None (the key's order is exhausted or the ``--retries`` budget spent: the dispatcher
  applies ``fnlb.routing.failover``, the exchange only keeps the list of nodes tried).

For every node the dispatcher's ``begin``/``begin_retry`` returned, exactly one
``request_done`` or ``upstream_failed`` follows (``_report``; the four calls are specified
in dispatcher.py). The exchange ends in ``_finish``, which hands the client connection
back to the client protocol (next pipelined request, keep-alive idle, or close).

The node connection is bound with ``UpstreamProtocol.bind`` (which couples the two sides'
flow control) and given back with ``unbind`` and ``Pool.release``; each of these takes
the usual case first, and compiled (exchange.pxd and its neighbours) they are C calls.
"""

from __future__ import annotations

import logging
import time
from time import monotonic as _monotonic

from fnlb.proxy.flow import BUFFERED
from fnlb.proxy.wire import CHUNK_END, CONTINUE_100, chunk, error_response

REPLAY_LIMIT = 64 * 1024
_NO_BODY = ()       # the replay buffer of a request without a body (never appended to)

log = logging.getLogger("fnlb.proxy")
access_log = logging.getLogger("fnlb.access")


class Exchange:
    __slots__ = ("client", "server", "method", "target", "key", "head", "chunked", "keep_alive", "http10",
                 "is_head", "expect", "buf", "buffered", "body_done", "up", "node", "open", "tried",
                 "reused", "t0", "status", "wait", "sent", "over", "local", "parts")

    def __init__(self, client, method: bytes, target: bytes, key: str, head: bytes, chunked: bool,
                 keep_alive: bool, http10: bool, expect: bool, body: bool):
        self.client = client
        self.server = client.server
        self.method = method
        self.target = target
        self.key = key
        self.head = head
        self.chunked = chunked
        self.keep_alive = keep_alive
        self.http10 = http10
        self.is_head = method == b"HEAD"
        self.expect = expect
        self.buf = [] if body else _NO_BODY     # body bytes as sent upstream, kept for a replay
        self.buffered = 0
        self.body_done = not body
        self.up = None
        self.node = None
        self.open = False           # started on a node, its report not made yet
        self.tried = None
        self.reused = False
        self.t0 = 0.0
        self.status = 0
        self.wait = None
        self.sent = 0
        self.over = False
        self.local = None           # set for answers fnlb gives itself (see local.py)
        self.parts = ()             # None: HTTP/1.0 request without Host (the node's is added)

    # -- start ---------------------------------------------------------------------------

    def start(self) -> None:
        self.t0 = now = _monotonic()
        if self.local is not None:
            self.local.start(self)
            return
        node = self.server.dispatcher.begin(self.key, now)
        if node is None:
            self.answer(503, "no node available")
            return
        if self.expect and not self.body_done:
            self.client.transport.write(CONTINUE_100)
        self._use(node)

    def _use(self, node: str) -> None:
        """Send the request to ``node`` (started by the dispatcher): on an idle pooled
        connection if there is one, else on a new one."""
        self.node = node
        self.open = True
        pool = self.client.pool
        up = pool.acquire(node)
        if up is not None:
            self._attach(up, True)
        else:
            pool.connect(node, self)

    def connected(self, up) -> None:
        if self.over or self.node != up.node:
            self.client.pool.release(up)    # the client left meanwhile: keep it for others
            return
        self._attach(up, False)

    def connect_failed(self, node: str, exc) -> None:
        if not self.over:
            log.debug("connect to %s failed: %r", node, exc)
            self._failed_before_response(False)

    def _attach(self, up, reused: bool) -> None:
        """Bind ``up`` to this exchange and send the request head (and any body held)."""
        self.up = up
        self.reused = reused
        client = self.client
        flow = client.flow
        up.bind(self, flow)
        head = self.head
        if self.parts is None:
            head = b"%bHost: %b\r\n\r\n" % (head[:-2], up.node.encode())
        buf = self.buf
        if buf:
            client.send_up(up, b"".join((head, *buf)))
            if self.buffered > REPLAY_LIMIT:
                self.buf = None
        elif self.body_done and not client.corked:
            # A request without a body is complete once its head is parsed, so it need
            # not wait for the rest of the read (corking): nothing is pending before it.
            up.transport.write(head)
        else:
            client.send_up(up, head)
        if flow.paused_by:
            flow.resume_reading(BUFFERED)

    # -- request body (from the client parser) -------------------------------------------

    def body(self, data: bytes) -> None:
        if self.over:
            return
        if self.local is not None:
            self.local.body(self, data)
            return
        if self.chunked:
            data = chunk(data)
        up = self.up
        if up is not None:
            self.client.send_up(up, data)
        buf = self.buf
        if buf is not None:
            self.buffered += len(data)
            if up is None:
                buf.append(data)
                if self.buffered > REPLAY_LIMIT:
                    self.client.flow.pause_reading(BUFFERED)
            elif self.buffered > REPLAY_LIMIT:
                self.buf = None
            else:
                buf.append(data)

    def body_end(self) -> None:
        self.body_done = True
        if self.over:
            return
        if self.local is not None:
            self.local.body_end(self)
            return
        if self.chunked:
            if self.up is not None:
                self.client.send_up(self.up, CHUNK_END)
            if self.buf is not None:
                self.buf.append(CHUNK_END)

    def bad_body(self, status: int, msg: str) -> None:
        """The client's body framing broke after the head went upstream: the node must
        never see a complete request, so its connection is aborted."""
        if self.over:
            return
        up = self.up
        if up is not None:
            self._drop(up)
        self._report(status)
        self.keep_alive = False
        if up is None or not up.answered():
            self.answer(status, msg)
        else:
            self._finish()

    # -- outcomes (from the node side) ---------------------------------------------------

    def response_done(self, up) -> None:
        self.up = None
        up.unbind()
        pool = self.client.pool
        if up.keep and self.body_done:
            pool.release(up)
        else:
            pool.forget(up)
            up.close()
        # A node may answer before the request body ended (an early 413, say): its
        # connection is closed above, and the client's remaining body is read and dropped
        # (see body()) so that its connection stays usable, as nginx does.
        self._report(self.status)
        self._finish()

    def upstream_lost(self, up) -> None:
        """The node connection closed while this exchange owned it."""
        if self.over:
            return
        self.up = None
        if up.answered():
            self._report(0)             # part of the response went out: cut the client too
            self.keep_alive = False
            self._finish()
        elif up.rx:
            self._report(502)
            self.answer(502, f"node {self.node} sent an incomplete response")
        else:
            self._failed_before_response(self.reused)

    def upstream_broken(self, up, msg: str) -> None:
        self._drop(up)
        if up.answered():
            self._report(0)
            self.keep_alive = False
            self._finish()
        else:
            self._report(502)
            self.answer(502, msg)

    def upstream_timed_out(self, up) -> None:
        self._drop(up)
        self._report(504)
        if up.answered():
            self.keep_alive = False
            self._finish()
        else:
            self.answer(504, f"node {self.node} did not answer in time")

    def _drop(self, up) -> None:
        """Cut the node connection mid-exchange (it is never reused)."""
        self.up = None
        up.ex = None
        up.flow.decouple()
        up.abort()

    def _failed_before_response(self, reused: bool) -> None:
        node = self.node
        if self.buf is None:
            # too much body went out to replay it
            self._report(502, failed=not reused)
            self.answer(502, f"node {node} failed")
            return
        if reused:
            self.reused = False
            self.client.pool.connect(node, self)    # a stale pooled connection: same node, fresh
            return
        self._report(502, failed=True)
        tried = self.tried
        if tried is None:
            tried = self.tried = []
        tried.append(node)
        nxt = self.server.dispatcher.begin_retry(self.key, tried, _monotonic())
        if nxt is None:
            self.answer(502, "no node could take the request" if len(tried) > 1 else f"node {node} failed")
        else:
            self._use(nxt)

    def client_gone(self) -> None:
        if self.over:
            return
        up = self.up
        if up is not None:
            self._drop(up)          # never reuse a connection with a half-done exchange
        self._report(499)
        self.over = True
        if self.server.access_log:
            self.status = 499
            self._log()

    # -- endings ---------------------------------------------------------------------------

    def _report(self, status: int, failed: bool = False) -> None:
        """The one outcome the dispatcher gets for the node it handed out (if not made yet)."""
        if self.open:
            self.open = False
            now = _monotonic()
            if failed:
                self.server.dispatcher.upstream_failed(self.node, self.key, now)
            else:
                self.server.dispatcher.request_done(self.node, self.key, status, now - self.t0, self.wait, now)

    def answer(self, status: int, msg: str) -> None:
        """fnlb answers the client itself (JSON error) and ends the exchange."""
        self.status = status
        if not self.body_done:
            self.keep_alive = False
        self.client.transport.write(error_response(status, msg, keep_alive=self.keep_alive and
                                                   self.client.accepting(), head=self.is_head))
        self._finish()

    def finish_local(self) -> None:
        self._finish()

    def _finish(self) -> None:
        """The end of the exchange: the client connection goes on (client.exchange_done)."""
        if self.over:
            return
        self.over = True
        flow = self.client.flow
        if flow.paused_by:
            flow.resume_reading(BUFFERED)
        if self.server.access_log:
            self._log()
        self.client.exchange_done(self)

    def _log(self) -> None:
        access_log.info("%s %s %s %d %s %d %.6f", self.client.peer, self.method.decode("latin-1"),
                        self.target.decode("latin-1"), self.status, self.node or "-", self.sent,
                        time.monotonic() - self.t0)
