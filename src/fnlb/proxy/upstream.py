"""The node side of one proxied exchange: writes the request, parses the response with
httptools and re-frames it for the client.

One UpstreamProtocol is one keep-alive TCP connection to a node. While an exchange owns it
(``ex`` set) every response byte is parsed and the client-bound bytes produced by one
``data_received`` are written with a single transport write. Framing to the client:
Content-Length passes through; chunked bodies are re-chunked from the decoded data (chunk
extensions and trailers are dropped); a body delimited by the node closing the connection
is sent chunked to HTTP/1.1 clients, and to HTTP/1.0 clients as is, closing afterwards.

A connection's ``state`` is one of IDLE (no exchange: pooled, or being connected),
WAITING (bound to an exchange by ``bind``; no final response head yet), STREAMING (the
final head went to the client, the body follows) and DONE (the response is complete;
the exchange takes it back with ``unbind``). ``closed`` is the transport's own life,
apart from it: a connection can close in any state, and the exchange then asks
``answered()`` to know whether the client already has part of the response.
"""

from __future__ import annotations

from httptools import HttpParserError, HttpResponseParser

from fnlb.proxy.flow import FlowControl
from fnlb.proxy.head import COMPILED, ResponseHead, name_table, scan_response
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

# Connection states (see above).
IDLE, WAITING, STREAMING, DONE = 0, 1, 2, 3

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

# The one-pass scan of plain response heads (head.py), on where it is compiled (like
# client.SCAN). A response whose head it takes but whose body is still to come is
# followed by httptools from a stand-in head of the same framing (``_follow``).
SCAN = COMPILED
_SCAN_NAMES = name_table(_KINDS)
_RESPONSE = ResponseHead()


class UpstreamProtocol:
    """An asyncio protocol (duck-typed: a compiled class cannot derive from asyncio.Protocol)."""

    __slots__ = ("pool", "node", "transport", "flow", "parser", "expose_wait", "ex", "closed", "idle_since", "deadline",
                 "state", "rx_mark", "rx", "keep", "mode", "until_close", "out", "parts", "cl", "te", "conn", "interim",
                 "closes", "stand_in")

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
        self.state = IDLE
        self.rx_mark = 0
        self.rx = 0                 # response bytes received for the current exchange
        self.keep = False           # the response left the connection reusable
        self.mode = NO_BODY
        self.until_close = False    # the response body ends when the node closes
        self.out = None
        self.parts = []
        self.cl = self.te = self.conn = None
        self.interim = False
        self.closes = False         # the scanned head said Connection: close
        self.stand_in = False       # httptools is reading the stand-in head (_follow)

    # -- binding to an exchange ----------------------------------------------------------

    def bind(self, ex, client_flow: FlowControl) -> None:
        """Serve ``ex`` (whose client side reads through ``client_flow``): the response
        timer armed, the two sides' flow control coupled."""
        self.ex = ex
        self.rx = 0
        self.state = WAITING
        self.keep = self.until_close = self.closes = False
        self.mode = NO_BODY
        self.deadline = -ex.server.upstream_timeout     # armed: the sweep makes it absolute
        self.flow.couple(client_flow)

    def unbind(self) -> None:
        """The exchange is over (the connection goes back to the pool, or closes)."""
        self.ex = None
        self.state = IDLE
        self.deadline = 0.0
        self.flow.release()

    def answered(self) -> bool:
        """Part of the response (its final head) went to the client."""
        return self.state >= STREAMING

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
        elif self.state >= STREAMING and (self.rx != self.rx_mark or self.flow.paused_by):
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
        if ex is not None and self.until_close and self.state == STREAMING:
            # the node ended a read-until-close body: that is its normal end
            self.state = DONE
            if self.mode == CHUNKED:
                ex.client.transport.write(CHUNK_END)
            ex.response_done(self)
        return False

    def data_received(self, data: bytes) -> None:
        ex = self.ex
        if ex is None:
            self.abort()        # bytes nobody asked for: never reuse this connection
            return
        first = self.rx == 0
        self.rx += len(data)
        out = self.out = []
        if first and SCAN and ex.keep_alive and not ex.http10 and not ex.is_head:
            end = scan_response(data, _RESPONSE, _SCAN_NAMES, CONTENT_LENGTH, CONNECTION, WAIT, TRANSFER_ENCODING,
                                self.expose_wait)
            if end:
                data = self._scanned(ex, data, end)
                if data is None:
                    return
        try:
            self.parser.feed_data(data)
        except HttpParserError as exc:
            if out and self.state >= STREAMING:
                ex.client.transport.write(b"".join(out))
            self.out = None
            ex.upstream_broken(self, f"invalid response from node: {exc}")
            return
        if out:
            ex.client.transport.writelines(out)
        self.out = None
        if self.state == DONE and self.ex is ex:
            ex.response_done(self)

    def _scanned(self, ex, data: bytes, end: int) -> bytes | None:
        """A response head that head.scan_response took (``data[:end]``): its client-bound
        head is the same as on_headers_complete makes. A complete response is written and
        ended here (None); otherwise the bytes for httptools to follow the body with."""
        scan = _RESPONSE
        status = scan.status
        ex.status = status
        if scan.wait is not None:
            ex.wait = scan.wait
        self.state = STREAMING
        self.rx_mark = self.rx
        self.mode = RAW
        line = _FRAMED.get(status)
        if line is None:
            line = _FRAMED[status] = status_line(status)
        head = b"".join((line, *scan.kept, b"Content-Length: ", scan.cl, b"\r\n\r\n"))
        body = len(data) - end
        if body == scan.length:
            ex.sent += body
            self.out = None
            if body:
                ex.client.transport.writelines((head, data[end:]))
            else:
                ex.client.transport.write(head)
            self.state = DONE
            self.keep = not scan.closes
            ex.response_done(self)
            return None
        self.out.append(head)
        self.closes = scan.closes
        self.stand_in = True
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (scan.length, data[end:])

    # -- httptools callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.state == DONE:
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
        if self.stand_in:
            self.stand_in = False
            return      # the real head went to the client already (_scanned)
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
            self.state = STREAMING
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
        self.state = STREAMING
        self.rx_mark = self.rx
        if ex.is_head or status == 204 or status == 304:
            if cl is not None and status != 204:
                head += (b"Content-Length: ", cl, CRLF)
            self.mode = NO_BODY
            if ex.is_head:
                # httptools cannot be told that a HEAD response has no body: end the
                # exchange here and give the connection a fresh parser
                self.state = DONE
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
        if self.state == DONE:
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
        if self.state == DONE:
            return
        if self.mode == CHUNKED:
            self.out.append(CHUNK_END)
        self.state = DONE
        self.keep = not self.until_close and not self.closes and self.parser.should_keep_alive()
