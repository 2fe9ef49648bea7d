"""Flags of request routing: the placement policy and its parameters (docs/routing.md).

Defaults come from ``policy.Params`` so that the proxy, ``fnlb route`` and the simulator
agree on them.
"""

from fnlb.cli.flags import Flag, boolean, choice, duration, integer, number
from fnlb.routing.policy import Params

POLICIES = ("default", "seed", "consistent", "round-robin", "least-loaded", "bounded")
_D = Params()

FLAGS = [
    Flag("policy", "default", f"placement policy: {', '.join(POLICIES)}", choice(*POLICIES), "NAME"),
    Flag("bounded-factor", _D.bounded_factor, "load bound of --policy bounded, as a multiple of the mean",
         number(1.0), "X"),
    Flag("expose-wait-header", False, "pass the nodes' XXX-FXLB-WAIT header on to clients", boolean, is_bool=True),
    Flag("wait-table-size", _D.wait_table_size,
         "(node, function) wait averages kept; least recently updated are evicted", integer(1), "N"),
    Flag("wait-grace", _D.wait_grace, "a wait average counts in full this long after its last sample",
         duration, "DURATION"),
    Flag("wait-fade", _D.wait_fade, "then fades linearly to nothing over this long (stale waits stop repelling)",
         duration, "DURATION"),
    Flag("spill-wait", _D.spill_wait, "default policy: a function waiting up to this long stays on its node",
         duration, "DURATION"),
    Flag("spill-wait-max", _D.spill_wait_max,
         "default policy: at this wait or more the node keeps only --spill-keep of the function's traffic",
         duration, "DURATION"),
    Flag("spill-keep", _D.spill_keep, "default policy: share of traffic a slow node still gets (probes it)",
         number(0.0, 1.0), "P"),
    Flag("spill-gain", _D.spill_gain,
         "default policy: a slow node's traffic moves only to a node whose expected wait is this many "
         "times lower", number(1.0), "X"),
    Flag("load-factor", _D.load_factor,
         "default policy: a node with more requests in flight than this multiple of the mean is skipped",
         number(1.0), "X"),
    Flag("load-floor", _D.load_floor, "default policy: a node with fewer requests in flight than this is never skipped for load "
         "(set it near a node's concurrency)",
         integer(1), "N"),
    Flag("hot-window", _D.hot_window,
         "default policy: a function's peak in-flight count on a node counts as its hot containers there this long "
         "(near the nodes' idle timeout or below; 0 turns hot-container tracking off)", duration, "DURATION"),
    Flag("hot-factor", _D.hot_factor,
         "default policy: a node still takes calls that find an idle hot container up to this multiple of "
         "the --load-factor bound", number(1.0), "X"),
]
