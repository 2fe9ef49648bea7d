"""``fnlb simulate``: compare placement policies in a discrete-event simulation (docs/placement.md).

Runs the real routing policies (``fnlb.routing``) against the real node model
(``fnlb.sim.model``) in virtual time; see ``fnlb.sim.des`` for the engine and
``fnlb.sim.scenarios`` for the presets. Prints one Markdown table per scenario (a row per
policy, then always a ``pooled`` row: the same load on one node holding every slot of the
cluster, no balancer, the floor placement is judged against) and the simulation rate;
``--plots DIR`` also writes SVG plots (needs matplotlib: ``pip install 'fnlb[sim]'``).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

from fnlb.config.flags import Flag, UsageError, choice, duration, integer, number
from fnlb.config.typed import from_namespace
from fnlb.routing.options import FLAGS as ROUTING_FLAGS
from fnlb.routing.options import POLICIES
from fnlb.sim.options import MODEL_FLAGS
from fnlb.sim.scenarios import POOLED, SCENARIOS, STANDARD, Model

_M = Model()
_MODEL = {f.name: f for f in MODEL_FLAGS}
_ON_BUSY = {"cold": "cold-start", "queue": "queue"}  # --on-busy in the scenario's header line

SUMMARY = ("Simulate balancers and function nodes in virtual time and compare placement policies:\n"
           "prints a Markdown table per scenario (latency and wait percentiles, cold starts, ...).\n"
           "Scenarios (--scenario):\n" + "\n".join(f"  {s.name:<10} {s.summary}" for s in SCENARIOS.values()))

FLAGS = [
    Flag("scenario", STANDARD, "scenario preset, or all", choice(*SCENARIOS, "all"), "NAME"),
    Flag("policy", "all", "placement policy to simulate, or all: " + ", ".join(POLICIES),
         choice(*POLICIES, "all"), "NAME"),
    Flag("nodes", None, "nodes in the cluster (default: the scenario's, 10)", integer(1), "N"),
    Flag("balancers", None, "balancers sharing the cluster, each with its own policy state "
         "(default: the scenario's, 1 or 4)", integer(1), "B"),
    Flag("functions", None, "distinct functions (routing keys) (default: the scenario's, 100)", integer(1), "F"),
    Flag("requests", None, "requests to simulate per policy (default: the scenario's, 200000)", integer(1), "R"),
    Flag("load", None, "mean offered load as a fraction of the cluster's capacity (default: the scenario's)",
         number(0.0), "X"),
    Flag("zipf", None, "popularity exponent: the function of rank r gets weight 1/r^s (default 1.0)",
         number(0.0), "S"),
    Flag("flash", None, "flash crowd rate on one function, in nodes' worth of capacity (default: the "
         "scenario's)", number(0.0), "X"),
    Flag("detect", None, "delay before balancers see a node change (default 3s)", duration, "DURATION"),
    Flag("warmup", None, "share of the run over which the rate ramps up from 0 (default 0.1; 0: full rate "
         "from the first request on empty nodes, like bench/placement)", number(0.0), "X"),
    Flag("workers", 1, "each balancer runs this many routing replicas that see each other's calls "
         "--sync-lag late, as fnlb serve --workers does", integer(1, 256), "N"),
    Flag("sync-lag", 0.001, "with --workers: how late a replica applies the other replicas' calls",
         duration, "DURATION"),
    Flag("seed", 1, "seed of the workload and of the policies' random choices", integer(0), "N"),
    Flag("plots", "", "write SVG plots per scenario into this directory: p99 and cold starts per policy with "
         "the pooled floor, p99 over time (needs matplotlib: pip install 'fnlb[sim]')",
         str, "DIR"),
    replace(_MODEL["slots"], default=_M.slots),
    replace(_MODEL["idle-timeout"], default=_M.idle_timeout),
    replace(_MODEL["cold-start"], default=_M.cold_start),
    replace(_MODEL["on-busy"], default=_M.on_busy),
    replace(_MODEL["exec"], default=_M.exec_median,
            help="median over functions of their median execution time"),
    Flag("exec-spread", _M.exec_spread, "log-normal sigma of the functions' median execution times",
         number(0.0), "SIGMA"),
    Flag("exec-jitter", _M.exec_jitter, "log-normal sigma of a call's execution time around its function's",
         number(0.0), "SIGMA"),
    *(f for f in ROUTING_FLAGS if f.name not in ("policy", "expose-wait-header")),
]


def _scenario(cfg, name: str):
    return SCENARIOS[name].with_overrides(
        nodes=cfg.nodes, balancers=cfg.balancers, functions=cfg.functions, requests=cfg.requests,
        load=cfg.load, zipf=cfg.zipf, flash=cfg.flash, detect=cfg.detect, warmup=cfg.warmup)


def _timed(label: str, simulate, *args):
    """Run one simulation; report its speed on stderr. Returns (outcome, seconds)."""
    t0 = time.perf_counter()
    out = simulate(*args)
    elapsed = time.perf_counter() - t0
    print(f"{label}: {out.arrived} requests in {elapsed:.1f} s "
          f"({out.arrived / elapsed:,.0f}/s)", file=sys.stderr, flush=True)
    return out, elapsed


def run(cfg, args) -> int:
    from fnlb.routing.policy import Params
    from fnlb.sim import report
    from fnlb.sim.scenarios import RETRIES, run_pooled
    from fnlb.sim.scenarios import run as simulate

    if cfg.plots:  # fail before minutes of simulation, not after
        try:
            report._pyplot()
        except report.PlotsUnavailable as exc:
            raise UsageError(str(exc)) from None
    names = list(SCENARIOS) if cfg.scenario == "all" else [cfg.scenario]
    policies = list(POLICIES) if cfg.policy == "all" else [cfg.policy]
    params = from_namespace(Params, cfg)
    model = Model(slots=cfg.slots, idle_timeout=cfg.idle_timeout, cold_start=cfg.cold_start,
                  on_busy=cfg.on_busy, exec_median=cfg.exec, exec_spread=cfg.exec_spread,
                  exec_jitter=cfg.exec_jitter)
    total_requests, total_time = 0, 0.0
    for name in names:
        sc = _scenario(cfg, name)
        own = replace(model, **{k: v for k, v in sc.model if getattr(model, k) == getattr(_M, k)})
        workload = sc.build(own, cfg.seed)
        rows, outcomes = [], {}
        runs = [(policy, simulate, (workload, policy, params, RETRIES, cfg.workers, cfg.sync_lag))
                for policy in policies]
        # Whatever --policy says, the floor comes last: it is what makes a policy's row readable.
        runs.append((POOLED, run_pooled, (workload,)))
        for label, sim, sim_args in runs:
            out, elapsed = _timed(f"{name}/{label}", sim, *sim_args)
            total_requests += out.arrived
            total_time += elapsed
            rows.append(report.row(label, out, balanced=label != POOLED, cold_wait=params.cold_wait))
            outcomes[label] = out
        print(f"### {name}: {sc.summary}\n")
        load = (f"{workload.base_rate:.0f} calls/s (hot function {sc.hot_rate:.0f}/s x "
                f"{sc.hot_exec * 1000:.0f} ms)" if sc.hot_rate else f"mean load {sc.load:.0%}")
        workers = (f" of {cfg.workers} workers (sync lag {cfg.sync_lag * 1000:g} ms)"
                   if cfg.workers > 1 else "")
        print(f"{len(workload.nodes)} nodes x {own.slots} slots, {sc.balancers} balancer(s){workers}, "
              f"{sc.functions} functions (Zipf {sc.zipf}), {sc.requests} requests over "
              f"{workload.duration:.0f} s virtual, {load}, cold start "
              f"{own.cold_start * 1000:.0f} ms, mean exec {workload.mean_exec * 1000:.0f} ms, "
              f"idle timeout {own.idle_timeout:.0f} s, nodes {_ON_BUSY[own.on_busy]} when busy, "
              f"seed {cfg.seed}\n")
        print(report.table(rows), flush=True)
        if cfg.plots:
            marks = [(c.t, c.action) for c in workload.changes]
            if workload.flash_rate:
                f0, f1 = sc.flash_window
                marks += [(f0 * workload.duration, "flash"), (f1 * workload.duration, "flash ends")]
            for path in report.plots(cfg.plots, name, outcomes, rows, marks):
                print(f"wrote {path}", file=sys.stderr)
    if total_time > 0:
        print(f"simulated {total_requests:,} requests in {total_time:.1f} s: "
              f"{total_requests / total_time:,.0f} requests/s", flush=True)
    return 0
