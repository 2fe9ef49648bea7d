"""The plainest request and response heads, recognised in one pass over their bytes.

Theory of operation
-------------------
httptools (llhttp) reports a head through one Python callback per header, and those
callbacks were a third of the data path's work. Most heads are of one plain form, so the
two protocols first offer the bytes of a read to a scanner here, which walks them once
(compiled: a C loop over the buffer, see head.pxd) and either recognises a *whole* head
of that form or answers 0, having changed nothing, and the caller hands the same bytes
to httptools as before. The plain form:

* request: ``METHOD SP /target SP HTTP/1.1 CRLF``, a method of ``METHODS``, a target of
  ``URL_CHARS`` starting with ``/``; response: ``HTTP/1.1 SP 3DIGIT SP reason CRLF``
  with a reason of visible characters and spaces;
* then header lines of exactly ``name: value CRLF``: a name of token characters, one
  colon, one space, a value of visible characters with inner spaces or tabs only (so the
  line is byte for byte what the slow path rebuilds from llhttp's name and value), and
  the blank line;
* request: exactly one ``Host``, no other header that the client side looks at
  (``wire.REQUEST_SPECIAL``: no body framing, no ``Connection``, ``Expect``, ...);
  response: one ``Content-Length`` of digits, no ``Transfer-Encoding``, at most one
  ``Connection`` that is ``keep-alive`` or ``close`` (as spelled in ``CONNECTION_PLAIN``).

Everything else (another version, a folded or odd line, a body-framing header on a
request, a chunked response, a head split over two reads, ...) is llhttp's. So every head
recognised here is one that llhttp accepts and reads the same way, and every head that
llhttp rejects is still rejected by llhttp: ``tests/proxy/test_head_scan.py`` checks both
differentially (hypothesis, random and hostile heads).

A scanner fills a ``RequestHead`` / ``ResponseHead`` (one of each per process: the
event loop is single-threaded and the caller reads it at once) and returns the offset
just past the head's blank line.
"""

from __future__ import annotations

# True when this module runs compiled (where scanning pays: see client.SCAN, upstream.SCAN).
COMPILED = not __file__.endswith(".py")

CR = 13
LF = 10
SP = 32
HTAB = 9
COLON = 58
SLASH = 47

# What a scanned name is (request heads: Host, or another header the client side looks
# at; response heads: upstream.py's kinds, passed in as a table).
PLAIN, HOST, SPECIAL = 0, 1, 2

