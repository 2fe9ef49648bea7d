"""``GET /1/lb/route?key=PATH``: where a request for PATH would go now, and its spill order.

Answers ``{"key": PATH, "node": NODE, "order": [NODE, ...]}`` from the live router: ``node``
is what ``pick`` returns at this instant (the load state included, so under load it may
differ from ``order[0]``, the key's primary), ``order`` is the full order in which the
policy tries nodes for the key. With no healthy node: 200 with ``"node": null`` and an
empty order (the question has an answer; the proxy, not this endpoint, answers 503).
Without ``key``: 400 ``{"msg": ...}``. The key is the URL path exactly as a request would
carry it (no query string). The parameter is form-decoded once (``%XX`` as UTF-8, ``+`` as
a space), so ``key=/r/caf%C3%A9`` asks about the path whose bytes are ``/r/caf\xc3\xa9``,
and a path that itself contains ``%``, ``+`` or ``&`` must encode them (``%25``, ``%2B``,
``%26``). ``key=`` (empty) is a valid key.
"""

from __future__ import annotations

import time

from fnlb.api.http import HTTPError, Request, Response, json_response
from fnlb.routing.hashing import wire_key


def register(app, balancer) -> None:
    async def route(request: Request) -> Response:
        key = request.arg("key")
        if key is None:
            raise HTTPError(400, "missing query parameter key (the request path to route)")
        router = balancer.router
        now = time.monotonic()
        wire = wire_key(key)  # the form the proxy routes: the path's bytes, one char each
        return json_response({"key": key, "node": router.pick(wire, now), "order": router.order(wire, now)})

    app.route("/1/lb/route", "GET", route)
