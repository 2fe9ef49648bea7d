"""``fnlb sim-cluster``: N simulated function nodes in one process (see docs/simulator.md)."""

from __future__ import annotations

from fnlb.config.flags import Flag, integer
from fnlb.sim.options import ENDPOINTS_HELP, MODEL_FLAGS, SimNodeConfig

SUMMARY = "Run N simulated function nodes on consecutive ports; prints one address per line.\n" + ENDPOINTS_HELP
FLAGS = [
    Flag("count", 3, "number of nodes", integer(1, 1000), "N"),
    Flag("host", "127.0.0.1", "interface to listen on", str, "HOST"),
    Flag("base-port", 0, "port of the first node, the others follow (0 = free ports)", integer(0, 65535), "PORT"),
    *MODEL_FLAGS,
]


def run(cfg, args) -> int:
    from fnlb.config.flags import UsageError
    from fnlb.sim.runner import run_nodes

    if cfg.base_port and cfg.base_port + cfg.count - 1 > 65535:
        raise UsageError("--base-port + --count goes beyond port 65535")
    ports = [cfg.base_port + i if cfg.base_port else 0 for i in range(cfg.count)]
    return run_nodes(SimNodeConfig.from_namespace(cfg), [((cfg.host, port), "") for port in ports])
