"""The node side of one proxied exchange: writes the request, parses the response with
httptools and re-frames it for the client.

One UpstreamProtocol is one keep-alive TCP connection to a node. While an exchange owns it
(``ex`` set) every response byte is parsed and the client-bound bytes produced by one
``data_received`` are written with a single transport write. Framing to the client:
Content-Length passes through; chunked bodies are re-chunked from the decoded data (chunk
extensions and trailers are dropped); a body delimited by the node closing the connection
is sent chunked to HTTP/1.1 clients, and to HTTP/1.0 clients as is, closing afterwards.
"""

from __future__ import annotations

import asyncio

from httptools import HttpParserError, HttpResponseParser

from fnlb.proxy.flow import FlowControl
from fnlb.proxy.wire import (
    CHUNK_END,
    CONNECTION_OPTIONS,
    CRLF,
    HOP_BY_HOP,
    WAIT_HEADER,
    chunk,
    connection_names,
    drop_named,
    header_kind,
    status_line,
)

# How the response body is written to the client.
NO_BODY, RAW, CHUNKED = 0, 1, 2

# Timer phases (see Pool.sweep).
WAITING, STREAMING = 1, 2

# Response headers fnlb looks at, by kind (0: passed on as is).
CONTENT_LENGTH, CONNECTION, TRANSFER_ENCODING, WAIT, HOP = 1, 2, 3, 4, 5
_KINDS = {**dict.fromkeys(HOP_BY_HOP, HOP), b"content-length": CONTENT_LENGTH, b"connection": CONNECTION,
          b"transfer-encoding": TRANSFER_ENCODING, WAIT_HEADER: WAIT}

# Response header name as sent -> its kind (see wire.header_kind).
_kind: dict[bytes, int] = {}

# Connection values that name no header, in the usual spellings (the rest are lowered first).
_CONNECTION_PLAIN = frozenset({b"keep-alive", b"close", b"Keep-Alive", b"Close"})

# Status -> status line, for the statuses whose responses have a body (not 1xx, 204, 304).
_FRAMED: dict[int, bytes] = {}


