"""``fnlb demo`` (and ``make demo``): the balancer in front of simulated nodes under a scripted load."""

from __future__ import annotations

from fnlb.config.flags import Flag, choice, duration, integer, number
from fnlb.routing.options import POLICIES, RoutingConfig

SUMMARY = """Run the balancer in front of simulated nodes under a scripted load.

Scenario: a steady mix of functions, then one function turns hot, its wait rises, it
spills onto other nodes, cools down and returns home. Prints the dashboard URL, then one
status line per second (rate, p99, errors, cold starts, the hot function's wait, node
shares, spilling functions). Everything runs in this process on free ports of 127.0.0.1;
Ctrl-C stops it cleanly. See docs/simulator.md."""
FLAGS = [
    Flag("duration", 120.0, "length of the whole scenario (the phases scale with it)", duration, "DURATION"),
    Flag("count", 3, "number of simulated nodes", integer(1, 50), "N"),
    Flag("rate", 20.0, "requests per second of the steady background mix", number(0.0), "PER_SECOND"),
    Flag("hot-rate", 70.0, "peak requests per second of the function that turns hot", number(0.0), "PER_SECOND"),
    Flag("policy", RoutingConfig().policy, "the balancer's placement policy", choice(*POLICIES), "NAME"),
    Flag("seed", 0, "seed of the load and the nodes; 0 = from the clock", integer(0), "N"),
]


def run(cfg, args) -> int:
    from fnlb.sim.demo import main

    return main(cfg)