TOKEN_CHARS = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
URL_CHARS = b"-._~!$&'()*+,;=:@/?%0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
METHODS = (b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH")
CONNECTION_PLAIN = ((b"keep-alive", False), (b"Keep-Alive", False), (b"close", True), (b"Close", True))  # closes?
MAX_NAME = 32           # longer names are never special (table size)
MAX_DIGITS = 15         # a longer Content-Length is llhttp's


def _table(chars: bytes) -> bytes:
    return bytes(1 if c in chars else 0 for c in range(256))


_TOKEN = _table(TOKEN_CHARS)
_URL = _table(URL_CHARS)
_VISIBLE = bytes(1 if 0x21 <= c <= 0x7E else 0 for c in range(256))
_V11 = b"HTTP/1.1"


def name_table(kinds: dict[bytes, int]) -> list:
    """Lower-case header names -> kind, as a list indexed by name length of tuples of
    (name, kind): what ``_name_kind`` searches (names longer than MAX_NAME never match)."""
    table: list = [()] * (MAX_NAME + 1)
    for name, kind in kinds.items():
        if len(name) <= MAX_NAME:
            table[len(name)] += ((name, kind),)
    return table


def _at(p: bytes, i: int, n: int, literal: bytes) -> bool:
    """``p[i:]`` starts with ``literal`` (and ``p`` is ``n`` bytes long)."""
    m = len(literal)
    if i + m > n:
        return False
    q = literal
    j = 0
    while j < m:
        if p[i + j] != q[j]:
            return False
        j += 1
    return True


def _name_kind(p: bytes, start: int, n: int, table: list) -> int:
    """The kind of the header name ``p[start:start + n]`` (ASCII case ignored), 0 if none."""
    if n > MAX_NAME:
        return 0
    for name, kind in table[n]:
        q = name
        i = 0
        while i < n:
            c = p[start + i]
            if 65 <= c <= 90:
                c += 32
            if c != q[i]:
                break
            i += 1
        if i == n:
            return kind
    return 0


class LineScan:
    """Where the last header line's name ends and its value starts and ends."""

    __slots__ = ("name_end", "value", "value_end")

    def __init__(self):
        self.name_end = self.value = self.value_end = 0


def _line(p: bytes, i: int, n: int, scan: LineScan) -> int:
    """One ``name: value CRLF`` header line at ``i``: its end, 0 if not of the plain form;
    the name's and the value's offsets go into ``scan``."""
    token = _TOKEN
    visible = _VISIBLE
    s = i
    while i < n and token[p[i]]:
        i += 1
    if i == s or i + 2 >= n or p[i] != COLON or p[i + 1] != SP or not visible[p[i + 2]]:
        return 0
    scan.name_end = i
    i += 2
    scan.value = i
    i += 1
    while i < n:
        c = p[i]
        if not visible[c]:
            if c != SP and c != HTAB:
                break
        i += 1
    if i + 1 >= n or p[i] != CR or p[i + 1] != LF:
        return 0
    c = p[i - 1]
    if c == SP or c == HTAB:
        return 0
    scan.value_end = i
    return i + 2


class RequestHead(LineScan):
    """What ``scan_request`` found: the method (one of METHODS, shared objects), the
    target, and the header lines as sent (each ending in CRLF; the blank line not included)."""

    __slots__ = ("method", "target", "headers")

    def __init__(self):
        LineScan.__init__(self)
        self.method = b""
        self.target = b""
        self.headers = b""


def scan_request(data: bytes, pos: int, scan: RequestHead, table: list) -> int:
    """A plain request head at ``data[pos:]`` with no body: the offset past it, or 0.
    ``table`` (``name_table``) gives HOST and SPECIAL names."""
    p = data
    n = len(data)
    i = pos
    while i < n and 65 <= p[i] <= 90:
        i += 1
    m = i - pos
    if m < 3 or m > 7 or i >= n or p[i] != SP:
        return 0
    method = None
    for candidate in METHODS:
        if len(candidate) == m and _at(p, pos, n, candidate):
            method = candidate
            break
    if method is None:
        return 0
    i += 1
    u = i
    if i >= n or p[i] != SLASH:
        return 0
    url = _URL
    while i < n and url[p[i]]:
        i += 1
    if i + 10 >= n or p[i] != SP or not _at(p, i + 1, n, _V11) or p[i + 9] != CR or p[i + 10] != LF:
        return 0
    ue = i
    i += 11
    h = i
    hosts = 0
    while True:
        if i + 1 < n and p[i] == CR and p[i + 1] == LF:
            break
        end = _line(p, i, n, scan)
        if not end:
            return 0
        kind = _name_kind(p, i, scan.name_end - i, table)
        if kind:
            if kind != HOST:
                return 0
            hosts += 1
        i = end
    if hosts != 1:
        return 0
    scan.method = method
    scan.target = p[u:ue]
    scan.headers = p[h:i]
    return i + 2


class ResponseHead(LineScan):
    """What ``scan_response`` found: the status, the header lines passed on (runs of whole
    lines as sent, each ending in CRLF), the Content-Length as sent and its value, whether
    the node closes (``Connection: close``) and the wait header's value (None without)."""

    __slots__ = ("status", "kept", "cl", "length", "closes", "wait")

    def __init__(self):
        LineScan.__init__(self)
        self.status = 0
        self.kept: list[bytes] = []
        self.cl = b""
        self.length = 0
        self.closes = False
        self.wait = None


def scan_response(data: bytes, scan: ResponseHead, table: list, length_kind: int, connection_kind: int,
                  wait_kind: int, refuse_kind: int, keep_wait: bool) -> int:
    """A plain response head at the start of ``data`` whose body (Content-Length bytes)
    does not run past ``data``: the offset past the head, or 0. ``table`` gives the kinds
    of upstream.py: a header line of a kind is not passed on (the wait header's is, when
    ``keep_wait``); the length, connection and wait kinds are read, a header of
    ``refuse_kind`` (Transfer-Encoding) leaves the head to llhttp, any other kind is a
    hop-by-hop header and dropped."""
    p = data
    n = len(data)
    if n < 17 or not _at(p, 0, n, _V11) or p[8] != SP or p[12] != SP:
        return 0
    status = 0
    i = 9
    while i < 12:
        c = p[i]
        if c < 48 or c > 57:
            return 0
        status = status * 10 + (c - 48)
        i += 1
    if status < 200 or status == 204 or status == 304:
        return 0
    visible = _VISIBLE
    i = 13
    while i < n and (visible[p[i]] or p[i] == SP):
        i += 1
    if i + 1 >= n or p[i] != CR or p[i + 1] != LF:
        return 0
    i += 2
    kept: list[bytes] = []
    run = i
    cl = None
    wait = None
    closes = False
    connections = 0
    length = 0
    while True:
        if i + 1 < n and p[i] == CR and p[i + 1] == LF:
            break
        end = _line(p, i, n, scan)
        if not end:
            return 0
        kind = _name_kind(p, i, scan.name_end - i, table)
        if kind:
            v = scan.value
            ve = scan.value_end
            if kind == length_kind:
                if cl is not None or ve - v > MAX_DIGITS:
                    return 0
                length = 0
                j = v
                while j < ve:
                    c = p[j]
                    if c < 48 or c > 57:
                        return 0
                    length = length * 10 + (c - 48)
                    j += 1
                cl = p[v:ve]
            elif kind == connection_kind:
                connections += 1
                if connections > 1:
                    return 0
                for spelling, value in CONNECTION_PLAIN:
                    if len(spelling) == ve - v and _at(p, v, n, spelling):
                        closes = value
                        break
                else:
                    return 0
            elif kind == wait_kind:
                wait = p[v:ve]
                if keep_wait:
                    i = end
                    continue
            elif kind == refuse_kind:
                return 0
            if run < i:
                kept.append(p[run:i])
            run = end
        i = end
    if cl is None:
        return 0
    if n - (i + 2) > length:
        return 0        # bytes beyond the response: llhttp's to judge
    if run < i:
        kept.append(p[run:i])
    scan.status = status
    scan.kept = kept
    scan.cl = cl
    scan.length = length
    scan.closes = closes
    scan.wait = wait
    return i + 2
