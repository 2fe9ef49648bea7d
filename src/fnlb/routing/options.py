"""Flags of request routing: the placement policy and its parameters."""

from fnlb.cli.flags import Flag, boolean, choice, integer, number

POLICIES = ("default", "seed", "consistent", "round-robin", "least-loaded", "bounded")

FLAGS = [
    Flag("policy", "default", f"placement policy: {', '.join(POLICIES)}", choice(*POLICIES), "NAME"),
    Flag("bounded-factor", 1.25, "load bound of --policy bounded, as a multiple of the mean", number(1.0), "X"),
    Flag("expose-wait-header", False, "pass the nodes' XXX-FXLB-WAIT header on to clients", boolean, is_bool=True),
    Flag("wait-table-size", 100_000, "(node, function) wait averages kept; least recently used are evicted",
         integer(1), "N"),
]
