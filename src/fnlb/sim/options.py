"""Flags shared by ``fnlb sim-node`` and ``fnlb sim-cluster``: the node model and its fault knobs."""

from __future__ import annotations

from fnlb.cli.flags import Flag, choice, duration, integer, number
from fnlb.sim.model import ON_BUSY

MODEL_FLAGS = [
    Flag("slots", 8, "execution slots (containers that fit in memory at once)", integer(1), "N"),
    Flag("idle-timeout", 30.0, "how long an idle hot container stays warm for its route", duration, "DURATION"),
    Flag("cold-start", 0.3, "time to start a new container (paid when no hot one of the route is idle)",
         duration, "DURATION"),
    Flag("on-busy", "cold", "with no idle container of the called function: cold = start one at once "
         "(evicting another function's least recently used idle one when the slots are full); queue = "
         "wait for a busy one of that function when it frees sooner than a cold start would take",
         choice(*ON_BUSY), "KIND"),
    Flag("exec", 0.05, "execution time of a call without ?ms=N", duration, "DURATION"),
    Flag("fail-rate", 0.0, "fraction of calls answered 500 after running (fault tests)", number(0.0, 1.0), "X"),
    Flag("slow", 0.0, "extra delay added to every function and /version response (fault tests)",
         duration, "DURATION"),
    Flag("version-string", "0.3.700", "what GET /version reports", str, "X.Y.Z"),
    Flag("seed", 0, "seed of the random choices (--fail-rate); 0 = from the clock", integer(0), "N"),
]

ENDPOINTS_HELP = """
Endpoints of a simulated node (any method):
  /r/<app>/<route>[?ms=N]  run the function; ms = its execution time in milliseconds
                           (default --exec). Answers JSON {"node", "function", "cold",
                           "wait", "exec"} (seconds) and the header XXX-FXLB-WAIT (the
                           measured wait as a Go duration: queueing + cold start).
  /version                 {"version": --version-string}
  /stats                   calls, cold_starts, queue, queued_hot, busy, containers, hot per route
  anything else            404 JSON"""


def node_kwargs(cfg, rng) -> dict:
    """SimNode keyword arguments from the parsed MODEL_FLAGS."""
    return dict(slots=cfg.slots, idle_timeout=cfg.idle_timeout, cold_start=cfg.cold_start,
                on_busy=cfg.on_busy, exec_s=cfg.exec, fail_rate=cfg.fail_rate, slow=cfg.slow,
                version=cfg.version_string, rng=rng)


def make_rng(seed: int):
    import random

    return random.Random(seed or None)
