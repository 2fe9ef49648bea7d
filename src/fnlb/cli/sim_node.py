"""``fnlb sim-node``: one simulated function node (see docs/simulator.md)."""

from __future__ import annotations

from fnlb.config.flags import Flag, listen_address
from fnlb.sim.options import ENDPOINTS_HELP, MODEL_FLAGS, SimNodeConfig

SUMMARY = "Run a simulated Fn function node (slots, hot containers, cold starts, a queue).\n" + ENDPOINTS_HELP
FLAGS = [
    Flag("listen", ("127.0.0.1", 8080), "address to serve on (port 0 = a free port; the address is "
         "printed on the first line of output)", listen_address, "ADDR"),
    Flag("name", "", "the node name reported in responses (default: the bound host:port)", str, "NAME"),
    *MODEL_FLAGS,
]


def run(cfg, args) -> int:
    from fnlb.sim.runner import run_nodes

    return run_nodes(SimNodeConfig.from_namespace(cfg), [(cfg.listen, cfg.name)])
