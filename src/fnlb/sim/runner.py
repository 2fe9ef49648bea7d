"""Run simulated nodes in the foreground until SIGINT/SIGTERM (sim-node and sim-cluster)."""

from __future__ import annotations

import asyncio
import signal
import sys

from fnlb.sim.node_server import SimNode
from fnlb.sim.options import SimNodeConfig, make_rng


async def serve_nodes(cfg: SimNodeConfig, listens: list[tuple[tuple[str, int], str]]) -> None:
    rng = make_rng(cfg.seed)
    nodes = []
    try:
        for (host, port), name in listens:
            node = SimNode(cfg, rng=rng, name=name)
            nodes.append(node)
            print(await node.start(host, port), flush=True)  # scripts read these lines
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        for node in nodes:
            await node.close()


def run_nodes(cfg: SimNodeConfig, listens) -> int:
    import uvloop

    try:
        uvloop.run(serve_nodes(cfg, listens))
    except OSError as exc:  # typically: address already in use
        print(f"fnlb: cannot listen: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
