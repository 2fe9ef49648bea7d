"""``fnlb load``: open-loop load against a balancer or a node (see docs/simulator.md)."""

from __future__ import annotations

from fnlb.config.flags import Flag, boolean, csv_list, duration, integer, number

SUMMARY = """Send open-loop load (Poisson arrivals) and report latency, errors, cold starts, node shares.

Functions /r/APP/fn1..fnN are drawn from a Zipf distribution (or --paths), optionally with
one hot function on top (--hot); latency runs from each request's scheduled send time.
Prints p50/p90/p99/max latency, errors, cold starts and each node's share of the answers
(the last two read from sim-node bodies); --json prints one JSON object. See
docs/simulator.md."""


def _exec_mix(text: str):
    from fnlb.sim.load import parse_exec_mix

    parse_exec_mix(text)  # validate now, so a bad value is a usage error
    return text


def _hot(text: str):
    from fnlb.sim.load import parse_hot

    parse_hot(text)  # validate now, so a bad value is a usage error
    return text


FLAGS = [
    Flag("target", "http://127.0.0.1:8081", "base URL requests go to (a balancer or one node)", str, "URL"),
    Flag("rate", 100.0, "mean arrivals per second (Poisson; not slowed by slow responses)",
         number(0.001), "PER_SECOND"),
    Flag("duration", 10.0, "how long to send", duration, "DURATION"),
    Flag("functions", 10, "number of functions /r/APP/fn1../r/APP/fnN, drawn by Zipf", integer(1), "N"),
    Flag("zipf", 1.1, "Zipf exponent s: fn i has weight 1/i^s (0 = uniform)", number(0.0), "S"),
    Flag("app", "app", "the app part of the generated paths", str, "NAME"),
    Flag("paths", [], "explicit comma-separated paths instead of --functions (Zipf over the list order)",
         csv_list, "LIST"),
    Flag("exec-mix", "", "per-request execution times sent as ?ms=N, e.g. 20ms:80,200ms:20 "
         "(duration:weight); empty = the node's default", _exec_mix, "MIX"),
    Flag("hot", "", "one hot function on top of the mix: PATH:RATE:EXEC, an independent Poisson stream "
         "of RATE/s sent as PATH?ms=EXEC (e.g. /r/app/hot:100:100ms); empty = none", _hot, "PATH:RATE:EXEC"),
    Flag("connections", 256, "keep-alive connections at most; beyond, requests queue (and the wait counts)",
         integer(1), "N"),
    Flag("timeout", 10.0, "a request without a full response after this long is an error", duration, "DURATION"),
    Flag("seed", 0, "seed of arrivals and choices; 0 = from the clock", integer(0), "N"),
    Flag("json", False, "print one JSON object instead of the text report", boolean, is_bool=True),
]


def run(cfg, args) -> int:
    import asyncio
    import json
    import random
    import signal

    import uvloop

    from fnlb.config.flags import UsageError
    from fnlb.sim.load import LoadGenerator, Target, function_paths, parse_exec_mix, parse_hot, with_hot, zipf_chooser
    from fnlb.sim.summary import format_text, summarize

    try:
        target = Target(cfg.target)
    except ValueError as exc:
        raise UsageError(f"invalid value for --target: {exc}") from None
    paths = cfg.paths or function_paths(cfg.functions, cfg.app)
    hot = parse_hot(cfg.hot)
    # --rate is the mix's alone; the hot stream adds its own (see fnlb.sim.load.with_hot)
    total, choose = with_hot(cfg.rate, zipf_chooser(paths, cfg.zipf, parse_exec_mix(cfg.exec_mix)), hot)
    gen = LoadGenerator(target, lambda _: total, choose, random.Random(cfg.seed or None),
                        cfg.connections, cfg.timeout)

    async def main():
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, gen.stop, 2.0)  # in-flight requests get 2 s more
        results = await gen.run(cfg.duration)
        return summarize(results, gen.elapsed, gen.sent)

    summary = uvloop.run(main())
    summary.update(target=cfg.target, rate=cfg.rate)
    if hot:
        summary["hot"] = {"path": hot.path, "rate": hot.rate, "exec": hot.exec_ms / 1000}
    print(json.dumps(summary) if cfg.json else format_text(summary), end="\n" if cfg.json else "")
    return 0

