"""HTTP/1.1 wire details shared by both sides of the proxy: header classes, framing,
and the responses fnlb writes itself (errors and management answers)."""

from __future__ import annotations

import json
from http import HTTPStatus

CRLF = b"\r\n"
CHUNK_END = b"0\r\n\r\n"
CONTINUE_100 = b"HTTP/1.1 100 Continue\r\n\r\n"

# Hop-by-hop headers (RFC 9110 7.6.1): never forwarded, in either direction.
HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer",
                        b"transfer-encoding", b"upgrade"})

# Request headers the client side looks at (all others are forwarded untouched).
REQUEST_SPECIAL = HOP_BY_HOP | {b"host", b"content-length", b"x-forwarded-for",
                                b"x-forwarded-proto", b"expect"}

WAIT_HEADER = b"xxx-fxlb-wait"     # the node's wait report (upstream.py classifies response headers)

# Connection tokens that are options, not header names.
CONNECTION_OPTIONS = frozenset({b"close", b"keep-alive"})

_STATUS_LINES: dict[int, bytes] = {}

NAME_CACHE_MAX = 1024       # distinct header spellings remembered per table (emptied when full)
NAME_CACHE_LEN = 64         # longer names are classified every time


def special_name(cache: dict[bytes, bytes], special: frozenset[bytes], name: bytes) -> bytes:
    """``name``'s lower-case form if it is in ``special``, else b"", remembered in ``cache``
    under the spelling as sent: peers send the same spellings every time, so the hot path
    is one dictionary lookup (``cache.get(name)``) and this is called for new ones only."""
    low = name.lower()
    return remember_kind(cache, name, low if low in special else b"")


def header_kind(cache: dict[bytes, int], kinds: dict[bytes, int], name: bytes) -> int:
    """``kinds[name.lower()]``, 0 for a header not in ``kinds``; remembered in ``cache`` like
    ``special_name`` (the hot path is ``cache.get(name)``)."""
    return remember_kind(cache, name, kinds.get(name.lower(), 0))


def remember_kind(cache: dict, name: bytes, kind):
    if len(name) <= NAME_CACHE_LEN:
        if len(cache) >= NAME_CACHE_MAX:
            cache.clear()
        cache[name] = kind
    return kind


def status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    if line is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        line = _STATUS_LINES[status] = f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1")
    return line


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


def connection_names(value: bytes) -> set[bytes]:
    """Header names listed in a Connection header (its options removed)."""
    names = {t.strip().lower() for t in value.split(b",")}
    names.discard(b"")
    return names - CONNECTION_OPTIONS


def drop_named(parts: list[bytes], names: set[bytes]) -> list[bytes]:
    """Remove headers from a flat [name, b": ", value, CRLF, ...] list by lower-case name."""
    kept: list[bytes] = []
    for i in range(0, len(parts), 4):
        if parts[i].lower() not in names:
            kept += parts[i:i + 4]
    return kept


def local_response(status: int, body: bytes, *, content_type: str = "application/json",
                   headers=(), keep_alive: bool = True, head: bool = False) -> bytes:
    """A complete response written by fnlb itself (Content-Length framed)."""
    lines = [status_line(status),
             b"Content-Type: ", content_type.encode("latin-1"), CRLF,
             b"Content-Length: %d\r\n" % len(body)]
    for name, value in headers:
        lines += (name.encode("latin-1"), b": ", value.encode("latin-1"), CRLF)
    if not keep_alive:
        lines.append(b"Connection: close\r\n")
    lines.append(CRLF)
    if not head:
        lines.append(body)
    return b"".join(lines)


def error_body(msg: str) -> bytes:
    """The JSON body of every error fnlb answers itself, ``{"msg": ...}``: the proxy's own
    (here) and the management API's (``fnlb.api.http.error``)."""
    return json.dumps({"msg": msg}).encode() + b"\n"


def error_response(status: int, msg: str, *, keep_alive: bool = False, head: bool = False) -> bytes:
    return local_response(status, error_body(msg), keep_alive=keep_alive, head=head)
