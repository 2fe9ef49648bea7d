"""The client side: one ClientProtocol per accepted connection.

Theory of operation
-------------------
Bytes in, requests out. ``data_received`` first offers the read to ``head.scan_request``,
which recognises the plainest bodyless request heads in one pass (compiled) and leaves
everything else untouched; the rest of the read goes to httptools (llhttp, strict mode),
whose callbacks (``on_message_begin`` ... ``on_message_complete``) collect one request
head. ``on_headers_complete`` adds the checks llhttp leaves to us: a request that could be
read two ways by two servers (request smuggling) or that is malformed is answered
400/414/431 and the connection is closed before anything reaches a node. A valid
request, from either path, becomes an Exchange (exchange.py) in ``_serve``, which owns
it from there: node choice, body, response.

Requests are served one at a time per connection, in order: a pipelined request whose
head arrives while another is being served waits in ``queue`` and reading pauses (the
queue is bounded by one read). ``exchange_done`` starts the next one.

Node-bound bytes produced while one read is parsed are *corked* (``send_up``) and written
once after it parsed cleanly, so a request whose framing breaks in the same read never
reaches the node.

The connection's life is one ``state``, which only moves forward:

    OPEN      reading and serving requests
    DRAINING  serving what was read, then closing (shutdown: ``drain``); no keep-alive
              is promised any more
    REJECTED  as DRAINING, and nothing more is read (a request was refused)
    CLOSED    the transport is closed (by us or the peer)

Apart from it, ``phase`` says which timer runs (HEAD, BODY, BUSY: the node side's, IDLE);
timers are deadlines checked by the server's sweep rather than one timer object per
request.
"""

from __future__ import annotations

import logging
from collections import deque

from httptools import HttpParserError, HttpParserUpgrade, HttpRequestParser

from fnlb.proxy.exchange import Exchange
from fnlb.proxy.flow import QUEUED, FlowControl
from fnlb.proxy.head import COMPILED, HOST, SPECIAL, RequestHead, name_table, scan_request
from fnlb.proxy.local import MANAGEMENT, NOT_FOUND
from fnlb.proxy.wire import CRLF, REQUEST_SPECIAL, connection_names, drop_named, error_response, special_name

log = logging.getLogger("fnlb.proxy")

# Roles of a listener.
TRAFFIC = 1
MGMT = 2

# Timer phases.
HEAD, BODY, BUSY, IDLE = 1, 2, 3, 4

# Connection states (see above).
OPEN, DRAINING, REJECTED, CLOSED = 0, 1, 2, 3

# Request header name as sent -> its lower-case form if it is in REQUEST_SPECIAL, else b"".
_special: dict[bytes, bytes] = {}

# Per listener role: request target -> routing key, for targets that are proxied and have no
# query (clients repeat the same paths, so most requests skip the partition, the decode and
# the management checks; and the key str comes with its hash already computed).
_KEYS: dict[int, dict[bytes, str]] = {TRAFFIC: {}, MGMT: {}, TRAFFIC | MGMT: {}}
KEY_CACHE_MAX = 4096        # targets remembered per role (emptied when full)
KEY_CACHE_LEN = 256         # longer targets are worked out every time

# The one-pass scan of plain request heads (head.py): on where it is compiled (uncompiled,
# a Python loop over each byte costs more than httptools' callbacks). Tests turn it on.
SCAN = COMPILED
_SCAN_NAMES = name_table({name: HOST if name == b"host" else SPECIAL for name in REQUEST_SPECIAL})
_REQUEST = RequestHead()    # what the last scan found (read at once: one event loop)


class Reject(Exception):
    """Raised in a parser callback: answer ``status`` and close the connection."""

    def __init__(self, status: int, msg: str):
        super().__init__(msg)
        self.status = status
        self.msg = msg


