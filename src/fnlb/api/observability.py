"""Management endpoints of observability (``fnlb.observability``): /1/lb/stats, the dashboard, /metrics.

Every path served here is registered on the MgmtApp, so the proxy routes it to the
management listener. The dashboard is static files from ``fnlb/observability/static/``
(read once at start) plus two JSON polls; its Content-Security-Policy forbids the page any
other host. "Now" is read here, from ``clock`` (``time.monotonic``; tests pass their own),
and handed to the stats recorder and the metrics collector, which read no clock.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime
from importlib import resources

from fnlb.api.http import HTTPError, Request, Response, json_response
from fnlb.observability import metrics
from fnlb.observability.stats import rfc3339, second_rows

# The dashboard's files: URL name under /1/lb/dash/ -> (file in static/, content type).
STATIC = {
    "app.js": ("app.js", "text/javascript; charset=utf-8"),
    "charts.js": ("charts.js", "text/javascript; charset=utf-8"),
    "app.css": ("app.css", "text/css; charset=utf-8"),
}
DASH_HEADERS = [
    # Belt and braces for "works offline": the browser itself refuses any other origin.
    ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-cache"),
]

YIELD_ROWS = 2000       # rows serialised between two yields to the event loop (~20 ms)
WARM_FUNCTIONS = 50     # busiest functions whose warm nodes /1/lb/dash/state lists

_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_UNIX_MS = re.compile(r"^\d{1,16}(\.\d+)?$")
_PLUS_AS_SPACE = re.compile(r"\d \d{2}:\d{2}$")


def parse_since(text: str) -> float:
    """Unix seconds from RFC 3339 (``2024-05-01T12:00:00Z``, offsets, fractions) or Unix
    milliseconds (``1714564800000``); ValueError says what is wrong."""
    text = text.strip()
    if _PLUS_AS_SPACE.search(text):
        # "?since=...T12:00:00+02:00" unencoded: the query string turned "+" into a space.
        text = text[:-6] + "+" + text[-5:]
    if _UNIX_MS.match(text):
        return float(text) / 1000.0
    m = _RFC3339.match(text)
    if not m:
        raise ValueError(f"since={text!r} is neither RFC 3339 (2024-05-01T12:00:00Z) nor Unix milliseconds")
    date, clock, frac, zone = m.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        base = datetime.fromisoformat(f"{date}T{clock}{zone}").timestamp()
    except ValueError as exc:
        raise ValueError(f"since={text!r}: {exc}") from None
    return base + (float(frac) if frac else 0.0)


async def _stats_json(seconds) -> bytes:
    """``{"stats": [...]}`` built second by second, yielding to the event loop every
    YIELD_ROWS rows: a full 5-minute read of 50 functions on 10 nodes is 150,000 rows and
    about a second of CPU, which must not stall the data path in one piece. Finished
    seconds are immutable, so the list stays valid across the awaits."""
    parts, pending = [], 0
    for second in seconds:
        rows = second_rows(second)
        if not rows:
            continue
        parts.append(json.dumps(rows, separators=(",", ":"))[1:-1])
        pending += len(rows)
        if pending >= YIELD_ROWS:
            pending = 0
            await asyncio.sleep(0)
    return ('{"stats":[' + ",".join(parts) + "]}\n").encode()


def _static(name: str) -> bytes:
    return resources.files("fnlb.observability").joinpath("static", name).read_bytes()


class ObservabilityAPI:
    def __init__(self, balancer, clock=time.monotonic):
        self.balancer = balancer
        self.clock = clock
        self.registry = metrics.make_registry(balancer, clock)

    async def stats(self, request: Request) -> Response:
        raw = request.arg("since")
        since = None
        if raw is not None:
            try:
                since = parse_since(raw)
            except ValueError as exc:
                raise HTTPError(400, str(exc)) from None
        seconds = self.balancer.stats.finished(self.clock(), since)
        return Response(200, await _stats_json(seconds))

    async def state(self, request: Request) -> Response:
        """The dashboard's node table, where the busiest functions are warm, and the server's
        clock (so the page needs no clock)."""
        b, now = self.balancer, self.clock()
        online = b.registry.snapshot()
        details = b.registry.details()
        flight = b.router.in_flight_by_node()
        warm = b.router.warm_by_node(now)
        nodes = []
        for node in sorted(set(online) | set(details)):
            d = details.get(node, {})
            nodes.append({"node": node, "state": online.get(node, "offline"),
                          "health": d.get("state"), "in_flight": flight.get(node, 0),
                          "warm": None if warm is None else warm.get(node, 0),
                          "last_error": d.get("last_error"), "last_check": d.get("last_check"),
                          "version": d.get("version")})
        functions = None
        if warm is not None:
            functions = {}
            for func, _, _ in b.stats.top_functions_now(now, WARM_FUNCTIONS):
                pools = b.router.warm(func, now)
                functions[func] = {node: c["busy"] + c["idle"] for node, c in pools.items()} if pools else {}
        wall = b.stats.wall(now)
        return json_response({"time": rfc3339(wall), "now_ms": int(wall * 1000),
                              "window": b.stats.window, "nodes": nodes, "warm": functions})

    async def metrics(self, request: Request) -> Response:
        return Response(200, metrics.exposition(self.registry), metrics.CONTENT_TYPE_LATEST)


def register(app, balancer, clock=time.monotonic) -> None:
    api = ObservabilityAPI(balancer, clock)
    app.route("/1/lb/stats", "GET", api.stats)
    app.route("/1/lb/dash/state", "GET", api.state)
    app.route("/metrics", "GET", api.metrics)
    _register_page(app, "/1/lb/dash", _static("index.html"), "text/html; charset=utf-8")
    for url_name, (file_name, ctype) in STATIC.items():
        _register_page(app, f"/1/lb/dash/{url_name}", _static(file_name), ctype)


def _register_page(app, path: str, body: bytes, content_type: str) -> None:
    async def page(request: Request) -> Response:
        return Response(200, body, content_type, list(DASH_HEADERS))
    app.route(path, "GET", page)
