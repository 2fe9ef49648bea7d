"""A raw-socket HTTP/1.1 client for proxy tests: we write exact bytes and read the
response with our own small parser (independent of the proxy's httptools)."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    raw_head: bytes
    chunked: bool = False

    def header(self, name: str) -> str | None:
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(values) if values else None

    def json(self):
        return json.loads(self.body)


class Conn:
    """One client connection: send bytes, read responses in order."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0, sock=None):
        self.sock = sock or socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = bytearray()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, method: str = "GET", path: str = "/", headers=None, body: bytes | None = None,
                host: str = "test.example") -> Response:
        self.send(build(method, path, headers, body, host))
        return self.response(head=method == "HEAD")

    def _more(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            if not self._more():
                raise ConnectionError(f"connection closed before {marker!r}; got {self.buf[:200]!r}")
        i = self.buf.index(marker) + len(marker)
        out = bytes(self.buf[:i])
        del self.buf[:i]
        return out

    def _exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._more():
                raise ConnectionError(f"connection closed after {len(self.buf)} of {n} body bytes")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def response(self, head: bool = False, interim: bool = False) -> Response:
        """The next response; 1xx responses are returned only when interim=True."""
        while True:
            raw = self._until(b"\r\n\r\n")
            lines = raw[:-4].decode("latin-1").split("\r\n")
            _, status, reason = (lines[0].split(" ", 2) + [""])[:3]
            headers = [(n, v.strip()) for n, _, v in (line.partition(":") for line in lines[1:])]
            resp = Response(int(status), reason, headers, b"", raw)
            if resp.status >= 200 or interim:
                break
        if head or resp.status < 200 or resp.status in (204, 304):
            return resp
        te = resp.header("transfer-encoding")
        if te is not None:
            assert te.lower() == "chunked", te
            resp.chunked = True
            parts = []
            while True:
                size = int(self._until(b"\r\n").split(b";")[0], 16)
                parts.append(self._exactly(size))
                assert self._exactly(2) == b"\r\n"
                if size == 0:
                    break
            resp.body = b"".join(parts)
        elif resp.header("content-length") is not None:
            resp.body = self._exactly(int(resp.header("content-length")))
        else:
            while self._more():
                pass
            resp.body, self.buf = bytes(self.buf), bytearray()
        return resp

    def closed(self, timeout: float = 5.0) -> bool:
        """True when the peer closes the connection within timeout (data before that is kept)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                if not self._more():
                    return True
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
        return False


def build(method: str, path: str, headers=None, body: bytes | None = None, host: str | None = "test.example",
          version: str = "HTTP/1.1") -> bytes:
    lines = [f"{method} {path} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    for name, value in headers or []:
        lines.append(f"{name}: {value}")
    if body is not None and not any(n.lower() in ("content-length", "transfer-encoding") for n, _ in headers or []):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def exchange(port: int, data: bytes, timeout: float = 5.0) -> tuple[Response | None, bool]:
    """Send raw bytes on a fresh connection: (first response or None, connection closed after)."""
    with Conn(port, timeout=timeout) as conn:
        conn.send(data)
        try:
            resp = conn.response()
        except (ConnectionError, socket.timeout):
            return None, True
        return resp, conn.closed(timeout)