class UpstreamProtocol(asyncio.Protocol):
    __slots__ = ("pool", "node", "transport", "flow", "parser", "expose_wait", "ex", "closed", "idle_since", "deadline",
                 "phase", "rx_mark", "rx", "started", "done", "keep", "mode", "until_close", "out", "parts", "cl", "te",
                 "conn", "interim")

    def __init__(self, pool, node: str):
        self.pool = pool
        self.node = node
        self.transport = None
        self.flow: FlowControl | None = None
        self.parser = HttpResponseParser(self)
        self.expose_wait = pool.expose_wait     # --expose-wait-header
        self.ex = None              # the exchange this connection serves, None when idle
        self.closed = False
        self.idle_since = 0.0
        self.deadline = 0.0         # 0 = no timer
        self.phase = 0
        self.rx_mark = 0
        self._reset()

    def _reset(self) -> None:
        self.rx = 0                 # response bytes received for the current exchange
        self.started = False        # final response head went to the client
        self.done = False
        self.keep = False
        self.mode = NO_BODY
        self.until_close = False
        self.out = None
        self._msg_reset()

    def _msg_reset(self) -> None:
        self.parts = []
        self.cl = None
        self.te = None
        self.conn = None
        self.interim = False

    # -- binding to an exchange ----------------------------------------------------------

    # Binding to an exchange is done by Exchange._attach (inline on the hot path).

    def unbind(self) -> None:
        self.ex = None
        self.deadline = 0.0
        flow = self.flow
        flow.decouple()
        if flow.paused_by:      # held back for another reason: an idle connection reads again
            flow.paused_by = 0
            if not self.transport.is_closing():
                self.transport.resume_reading()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def deadline_passed(self, now: float) -> None:
        ex = self.ex
        if ex is None:
            self.deadline = 0.0
        elif self.phase == STREAMING and (self.rx != self.rx_mark or self.flow.paused_by):
            # still moving (or held back by a slow client): look again later
            self.rx_mark = self.rx
            self.deadline = now + ex.server.upstream_timeout
        else:
            ex.upstream_timed_out(self)

    # -- asyncio callbacks ---------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.flow = FlowControl(transport)

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.pool.forget(self)
        ex = self.ex
        if ex is not None:
            self.ex = None
            self.flow.decouple()
            ex.upstream_lost(self)

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    def eof_received(self):
        ex = self.ex
        if ex is not None and self.until_close and self.started and not self.done:
            # the node ended a read-until-close body: that is its normal end
            self.done = True
            if self.mode == CHUNKED:
                ex.client.transport.write(CHUNK_END)
            ex.response_done(self)
        return False

    def data_received(self, data: bytes) -> None:
        ex = self.ex
        if ex is None:
            self.abort()        # bytes nobody asked for: never reuse this connection
            return
        self.rx += len(data)
        out = self.out = []
        try:
            self.parser.feed_data(data)
        except HttpParserError as exc:
            if out and self.started:
                ex.client.transport.write(b"".join(out))
            self.out = None
            ex.upstream_broken(self, f"invalid response from node: {exc}")
            return
        if out:
            ex.client.transport.writelines(out)
        self.out = None
        if self.done and self.ex is ex:
            ex.response_done(self)

    # -- httptools callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.done:
            self.keep = False   # a second response to one request: the stream is broken
        self.parts = []
        self.cl = self.te = self.conn = None
        self.interim = False

    def on_header(self, name: bytes, value: bytes) -> None:
        # one dictionary lookup by the name as sent (nodes send the same spellings every
        # time) tells whether it is a header to look at; only new spellings are lowered
        kind = _kind.get(name)
        if kind is None:
            kind = header_kind(_kind, _KINDS, name)
        if kind:
            if kind == CONTENT_LENGTH:
                self.cl = value
            elif kind == CONNECTION:
                self.conn = value
            elif kind == WAIT:
                self.ex.wait = value.rstrip(b" \t")   # llhttp strips only leading whitespace
                if self.expose_wait:
                    self.parts += (name, b": ", value, CRLF)
            elif kind == TRANSFER_ENCODING:
                self.te = value
            return      # other hop-by-hop headers
        self.parts += (name, b": ", value, CRLF)

    def on_headers_complete(self) -> None:
        ex = self.ex
        status = self.parser.get_status_code()
        parts = self.parts
        cl = self.cl
        te = self.te
        conn = self.conn
        if conn is not None and conn not in _CONNECTION_PLAIN and conn.lower() not in CONNECTION_OPTIONS:
            names = connection_names(conn)
            if names:
                parts = drop_named(parts, names)
        line = _FRAMED.get(status)
        if line is not None and cl is not None and ex.keep_alive and not ex.http10 and not ex.is_head:
            # the common case, in one join: a Content-Length response to an HTTP/1.1
            # keep-alive request (the general path below gives the same bytes)
            ex.status = status
            self.started = True
            self.phase = STREAMING
            self.rx_mark = self.rx
            self.mode = RAW
            self.out.append(b"".join((line, *parts, b"Content-Length: ", cl, b"\r\n\r\n")))
            return
        line = status_line(status)      # our own reason phrase: never pass odd bytes on
        if status >= 200 and status != 204 and status != 304:
            _FRAMED[status] = line
        head = [line, *parts]
        if status < 200:
            if status == 101:
                raise HttpParserError("node switched protocols, which was never asked for")
            self.interim = True
            if status != 100 and not ex.http10:     # fnlb answered 100-continue itself
                head.append(CRLF)
                self.out.append(b"".join(head))
            return
        ex.status = status
        self.started = True
        self.phase = STREAMING
        self.rx_mark = self.rx
        if ex.is_head or status == 204 or status == 304:
            if cl is not None and status != 204:
                head += (b"Content-Length: ", cl, CRLF)
            self.mode = NO_BODY
            if ex.is_head:
                # httptools cannot be told that a HEAD response has no body: end the
                # exchange here and give the connection a fresh parser
                self.done = True
                self.keep = self.parser.should_keep_alive()
                self.parser = HttpResponseParser(self)
        elif cl is not None:
            head += (b"Content-Length: ", cl, CRLF)
            self.mode = RAW
        else:
            self.until_close = te is None or not te.rstrip().lower().endswith(b"chunked")
            if ex.http10:
                self.mode = RAW
                ex.keep_alive = False
            else:
                head.append(b"Transfer-Encoding: chunked\r\n")
                self.mode = CHUNKED
        if not ex.keep_alive:
            head.append(b"Connection: close\r\n")
        elif ex.http10:
            head.append(b"Connection: keep-alive\r\n")
        head.append(CRLF)
        self.out.append(b"".join(head))

    def on_body(self, data: bytes) -> None:
        if self.done:
            return
        self.ex.sent += len(data)
        if self.mode == RAW:
            self.out.append(data)
        elif self.mode == CHUNKED:
            self.out.append(chunk(data))

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        if self.done:
            return
        if self.mode == CHUNKED:
            self.out.append(CHUNK_END)
        self.done = True
        self.keep = not self.until_close and self.parser.should_keep_alive()
