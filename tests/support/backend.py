"""A small real HTTP/1.1 node for tests: records exactly what it received and answers as told.

    with Backend() as node:                 # 127.0.0.1, ephemeral port, a thread per connection
        node.address                        # "127.0.0.1:PORT" (give it to --nodes)
        node.reply = Reply(200, body=b"hi") # or a function(Received) -> Reply
        ... node.requests[-1].head ...      # Received: raw head bytes, method, target, headers, body

A Reply can also stream a large body without holding it (``stream=(chunk, count)``), send a
chunked or read-until-close body, wait before answering (``delay``), or misbehave on purpose
(``action="close"`` closes without answering, ``"reset"`` sends a TCP RST, ``"hang"`` never
answers, ``"partial"`` sends part of the body then closes). Requests are parsed by hand (not
with httptools) so that the proxy's framing is checked by an independent reader.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Received:
    head: bytes                     # request line + headers, exactly as received (with final CRLFCRLF)
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]  # in order, names as sent
    body: bytes                     # de-chunked
    raw_body: bytes                 # as received (chunked framing included)
    conn: int                       # connection number (1, 2, ...): shows pooling
    complete: bool = True           # False when the connection broke inside the body

    def header(self, name: str) -> str | None:
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(values) if values else None

    def header_names(self) -> list[str]:
        return [n.lower() for n, _ in self.headers]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok\n"
    headers: list[tuple[str, str]] = field(default_factory=list)
    reason: str = "OK"
    framing: str = "length"         # "length", "chunked", "close" (read-until-close), "none"
    chunks: list[bytes] | None = None   # for framing="chunked"
    stream: tuple[bytes, int] | None = None  # (piece, count): a large body streamed with Content-Length
    delay: float = 0.0
    action: str = ""                # "", "close", "reset", "hang", "partial"
    interim: list[bytes] = field(default_factory=list)  # raw 1xx responses sent first
    keep_alive: bool = True
    read_body: bool = True          # False: answer right after the head, before reading the body
    close_after: bool = False       # close the connection after answering, without saying so

    def encode(self) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {self.reason}\r\n".encode()]
        for name, value in self.headers:
            lines.append(f"{name}: {value}\r\n".encode("latin-1"))
        if self.framing == "length":
            size = len(self.stream[0]) * self.stream[1] if self.stream else len(self.body)
            lines.append(b"Content-Length: %d\r\n" % size)
        elif self.framing == "chunked":
            lines.append(b"Transfer-Encoding: chunked\r\n")
        if not self.keep_alive or self.framing == "close":
            lines.append(b"Connection: close\r\n")
        lines.append(b"\r\n")
        return b"".join(lines)


class Backend:
    def __init__(self, reply: Reply | Callable[[Received], Reply] | None = None, host: str = "127.0.0.1",
                 health_path: str = "/version"):
        self.reply = reply or Reply()
        self.health_path = health_path  # answered {"version": "0.3.700"}, kept out of .requests
        self.health_checks = 0
        self.requests: list[Received] = []
        self.connections = 0
        self.lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(512)
        self.port = self._sock.getsockname()[1]
        self.address = f"{host}:{self.port}"
        self._conns: list[socket.socket] = []
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopped = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)   # wakes the accept() below (Linux): the port is free
        except OSError:
            pass
        self._sock.close()
        self._thread.join(5)
        with self.lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
                except OSError:
                    pass

    def wait_requests(self, n: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.requests

    # -- server -------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                number = self.connections
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        reader = _Reader(conn)
        try:
            while not self._stopped:
                head = reader.until(b"\r\n\r\n")
                if head is None:
                    return
                received = _parse_head(head, number)
                if received.target == self.health_path and received.method == "GET":
                    self.health_checks += 1
                    conn.sendall(HEALTH_REPLY)
                    continue
                reply = self.reply
                if callable(reply) or reply.read_body or not _has_body(received):
                    received.raw_body, received.body, received.complete = _read_body(reader, received)
                if callable(reply):
                    reply = reply(received)     # sees the body; read_body=False needs a plain Reply
                with self.lock:
                    self.requests.append(received)
                if not received.complete:
                    return
                if not self._answer(conn, reply, received):
                    return
        except OSError:
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _answer(self, conn: socket.socket, reply: Reply, received: Received) -> bool:
        if reply.delay:
            time.sleep(reply.delay)
        if reply.action == "close":
            return False
        if reply.action == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if reply.action == "hang":
            while not self._stopped:
                time.sleep(0.05)
            return False
        for interim in reply.interim:
            conn.sendall(interim)
        conn.sendall(reply.encode())
        if received.method == "HEAD" or reply.status in (204, 304) or reply.framing == "none":
            return reply.keep_alive
        if reply.stream:
            piece, count = reply.stream
            for _ in range(count):
                conn.sendall(piece)
        elif reply.framing == "chunked":
            for part in (reply.chunks if reply.chunks is not None else [reply.body]):
                conn.sendall(b"%x\r\n%b\r\n" % (len(part), part))
            conn.sendall(b"0\r\n\r\n")
        elif reply.action == "partial":
            conn.sendall(reply.body[: len(reply.body) // 2])
            return False
        else:
            conn.sendall(reply.body)
        return reply.keep_alive and reply.framing != "close" and not reply.close_after


HEALTH_REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r\n"
                b'{"version": "0.3.700"}\n')


class _Reader:
    def __init__(self, conn: socket.socket):
        self.conn = conn
        self.buf = bytearray()

    def _more(self) -> bool:
        data = self.conn.recv(1 << 20)
        self.buf += data
        return bool(data)

    def until(self, marker: bytes) -> bytes | None:
        start = 0
        while (i := self.buf.find(marker, start)) < 0:
            start = max(0, len(self.buf) - len(marker))
            if not self._more():
                return None
        i += len(marker)
        out = bytes(self.buf[:i])
        del self.buf[:i]
        return out

    def exactly(self, n: int) -> bytes | None:
        while len(self.buf) < n:
            if not self._more():
                return None
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def rest(self) -> bytes:
        return bytes(self.buf)


def _parse_head(head: bytes, number: int) -> Received:
    lines = head[:-4].split(b"\r\n")
    method, target, version = lines[0].decode("latin-1").split(" ", 2)
    headers = []
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name, value.strip()))
    return Received(head, method, target, version, headers, b"", b"", number)


def _has_body(r: Received) -> bool:
    return r.header("transfer-encoding") is not None or int(r.header("content-length") or 0) > 0


def _read_body(reader: _Reader, r: Received) -> tuple[bytes, bytes, bool]:
    if (r.header("transfer-encoding") or "").lower() == "chunked":
        raw, body = [], []
        while True:
            line = reader.until(b"\r\n")
            if line is None:
                return b"".join(raw), b"".join(body), False
            raw.append(line)
            size = int(line.split(b";")[0].strip(), 16)
            data = reader.exactly(size + 2)
            if data is None:
                return b"".join(raw), b"".join(body), False
            raw.append(data)
            body.append(data[:-2])
            if size == 0:
                return b"".join(raw), b"".join(body), True
    length = int(r.header("content-length") or 0)
    data = reader.exactly(length)
    if data is None:
        return reader.rest(), reader.rest(), False
    return data, data, True
