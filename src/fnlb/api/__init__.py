"""fnlb's own management API: ``/1/lb/...`` and ``/metrics`` (docs/openapi.yaml).

Everything HTTP about management lives here, so that ``fnlb.routing``, ``fnlb.nodes`` and
``fnlb.observability`` stay plain objects that never see a request or read a clock for
one. ``http.py`` is the request/response interface and the router of handlers
(``MgmtApp``); ``nodes.py``, ``routing.py`` and ``observability.py`` each register one
package's endpoints on it and translate between requests and that package's objects
(when a handler needs "now", it reads the clock and passes it in). The proxy
(``fnlb.proxy.local``) hands management requests to ``MgmtApp.handle``; ``fnlb.app``
registers the handlers.
"""
