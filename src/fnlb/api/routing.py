"""``GET /1/lb/route?key=PATH``: where a request for PATH would go now, why, and where it is warm.

Answers ``{"key": PATH, "node": NODE, "reason": R, "why": TEXT, "order": [NODE, ...],
"warm": {NODE: {"busy": n, "idle": m}} | null}`` from the live router: ``node`` and
``reason`` are the policy's own answer at this instant (``Router.explain``, the policy's
``decide``: the load state included, so under load ``node`` may differ from ``order[0]``,
the key's primary), ``why`` is the reason in words (``policy.REASONS``), ``order`` is the
full order in which the policy tries nodes for the key, and ``warm`` the policy's estimate
of the key's containers per node (null for a policy that keeps none). With no healthy
node: 200 with ``"node": null``, ``"reason": null`` and an empty order (the question has an
answer; the proxy, not this endpoint, answers 503).
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
from fnlb.routing.policy import REASONS


def register(app, balancer) -> None:
    async def route(request: Request) -> Response:
        key = request.arg("key")
        if key is None:
            raise HTTPError(400, "missing query parameter key (the request path to route)")
        router = balancer.router
        now = time.monotonic()
        wire = wire_key(key)  # the form the proxy routes: the path's bytes, one char each
        node, reason = router.explain(wire, now)
        return json_response({"key": key, "node": node, "reason": reason, "why": REASONS.get(reason or ""),
                              "order": router.order(wire, now), "warm": router.warm(wire, now)})

    app.route("/1/lb/route", "GET", route)
