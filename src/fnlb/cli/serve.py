"""``fnlb serve`` (the default command): run the balancer."""

from __future__ import annotations

from fnlb.cli.flags import CONFIG_FLAG
from fnlb.nodes.options import FLAGS as NODE_FLAGS
from fnlb.observability.options import FLAGS as OBSERVABILITY_FLAGS
from fnlb.proxy.options import FLAGS as PROXY_FLAGS
from fnlb.routing.options import FLAGS as ROUTING_FLAGS

SUMMARY = "Run the load balancer in front of function nodes."
FLAGS = [CONFIG_FLAG, *PROXY_FLAGS, *ROUTING_FLAGS, *NODE_FLAGS, *OBSERVABILITY_FLAGS]


# The original read LOG_LEVEL; it still works, below FNLB_LOG_LEVEL and the flag.
ENV_ALIASES = {"LOG_LEVEL": "FNLB_LOG_LEVEL"}


def run(cfg, args) -> int:
    from fnlb.app import run_balancer  # heavy imports only once we really serve

    return run_balancer(cfg)
