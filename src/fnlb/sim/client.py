"""A minimal keep-alive HTTP/1.1 client for the load generator: one connection class, one pool.

Requests are GETs without bodies; each connection carries one request at a time. The
pool opens connections on demand up to ``limit`` and otherwise queues callers, so the
load generator never slows its arrivals: a queued request just measures its time in the
queue as latency.
"""

from __future__ import annotations

import asyncio
from collections import deque

import httptools


class Response:
    __slots__ = ("status", "body", "keep_alive")

    def __init__(self, status: int, body: bytes, keep_alive: bool):
        self.status = status
        self.body = body
        self.keep_alive = keep_alive


class ClientConnection(asyncio.Protocol):
    def __init__(self):
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future | None = None
        self.body: list[bytes] = []
        self.broken = False

    # asyncio callbacks
    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.broken = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed before the response"))

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.broken = True
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(ConnectionError(f"bad response: {exc}"))
            self.transport.close()

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        response = Response(self.parser.get_status_code(), b"".join(self.body), self.parser.should_keep_alive())
        self.body = []
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(response)

    async def request(self, raw: bytes) -> Response:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        try:
            return await self.waiter
        finally:
            self.waiter = None

    def close(self) -> None:
        self.broken = True
        if self.transport is not None:
            self.transport.close()


class Pool:
    """Keep-alive connections to one host:port, at most ``limit`` open at once."""

    def __init__(self, host: str, port: int, limit: int = 256):
        self.host = host
        self.port = port
        self.limit = limit
        self.open = 0
        self._idle: list[ClientConnection] = []
        self._all: set[ClientConnection] = set()
        self._waiters: deque[asyncio.Future] = deque()

    async def request(self, raw: bytes, timeout: float) -> Response:
        """Send ``raw`` (a full request) and return the response; raise on failure or timeout."""
        async with asyncio.timeout(timeout):
            conn = await self._acquire()
            ok = False
            try:
                response = await conn.request(raw)
                ok = response.keep_alive
                return response
            finally:
                self._release(conn, ok)

    async def _acquire(self) -> ClientConnection:
        while self._idle:
            conn = self._idle.pop()
            if not conn.broken:
                return conn
            self._all.discard(conn)
            self.open -= 1
        if self.open < self.limit:
            self.open += 1
            try:
                _, conn = await asyncio.get_running_loop().create_connection(ClientConnection, self.host, self.port)
                self._all.add(conn)
            except BaseException:
                self.open -= 1
                self._wake()
                raise
            return conn
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            raise
        return await self._acquire()

    def _release(self, conn: ClientConnection, reusable: bool) -> None:
        if reusable and not conn.broken:
            self._idle.append(conn)
        else:
            conn.close()
            self._all.discard(conn)
            self.open -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        """Close every connection, idle or busy (their requests fail)."""
        for conn in self._all:
            conn.close()
        self._all.clear()
        self._idle.clear()
