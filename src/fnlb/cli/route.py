"""``fnlb route``: print the node each key goes to, as the proxy would route it unloaded,
or, with ``--balancer``, as a running balancer would route it now.

Offline it uses the same Router and policy objects as ``fnlb serve``, built from the same
flags, with no load state, and imports only the routing package (no event loop, database
driver or metrics client) so it starts in a fraction of a second. ``--explain`` adds the
policy's reason (``Router.explain``: the policy's own ``decide``) and the key's warm
containers by node (offline: none). ``--balancer ADDR`` asks the live balancer's
``GET /1/lb/route`` instead (its management listener) and prints the same columns.
"""

from __future__ import annotations

import sys

from fnlb.config.flags import Flag, UsageError, boolean, csv_list
from fnlb.routing.options import FLAGS as ROUTING_FLAGS
from fnlb.routing.options import RoutingConfig

SUMMARY = ("Print the node each KEY (a request path) routes to: one 'KEY<TAB>NODE' line per key;\n"
           "with --explain or --balancer 'KEY<TAB>NODE<TAB>REASON<TAB>WARM' (WARM: NODE=containers,...).")
USAGE_TAIL = " KEY [KEY ...]"
ALLOW_POSITIONALS = True
FLAGS = [
    Flag("nodes", [], "comma-separated host:port list of healthy nodes", csv_list, "A,B,C"),
    Flag("explain", False, "add the policy's reason and the key's warm containers by node", boolean,
         is_bool=True),
    Flag("balancer", "", "ask the running balancer whose management listener is HOST:PORT (its "
         "GET /1/lb/route: live load and containers) instead of routing here; implies --explain",
         str, "HOST:PORT"),
    *(f for f in ROUTING_FLAGS if f.name != "expose-wait-header"),
]


def warm_column(warm: dict | None) -> str:
    """``NODE=containers,...`` in the order given (the policy's first-use order), ``-`` for none."""
    if not warm:
        return "-"
    return ",".join(f"{node}={c['busy'] + c['idle']}" for node, c in warm.items())


def run(cfg, args) -> int:
    if not args:
        raise UsageError("give at least one KEY (a request path such as /r/app/hello)")
    if cfg.balancer:
        return _ask(cfg.balancer, args)
    from fnlb.routing.hashing import wire_key
    from fnlb.routing.router import build_router

    if not cfg.nodes:
        raise UsageError("--nodes is required (e.g. --nodes 10.0.0.1:8080,10.0.0.2:8080), or --balancer")
    router = build_router(RoutingConfig.from_namespace(cfg))
    router.set_nodes(cfg.nodes)
    out = sys.stdout
    for key in args:
        if cfg.explain:
            node, reason = router.explain(wire_key(key), 0.0)
            out.write(f"{key}\t{node}\t{reason}\t{warm_column(router.warm(wire_key(key), 0.0))}\n")
        else:
            out.write(f"{key}\t{router.pick(wire_key(key), 0.0)}\n")
    out.flush()
    return 0


def _ask(address: str, keys: list[str]) -> int:
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    base = address if "://" in address else f"http://{address}"
    out = sys.stdout
    for key in keys:
        url = f"{base.rstrip('/')}/1/lb/route?key={urllib.parse.quote(key, safe='')}"
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                body = json.load(resp)
        except (OSError, ValueError) as exc:
            print(f"fnlb route: {url}: {exc}", file=sys.stderr)
            return 1
        out.write(f"{key}\t{body['node']}\t{body.get('reason')}\t{warm_column(body.get('warm'))}\n")
    out.flush()
    return 0
