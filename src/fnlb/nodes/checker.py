"""One active health check: ``GET <hc-path>`` on a node, judged good or bad.

A check is good when the node answers 2xx within the timeout and, when a minimum API
version is configured, its body is JSON ``{"version": "x.y.z"}`` with at least that version.
Anything else (refused, reset, timeout, other status, unparsable or old version) is a
failure whose reason ends up in ``details()["last_error"]``.

Health checks are low-volume, so this is the simplest correct client: one fresh connection
per check (``Connection: close``; a pooled connection could hide a node that stopped
accepting new ones), asyncio streams, httptools to parse the response. The body is bounded
so that a misbehaving node cannot make the balancer buffer without limit.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import httptools

from fnlb.nodes import address, version

MAX_RESPONSE = 64 * 1024


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    error: str | None = None
    version: str | None = None


class _Response:
    """httptools callbacks collecting one response."""

    def __init__(self):
        self.body = bytearray()
        self.headers_done = False
        self.framed = False        # Content-Length or chunked: the end of the connection is not the end
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, data: bytes) -> None:
        self.body += data

    def on_message_complete(self) -> None:
        self.complete = True


async def check(addr: str, path: str, timeout: float, min_version: str | None) -> CheckResult:
    """Run one check against ``addr``; never raises (except cancellation)."""
    try:
        address.validate(addr)  # checks go only to well-formed node addresses
        async with asyncio.timeout(timeout):
            status, body = await _get(addr, path)
    except TimeoutError:
        return CheckResult(False, f"no answer within {timeout:g}s")
    except (OSError, ValueError, httptools.HttpParserError) as exc:
        return CheckResult(False, _describe(exc))
    return judge(status, body, min_version)


def judge(status: int, body: bytes, min_version: str | None) -> CheckResult:
    """Whether a complete response counts as healthy (pure, for tests)."""
    reported = _reported_version(body)
    if not 200 <= status < 300:
        return CheckResult(False, f"status {status}", reported)
    if not min_version:
        return CheckResult(True, None, reported)
    if reported is None:
        return CheckResult(False, 'body is not JSON {"version": "x.y.z"}')
    try:
        good = version.at_least(reported, min_version)
    except ValueError:
        return CheckResult(False, f"version {reported!r} is not x.y.z", reported)
    if not good:
        return CheckResult(False, f"version {reported} is older than --min-api-version {min_version}", reported)
    return CheckResult(True, None, reported)


def _reported_version(body: bytes) -> str | None:
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    value = obj.get("version") if isinstance(obj, dict) else None
    return value if isinstance(value, str) else None


async def _get(addr: str, path: str) -> tuple[int, bytes]:
    host, port = address.split(addr)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: fnlb-health-check\r\n"
                     "Accept: application/json\r\nConnection: close\r\n\r\n".encode("latin-1"))
        await writer.drain()
        response = _Response()
        parser = httptools.HttpResponseParser(response)
        received = 0
        while not response.complete:
            data = await reader.read(16384)
            if not data:
                if response.headers_done and not response.framed:
                    break  # a body delimited by the end of the connection
                raise ConnectionError("connection closed before a complete response")
            received += len(data)
            if received > MAX_RESPONSE:
                raise ValueError(f"response larger than {MAX_RESPONSE} bytes")
            parser.feed_data(data)
        return parser.get_status_code(), bytes(response.body)
    finally:
        writer.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, (ValueError, ConnectionError)) else f"{type(exc).__name__}: {text}"