class ClientProtocol:
    """An asyncio protocol (duck-typed: a compiled class cannot derive from asyncio.Protocol)."""

    __slots__ = ("server", "pool", "traffic", "mgmt", "parser", "transport", "flow", "peer", "ip", "active", "queue",
                 "reading", "state", "deadline", "phase", "rx", "rx_mark", "head_rx", "in_head", "in_message",
                 "error_after", "in_done", "corked", "cork_up", "_url", "_parts", "_hsize", "_hosts", "_cl", "_te",
                 "_te_n", "_conn", "_xff", "_expect", "_keys", "fwd_end")

    def __init__(self, server, role: int):
        self.server = server
        self.pool = getattr(server, "pool", None)     # the node connections (the exchanges' Pool)
        self.traffic = bool(role & TRAFFIC)
        self.mgmt = bool(role & MGMT)
        self.parser = HttpRequestParser(self)
        self._keys = _KEYS[role]
        self.fwd_end = b""          # the head's end when the client sent no X-Forwarded-For and no body
        self.transport = None
        self.flow = None
        self.peer = ""
        self.ip = b""
        self.active: Exchange | None = None
        self.queue: deque[Exchange] | None = None
        self.reading: Exchange | None = None    # the exchange whose body is being parsed
        self.state = OPEN
        self.deadline = 0.0
        self.phase = HEAD
        self.rx = self.rx_mark = self.head_rx = 0
        self.in_head = False
        self.in_message = False     # httptools is inside a message (the scan must not start one)
        self.error_after = None
        self.in_done = False
        self._url = b""
        self.corked = None          # node-bound writes held until the current read is parsed
        self.cork_up = None

    def accepting(self) -> bool:
        """Requests are still served with keep-alive (not draining, rejected or closed)."""
        return self.state == OPEN

    # -- asyncio callbacks ---------------------------------------------------------------

    def connection_made(self, transport) -> None:
        server = self.server
        self.transport = transport
        if self.traffic:
            # --max-connections guards the traffic listener; management stays reachable
            if server.traffic_clients >= server.max_connections or server.draining:
                self.state = CLOSED
                transport.close()
                return
            server.traffic_clients += 1
        server.clients.add(self)
        self.flow = FlowControl(transport)
        peer = transport.get_extra_info("peername")
        if peer:
            ip = peer[0]
            if ip.startswith("::ffff:") and "." in ip:
                ip = ip[7:]     # an IPv4 client of a dual-stack listener
            self.peer = f"[{ip}]:{peer[1]}" if ":" in ip else f"{ip}:{peer[1]}"
            self.ip = ip.encode()
        self.fwd_end = b"X-Forwarded-For: %b\r\n%b\r\n" % (self.ip, server.proto_header)
        self.deadline = -server.header_timeout     # armed: the sweep makes it now + timeout

    def connection_lost(self, exc) -> None:
        if self.flow is None:
            return      # refused in connection_made
        if self.traffic:
            self.server.traffic_clients -= 1
        self.state = CLOSED
        self.server.clients.discard(self)
        ex = self.active
        if ex is not None:
            self.active = None
            ex.client_gone()
        self.flow.decouple()

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    def data_received(self, data: bytes) -> None:
        if self.state == CLOSED:
            return
        self.rx += len(data)
        # Node-bound bytes produced while parsing this read are written once, after it
        # parsed cleanly: one write instead of several, and a request whose framing breaks
        # in the same read never reaches the node at all.
        self.corked = []
        if SCAN and not self.in_message:
            used = self._scan(data)
            if used:
                if used == len(data):
                    self.uncork()
                    return
                data = data[used:]
        try:
            self.parser.feed_data(data)
        except HttpParserUpgrade as exc:
            # an Upgrade request was served as a plain one (Upgrade is hop-by-hop): go on
            self.uncork()
            self.data_received(data[exc.args[0]:])
        except HttpParserError as exc:
            up = self.cork_up
            if self.corked and up is not None and up.ex is not None and up.ex is not self.reading:
                self.uncork()       # an earlier, complete request's bytes: they are owed to the node
            else:
                self.corked = None  # the broken request's own bytes: the node never sees them
                self.cork_up = None
            self._parse_error(exc)
        else:
            if self.corked:
                self.uncork()
            else:
                self.corked = None
            if self.in_head:
                self.head_rx += len(data)
                if self.head_rx > self.server.head_limit:
                    self._parse_error(None, Reject(431, "request header block too large"))

    def _scan(self, data: bytes) -> int:
        """Serve the plain requests at the start of ``data`` (head.scan_request): how many
        bytes they took (0: none; the rest is httptools')."""
        pos = 0
        n = len(data)
        scan = _REQUEST
        server = self.server
        while pos < n and self.state == OPEN:
            end = scan_request(data, pos, scan, _SCAN_NAMES)
            if not end:
                break
            url = scan.target
            key = self._keys.get(url)
            if key is None:
                if len(url) > server.max_request_line:
                    break       # httptools' path answers it (414)
                key, local = self._target(scan.method, url)
                if local is not None:
                    break
            if len(scan.headers) > server.max_header_size:
                break       # (431)
            method = scan.method
            head = b"".join((method, b" ", url, b" HTTP/1.1\r\n", scan.headers, self.fwd_end))
            pos = end
            self._serve(Exchange(self, method, url, key, head, False, True, False, False, False), False)
        return pos

    def send_up(self, up, data: bytes) -> None:
        corked = self.corked
        if corked is None:
            up.transport.write(data)
            return
        if corked and self.cork_up is not up:
            self.uncork()
            self.corked = corked = []
        self.cork_up = up
        corked.append(data)

    def uncork(self) -> None:
        corked = self.corked
        self.corked = None
        if corked:
            up = self.cork_up
            self.cork_up = None
            if not up.closed and up.ex is not None and up.ex.client is self:
                up.transport.write(b"".join(corked) if len(corked) > 1 else corked[0])

    def eof_received(self):
        # Like nginx: a client that stops sending has gone away (a socket close looks the
        # same as a half-close), so the request in flight is aborted (499).
        return False

    # -- timers ----------------------------------------------------------------------------

    def deadline_passed(self, now: float) -> None:
        phase = self.phase
        server = self.server
        if self.flow.paused_by or (phase == BODY and self.rx != self.rx_mark):
            # held back by fnlb itself (a full node buffer, a queued request), or the body
            # is still moving: look again later
            self.rx_mark = self.rx
            self.deadline = now + (server.body_timeout if phase == BODY else
                                   server.header_timeout if phase == HEAD else server.idle_timeout)
            return
        self.deadline = 0.0
        if phase == BUSY:
            return      # the node side has its own timer
        reading = self.reading
        if phase == BODY and reading is not None and reading is self.active:
            reading.bad_body(408, "request body not received in time")
        else:
            self.close()

    # -- httptools callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.state == CLOSED or self.state != OPEN and self.active is None:
            raise Reject(0, "")
        self.in_message = True
        self.in_head = True
        self.head_rx = 0
        if self.phase != HEAD:
            self.phase = HEAD
            self.deadline = -self.server.header_timeout
        self._url = b""
        self._parts = []
        self._hsize = 0
        self._hosts = 0
        self._cl = self._te = self._conn = self._xff = self._expect = None
        self._te_n = 0

    def on_url(self, url: bytes) -> None:
        url = self._url = self._url + url if self._url else url
        if len(url) > self.server.max_request_line:
            raise Reject(414, "request line too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._hsize += len(name) + len(value) + 4
        if self._hsize > self.server.max_header_size:
            raise Reject(431, "request header block too large")
        low = _special.get(name)      # see wire.special_name
        if low is None:
            low = special_name(_special, REQUEST_SPECIAL, name)
        if low:
            if low == b"host":
                self._hosts += 1
            elif low == b"content-length":
                self._cl = value
                return
            elif low == b"transfer-encoding":
                self._te = value
                self._te_n += 1
                return
            elif low == b"connection":
                self._conn = value
                return
            elif low == b"x-forwarded-for":
                self._xff = value if self._xff is None else self._xff + b", " + value
                return
            elif low == b"expect":
                self._expect = value
                return
            else:
                return      # other hop-by-hop headers, and X-Forwarded-Proto (we set it)
        self._parts += (name, b": ", value, CRLF)

    def on_headers_complete(self) -> None:
        self.in_head = False
        parser = self.parser
        keep_alive = parser.should_keep_alive()
        if keep_alive and self._conn is None:
            # llhttp accepts only 0.9, 1.0, 1.1 and 2.0, and of these only 1.1 keeps the
            # connection alive without a Connection header: no need to ask for the version
            # (get_http_version formats a string, the dearest call of this method)
            http10 = False
        else:
            version = parser.get_http_version()
            if version == "1.1":
                http10 = False
            elif version == "1.0":
                http10 = True
            else:
                raise Reject(400, f"unsupported HTTP version {version}")
        method = parser.get_method()
        url = self._url
        # a target seen before on this kind of listener: a proxied path whose key is known
        key = self._keys.get(url)
        if key is None:
            key, local = self._target(method, url)
        else:
            local = None
        if self._hosts != 1 and (self._hosts or not http10):
            raise Reject(400, "exactly one Host header is required")
        te = self._te
        if te is not None:
            if self._te_n != 1 or te.strip().lower() != b"chunked" or http10:
                raise Reject(400, "Transfer-Encoding must be exactly 'chunked'")
            body = True
        else:
            body = self._cl is not None and int(self._cl) > 0
        if body and parser.should_upgrade():
            raise Reject(400, "Upgrade requests cannot carry a body")
        expect = False
        if self._expect is not None:
            if self._expect.strip().lower() != b"100-continue":
                raise Reject(417, "only Expect: 100-continue is supported")
            expect = not http10
        keep_alive = keep_alive and self.state == OPEN

        if local is None:
            parts = self._parts
            if self._conn is not None:
                names = connection_names(self._conn)
                if names:
                    parts = drop_named(parts, names)
            if self._xff is None and te is None and self._cl is None:
                # the usual request: X-Forwarded-For and -Proto are this connection's own
                head = b"".join((method, b" ", url, b" HTTP/1.1\r\n", *parts, self.fwd_end))
            else:
                head = b"".join((method, b" ", url, b" HTTP/1.1\r\n", *parts, self._forwarded(te)))
            ex = Exchange(self, method, url, key, head, te is not None, keep_alive, http10, expect, body)
            if not self._hosts:
                ex.parts = None     # HTTP/1.0 without Host: the node's address is added (exchange.py)
        else:
            ex = Exchange(self, method, url, key, b"", False, keep_alive, http10, expect, body)
            ex.local = local
            ex.parts = self._parts
        self._serve(ex, body)

    def _serve(self, ex: Exchange, body: bool) -> None:
        """A valid request: start it, or queue it behind the one being served."""
        self.reading = ex if body else None
        if body:
            self.phase = BODY
            self.rx_mark = self.rx
            self.deadline = -self.server.body_timeout
        else:
            self.phase = BUSY
            self.deadline = 0.0
        if self.active is None:
            self.active = ex
            ex.start()
        else:
            if self.queue is None:
                self.queue = deque()
            self.queue.append(ex)
            self.flow.pause_reading(QUEUED)

    def _target(self, method: bytes, url: bytes) -> tuple[str, object]:
        """The routing key of a request target not seen before, and the local answer it
        gets (None: proxied); a proxied path without a query is remembered in _keys."""
        if url[:1] != b"/" and not (url == b"*" and method == b"OPTIONS"):
            raise Reject(400, "the request target must be a path")
        path, sep, _ = url.partition(b"?")
        key = path.decode("latin-1")
        local = None
        if self.mgmt and (key.startswith("/1/lb/") or key == "/metrics"):
            local = MANAGEMENT
        elif not self.traffic or key.startswith("/1/lb/"):
            local = NOT_FOUND
        elif not sep and len(url) <= KEY_CACHE_LEN:
            keys = self._keys
            if len(keys) >= KEY_CACHE_MAX:
                keys.clear()
            keys[url] = key
        return key, local

    def _forwarded(self, te) -> bytes:
        """The X-Forwarded-For (appended to the client's), X-Forwarded-Proto and framing
        headers and the blank line that end the node-bound head."""
        xff = self._xff
        framing = (b"Transfer-Encoding: chunked\r\n" if te is not None
                   else b"Content-Length: " + self._cl + CRLF if self._cl is not None else b"")
        return b"".join((b"X-Forwarded-For: ", xff + b", " + self.ip if xff else self.ip, CRLF,
                         self.server.proto_header, framing, CRLF))

    def on_body(self, data: bytes) -> None:
        self.reading.body(data)

    def on_message_complete(self) -> None:
        self.in_message = False
        ex = self.reading
        if ex is not None:
            self.reading = None
            if self.phase == BODY:
                self.phase = BUSY
                self.deadline = 0.0
            ex.body_end()

    # -- errors, endings ---------------------------------------------------------------------

    def _parse_error(self, exc, reject: Reject | None = None) -> None:
        if reject is None:
            cause = exc.__context__
            if isinstance(cause, Reject):
                reject = cause
            else:
                if cause is not None:
                    log.error("request parser callback failed", exc_info=cause)
                reject = Reject(400, f"malformed request: {exc}")
        self.closed_for_input()
        if reject.status == 0 or self.transport.is_closing():
            return
        reading = self.reading
        if reading is not None and reading is self.active and (reading.up is not None or reading.open):
            reading.bad_body(reject.status, reject.msg)
            return
        if reading is not None and self.queue and self.queue[-1] is reading:
            self.queue.pop()    # a queued request whose body broke: never sent anywhere
        response = error_response(reject.status, reject.msg)
        if self.active is None:
            self.transport.write(response)
            self.close()
        else:
            self.error_after = response     # after the responses the client is owed

    def closed_for_input(self) -> None:
        """No more requests are read from this connection."""
        self.in_head = False
        self.phase = BUSY
        if self.state < REJECTED:
            self.state = REJECTED
        self.flow.pause_reading(QUEUED)

    def exchange_done(self, ex: Exchange) -> None:
        self.active = None
        if self.in_done:
            return      # the loop below, further up the stack, goes on
        self.in_done = True
        try:
            while True:
                if self.state == CLOSED:
                    return
                if not ex.keep_alive:
                    self.close()
                    return
                queue = self.queue
                if queue:
                    ex = self.active = queue.popleft()
                    if not queue and self.state < REJECTED:
                        self.flow.resume_reading(QUEUED)
                    ex.start()
                    if ex.over:
                        continue
                    return
                if self.error_after is not None:
                    self.transport.write(self.error_after)
                    self.close()
                    return
                if self.state != OPEN:
                    self.close()
                    return
                if not self.in_head:
                    self.phase = IDLE
                    self.deadline = -self.server.idle_timeout
                return
        finally:
            self.in_done = False

    def close(self) -> None:
        if self.state != CLOSED:
            self.state = CLOSED
            self.server.clients.discard(self)
            self.transport.close()

    def drain(self) -> None:
        """Shutdown: finish what is in flight, then close."""
        if self.state < DRAINING:
            self.state = DRAINING
        if self.active is None and not self.queue:
            self.close()
        elif self.active is not None:
            self.active.keep_alive = False      # its response says Connection: close
