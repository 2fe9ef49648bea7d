"""``GET /1/lb/route?key=PATH``: where a request for PATH would go now, and its spill order.

Answers ``{"key": PATH, "node": NODE, "order": [NODE, ...]}`` from the live router: ``node``
is what ``pick`` returns at this instant (the load state included, so under load it may
differ from ``order[0]``, the key's primary), ``order`` is the full order in which the
policy tries nodes for the key. With no healthy node: 200 with ``"node": null`` and an
empty order (the question has an answer; the proxy, not this endpoint, answers 503).
Without ``key``: 400 ``{"msg": ...}``. The key is the URL path exactly as a request would
carry it (no query string); ``key=`` (empty) is a valid key.
"""

from __future__ import annotations

import time

from fnlb.admin.http import HTTPError, Request, Response, json_response


def register(app, balancer) -> None:
    async def route(request: Request) -> Response:
        key = request.arg("key")
        if key is None:
            raise HTTPError(400, "missing query parameter key (the request path to route)")
        router = balancer.router
        now = time.monotonic()
        return json_response({"key": key, "node": router.pick(key, now), "order": router.order(key, now)})

    app.route("/1/lb/route", "GET", route)
