"""``fnlb route``: print the node each key goes to, as the proxy would route it unloaded.

Uses the same Router and policy objects as ``fnlb serve``, built from the same flags, with
no load state. Imports only the routing package (no event loop, database driver or
metrics client) so it starts in a fraction of a second.
"""

from __future__ import annotations

import sys

from fnlb.config.flags import Flag, UsageError, csv_list
from fnlb.routing.options import FLAGS as ROUTING_FLAGS
from fnlb.routing.options import RoutingConfig

SUMMARY = "Print the node each KEY (a request path) routes to: one 'KEY<TAB>NODE' line per key."
USAGE_TAIL = " KEY [KEY ...]"
ALLOW_POSITIONALS = True
FLAGS = [
    Flag("nodes", [], "comma-separated host:port list of healthy nodes", csv_list, "A,B,C"),
    *(f for f in ROUTING_FLAGS if f.name != "expose-wait-header"),
]


def run(cfg, args) -> int:
    from fnlb.routing.hashing import wire_key
    from fnlb.routing.router import build_router

    if not cfg.nodes:
        raise UsageError("--nodes is required (e.g. --nodes 10.0.0.1:8080,10.0.0.2:8080)")
    if not args:
        raise UsageError("give at least one KEY (a request path such as /r/app/hello)")
    router = build_router(RoutingConfig.from_namespace(cfg))
    router.set_nodes(cfg.nodes)
    out = sys.stdout
    for key in args:
        out.write(f"{key}\t{router.pick(wire_key(key), 0.0)}\n")
    out.flush()
    return 0
