"""The small interface between the data path and fnlb's own management endpoints.

The proxy recognises a management request (``/1/lb/...`` or ``/metrics`` on the
management listener), reads its whole body (bounded: larger than MAX_BODY gets 413 before
any handler runs), and awaits ``MgmtApp.handle(request)``. Handlers are plain
``async def handler(request: Request) -> Response`` functions registered by path and method,
so each module of this package (nodes, routing, observability) adds its own endpoints
without knowing about sockets, and tests can call them directly. Errors are the same
``{"msg": ...}`` body the proxy writes for its own errors (``fnlb.proxy.wire.error_body``).
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from typing import Awaitable, Callable
from urllib.parse import parse_qs

from fnlb.proxy.wire import error_body

MAX_BODY = 64 * 1024


@dataclass
class Request:
    method: str
    path: str                       # URL path without the query string
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)   # names lower-cased
    body: bytes = b""
    client: str = ""                # "ip:port" of the peer

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string, keep_blank_values=True)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Awaitable[Response]]


def json_response(obj, status: int = 200) -> Response:
    return Response(status, json.dumps(obj, separators=(",", ":")).encode() + b"\n")


def error(status: int, msg: str) -> Response:
    return Response(status, error_body(msg))


class HTTPError(Exception):
    """Raise from a handler to answer ``{"msg": ...}`` with a 4xx/5xx status."""

    def __init__(self, status: int, msg: str):
        super().__init__(msg)
        self.status = status
        self.msg = msg


def read_json(request: Request) -> dict:
    """The body as a JSON object, or HTTPError 400 saying what is wrong."""
    try:
        obj = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPError(400, f"invalid JSON body: {exc}") from None
    if not isinstance(obj, dict):
        raise HTTPError(400, "JSON body must be an object")
    return obj


class MgmtApp:
    """Routes management requests to handlers by exact path and method."""

    def __init__(self, admin_token: str = ""):
        self._routes: dict[str, dict[str, Handler]] = {}
        self.admin_token = admin_token

    def route(self, path: str, method: str, handler: Handler, *, write: bool = False) -> None:
        """Register a handler; ``write=True`` marks endpoints that need the admin token."""
        if write:
            handler = self._guarded(handler)
        self._routes.setdefault(path, {})[method] = handler
        if method == "GET":
            self._routes[path].setdefault("HEAD", handler)

    def _guarded(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            if self.admin_token:
                given = request.headers.get("authorization", "")
                expected = "Bearer " + self.admin_token
                if not hmac.compare_digest(given.encode(), expected.encode()):
                    return error(401, "missing or wrong Authorization: Bearer token")
            return await handler(request)
        return guarded

    def knows(self, path: str) -> bool:
        return path in self._routes

    async def handle(self, request: Request) -> Response:
        methods = self._routes.get(request.path)
        if methods is None:
            return error(404, f"no management endpoint {request.path}")
        handler = methods.get(request.method)
        if handler is None:
            resp = error(405, f"method {request.method} not allowed on {request.path}")
            resp.headers.append(("Allow", ", ".join(sorted(methods))))
            return resp
        try:
            return await handler(request)
        except HTTPError as exc:
            return error(exc.status, exc.msg)
