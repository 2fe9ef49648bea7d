"""Flags and config shared by ``fnlb sim-node`` and ``fnlb sim-cluster``: the node model and its
fault knobs. (``fnlb simulate`` reuses some of these flags with the defaults of its own
model, ``fnlb.sim.scenarios.Model``.)"""

from __future__ import annotations

from dataclasses import dataclass

from fnlb.config.flags import Flag, choice, duration, integer, number
from fnlb.config.typed import Config
from fnlb.sim.model import ON_BUSY


@dataclass(frozen=True)
class SimNodeConfig(Config):
    """What a ``SimNode`` is built with (durations in seconds)."""

    slots: int = 8
    idle_timeout: float = 30.0
    cold_start: float = 0.3
    on_busy: str = "cold"              # one of model.ON_BUSY
    exec: float = 0.05                 # a call without ?ms=N
    fail_rate: float = 0.0
    slow: float = 0.0
    version_string: str = "0.3.700"
    seed: int = 0                      # 0 = from the clock (make_rng)


_D = SimNodeConfig()

MODEL_FLAGS = [
    Flag("slots", _D.slots, "execution slots (containers that fit in memory at once)", integer(1), "N"),
    Flag("idle-timeout", _D.idle_timeout, "how long an idle hot container stays warm for its route",
         duration, "DURATION"),
    Flag("cold-start", _D.cold_start, "time to start a new container (paid when no hot one of the route is idle)",
         duration, "DURATION"),
    Flag("on-busy", _D.on_busy, "with no idle container of the called function: cold = start one at once "
         "(evicting another function's least recently used idle one when the slots are full); queue = "
         "wait for a busy one of that function when it frees sooner than a cold start would take",
         choice(*ON_BUSY), "KIND"),
    Flag("exec", _D.exec, "execution time of a call without ?ms=N", duration, "DURATION"),
    Flag("fail-rate", _D.fail_rate, "fraction of calls answered 500 after running (fault tests)",
         number(0.0, 1.0), "X"),
    Flag("slow", _D.slow, "extra delay added to every function and /version response (fault tests)",
         duration, "DURATION"),
    Flag("version-string", _D.version_string, "what GET /version reports", str, "X.Y.Z"),
    Flag("seed", _D.seed, "seed of the random choices (--fail-rate); 0 = from the clock", integer(0), "N"),
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


def make_rng(seed: int):
    import random

    return random.Random(seed or None)
