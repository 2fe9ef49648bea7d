"""Flags and config of request routing: the placement policy and its parameters (docs/routing.md).

The parameters' defaults are ``policy.Params``'s and the policy names are the keys of
``policies.POLICIES``, so that the proxy, ``fnlb route`` and the simulator agree on them.
(Importing the policies is cheap: the routing package is pure Python, no event loop.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fnlb.config.flags import Flag, boolean, choice, duration, integer, number
from fnlb.config.typed import Config
from fnlb.routing.policies import POLICIES as _POLICY_CLASSES
from fnlb.routing.policy import Params

POLICIES = tuple(_POLICY_CLASSES)  # the --policy names (each policy class's ``name``), in help order


@dataclass(frozen=True)
class RoutingConfig(Config):
    """What ``router.build_router`` takes, plus the proxy's wait-header switch."""

    policy: str = "default"
    params: Params = field(default_factory=Params)  # filled from the same flags (their names are its fields)
    expose_wait_header: bool = False


_C = RoutingConfig()
_D = _C.params

FLAGS = [
    Flag("policy", _C.policy, f"placement policy: {', '.join(POLICIES)}", choice(*POLICIES), "NAME"),
    Flag("bounded-factor", _D.bounded_factor, "load bound of --policy bounded, as a multiple of the mean",
         number(1.0), "X"),
    Flag("expose-wait-header", _C.expose_wait_header, "pass the nodes' XXX-FXLB-WAIT header on to clients",
         boolean, is_bool=True),
    Flag("wait-table-size", _D.wait_table_size,
         "(node, function) wait averages kept; least recently updated are evicted", integer(1), "N"),
    Flag("wait-grace", _D.wait_grace, "a wait average counts in full this long after its last sample",
         duration, "DURATION"),
    Flag("wait-fade", _D.wait_fade, "then fades linearly to nothing over this long (stale waits stop repelling)",
         duration, "DURATION"),
    Flag("warm-window", _D.warm_window,
         "default policy: how long an idle container is counted on after its last call (the nodes' idle "
         "timeout, or a little below)", duration, "DURATION"),
    Flag("warm-factor", _D.warm_factor,
         "default policy: a node holding more containers than this multiple of the mean (plus one) gets no "
         "new ones", number(0.5), "X"),
    Flag("cold-wait", _D.cold_wait, "a reported wait this long or longer was a cold start: for the default "
         "policy's container estimate and for the cold-start counts of /1/lb/stats, /metrics and the dashboard "
         "(set it below the nodes' cold start and above their queue waits)", duration, "DURATION"),
    Flag("spill-wait", _D.spill_wait, "default and sticky policies: a function whose wait on a node is above "
         "this is sent elsewhere", duration, "DURATION"),
    Flag("spill-wait-max", _D.spill_wait_max,
         "sticky policy: at this wait or more the node keeps only --spill-keep of the function's traffic",
         duration, "DURATION"),
    Flag("spill-keep", _D.spill_keep, "sticky policy: share of traffic a slow node still gets (probes it)",
         number(0.0, 1.0), "P"),
    Flag("spill-gain", _D.spill_gain,
         "sticky policy: a slow node's traffic moves only to a node whose expected wait is this many "
         "times lower", number(1.0), "X"),
    Flag("load-factor", _D.load_factor,
         "sticky policy: a node with more requests in flight than this multiple of the mean is skipped",
         number(1.0), "X"),
    Flag("load-floor", _D.load_floor, "default and sticky policies: a node with fewer containers (default) or requests in flight "
         "(sticky) than this is never skipped for load",
         integer(1), "N"),
    Flag("hot-window", _D.hot_window,
         "sticky policy: a function's peak in-flight count on a node counts as its hot containers there this long "
         "(near the nodes' idle timeout or below; 0 turns hot-container tracking off)", duration, "DURATION"),
    Flag("hot-factor", _D.hot_factor,
         "sticky policy: a node still takes calls that find an idle hot container up to this multiple of "
         "the --load-factor bound", number(1.0), "X"),
]
