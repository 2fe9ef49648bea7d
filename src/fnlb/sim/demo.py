"""``fnlb demo``: three simulated nodes, the balancer in front, and a scripted load.

Everything runs in this one process and event loop, on free ports of 127.0.0.1, so the
demo leaves nothing behind. Once a second it prints what a person watching should see:
throughput, p99 latency, each node's share, the hot function's wait and which functions
are spread over several nodes ("spilling"). The scenario is in :mod:`fnlb.sim.scenario`.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
import time

from fnlb.sim.load import LoadGenerator, Target
from fnlb.sim.node_server import SimNode
from fnlb.sim.options import SimNodeConfig
from fnlb.sim.scenario import DemoScenario
from fnlb.sim.summary import format_text, ms, spilling, summarize

NODE_SETTINGS = SimNodeConfig(slots=8, idle_timeout=10.0, cold_start=0.4, exec=0.05)
STOP_DRAIN = 2.0     # seconds in-flight requests get after Ctrl-C
ONLINE_TIMEOUT = 10.0


def say(line: str = "") -> None:
    print(line, flush=True)  # flushed: the demo is often piped (make, tee, tests)


async def start_balancer(nodes: list[str], policy: str):
    from fnlb.app import Balancer
    from fnlb.config.flags import parse
    from fnlb.config.serve import FLAGS, ServeConfig
    from fnlb.observability.logs import setup_logging

    ns, _ = parse(FLAGS, ["--listen", "127.0.0.1:0", "--mgmt-listen", "127.0.0.1:0",
                          "--nodes", ",".join(nodes), "--hc-interval", "500ms", "--policy", policy,
                          "--shutdown-timeout", "2s", "--log-level", "warning"], env={})
    cfg = ServeConfig.from_namespace(ns)
    setup_logging(cfg.observability)
    balancer = Balancer(cfg)
    await balancer.start()
    return balancer


async def wait_online(balancer, count: int) -> bool:
    deadline = time.monotonic() + ONLINE_TIMEOUT
    while time.monotonic() < deadline:
        states = balancer.registry.snapshot()
        if sum(1 for s in states.values() if s == "online") >= count:
            return True
        await asyncio.sleep(0.05)
    return False


def status_line(elapsed: float, phase: str, window: list, names: dict[str, str], hot_path: str) -> str:
    s = summarize(window, 1.0)
    shares = " ".join(f"{names.get(n, n)} {share:3.0%}" for n, share in s["nodes"].items())
    hot_waits = [r.wait for r in window if r.path == hot_path and r.wait is not None]
    hot_wait = ms(sum(hot_waits) / len(hot_waits)) if hot_waits else "-"
    spills = spilling(window)
    spill_text = ", ".join(f"{p} on {len(n)}" for p, n in spills.items()) or "none"
    return (f"{elapsed:5.0f}s {phase:<8} {s['throughput']:4.0f} req/s  p99 {ms(s['latency']['p99']):>7}  "
            f"err {s['errors']:<3} cold {s['cold_starts']:<3} hot wait {hot_wait:>7}  "
            f"nodes: {shares or '-'}  spilling: {spill_text}")


async def report(gen: LoadGenerator, scenario: DemoScenario, names: dict[str, str]) -> None:
    seen = 0
    tick = 1
    while True:
        await asyncio.sleep(max(0.0, gen.started_at + tick - time.monotonic()))
        window = gen.results[seen:]
        seen += len(window)
        say(status_line(tick, scenario.phase(tick), window, names, scenario.hot_path))
        tick += 1


async def run_demo(cfg) -> int:
    loop = asyncio.get_running_loop()
    gen: LoadGenerator | None = None
    stopping = False

    def on_signal() -> None:
        nonlocal stopping
        stopping = True
        if gen is not None:
            gen.stop(STOP_DRAIN)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)

    rng = random.Random(cfg.seed or None)
    nodes = [SimNode(NODE_SETTINGS, rng=rng) for _ in range(cfg.count)]
    balancer = None
    try:
        for node in nodes:
            await node.start("127.0.0.1", 0)
        balancer = await start_balancer([n.address for n in nodes], cfg.policy)
        mhost, mport = balancer.server.mgmt_address[:2]
        thost, tport = balancer.server.traffic_address[:2]
        say(f"fnlb demo: dashboard http://127.0.0.1:{mport}/1/lb/dash")
        say(f"  balancer http://127.0.0.1:{tport} (policy {cfg.policy}), {len(nodes)} simulated nodes:")
        names = {n.address: f"n{i}" for i, n in enumerate(sorted(nodes, key=lambda n: n.address), 1)}
        for addr, name in names.items():
            say(f"  {name} = {addr}")
        scenario = DemoScenario(cfg.duration, base_rate=cfg.rate, hot_rate=cfg.hot_rate)
        say(f"  scenario over {cfg.duration:g}s: steady mix of {len(scenario.paths)} functions at "
            f"{cfg.rate:g}/s; then {scenario.hot_path} heats up to {cfg.hot_rate:g}/s, spills, cools, returns")
        if not await wait_online(balancer, len(nodes)):
            say("  warning: not every node passed its health check yet")
        if stopping:
            return 0
        gen = LoadGenerator(Target(f"http://127.0.0.1:{tport}"), scenario.rate, scenario.choose, rng,
                            connections=1024, timeout=10.0)
        reporter = asyncio.ensure_future(report(gen, scenario, names))
        try:
            results = await gen.run(cfg.duration)
        finally:
            reporter.cancel()
        say()
        say("summary:")
        sys.stdout.write(format_text(summarize(results, gen.elapsed or 1.0, gen.sent)))
        say("spilled functions over the run: " + (", ".join(spilling(results)) or "none"))
    finally:
        if balancer is not None:
            await balancer.shutdown()
        for node in nodes:
            await node.close()
    return 0


def main(cfg) -> int:
    import uvloop

    return uvloop.run(run_demo(cfg))
