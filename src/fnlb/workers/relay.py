"""Management requests that reach a worker, answered by the supervisor.

When ``--listen`` equals ``--mgmt-listen`` (the default), management paths arrive on the
shared traffic port, at whichever worker the kernel gave the connection. The worker's
``ProxyServer`` gets a ``RelayClient`` as its ``mgmt``: its ``handle(Request)`` sends the
request to the supervisor, whose ``RelayServer`` awaits the real ``MgmtApp.handle`` and
sends the ``Response`` back. The hop is a Unix socket in a directory only the balancer's
user can enter, one connection per request (management is low volume), each message a
4-byte length and a JSON object (bodies as Latin-1 text), so the request arrives exactly
as the worker parsed it (method, headers, client address) and nothing listens on TCP.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct

from fnlb.api.http import Request, Response, error

log = logging.getLogger("fnlb.workers")
_LEN = struct.Struct("<I")
TIMEOUT = 30.0


async def _read(reader: asyncio.StreamReader) -> dict:
    n = _LEN.unpack(await reader.readexactly(4))[0]
    return json.loads(await reader.readexactly(n))


def _frame(obj: dict) -> bytes:
    data = json.dumps(obj, separators=(",", ":")).encode()
    return _LEN.pack(len(data)) + data


class RelayClient:
    def __init__(self, path: str):
        self.path = path

    async def handle(self, request: Request) -> Response:
        try:
            return await asyncio.wait_for(self._ask(request), TIMEOUT)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as exc:
            log.warning("management request %s %s: supervisor unreachable: %r", request.method, request.path, exc)
            return error(503, "management is unavailable (the supervisor does not answer)")

    async def _ask(self, request: Request) -> Response:
        reader, writer = await asyncio.open_unix_connection(self.path)
        try:
            writer.write(_frame({"method": request.method, "path": request.path, "query": request.query_string,
                                 "headers": request.headers, "body": request.body.decode("latin-1"),
                                 "client": request.client}))
            obj = await _read(reader)
        finally:
            writer.close()
        return Response(obj["status"], obj["body"].encode("latin-1"), obj["content_type"],
                        [tuple(h) for h in obj["headers"]])


class RelayServer:
    def __init__(self, mgmt, path: str):
        self.mgmt = mgmt
        self.path = path
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_unix_server(self._serve, self.path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            obj = await _read(reader)
            request = Request(method=obj["method"], path=obj["path"], query_string=obj["query"],
                              headers=obj["headers"], body=obj["body"].encode("latin-1"), client=obj["client"])
            try:
                response = await self.mgmt.handle(request)
            except Exception:
                log.exception("management handler for %s %s failed", request.method, request.path)
                response = error(500, "internal error")
            writer.write(_frame({"status": response.status, "body": response.body.decode("latin-1"),
                                 "content_type": response.content_type, "headers": list(response.headers)}))
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, ValueError, KeyError) as exc:
            log.warning("relayed management request dropped: %r", exc)
        finally:
            writer.close()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
