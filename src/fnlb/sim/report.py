"""The placement simulator's figures: one row of numbers per (scenario, policy) run, a
Markdown table of them, and PNG plots.

Theory of operation
-------------------
:func:`row` reduces an :class:`fnlb.sim.des.Outcome` to the figures the docs compare:
latency and wait percentiles (nearest rank, the same ``percentile`` as ``fnlb load``),
cold starts, evictions, node utilisation (mean over nodes, and the busiest node, each a
node's busy slot-seconds over its slot-seconds while up), the share of requests spilled
off their key's primary, the share of keys whose main node changed across a cluster
change, and errors. :func:`table` prints rows as Markdown.

The ``pooled`` row (:func:`fnlb.sim.scenarios.run_pooled`: one node, no balancer) has no
key primary to spill from and no node changes, so :func:`row` gives it ``"-"`` in those
two columns (``balanced=False``), and :func:`table` prints a text cell as it is; the plots
draw it dashed, as the reference it is.

:func:`plots` draws with matplotlib, which is an optional extra (``pip install
'fnlb[sim]'``); it is imported only there, and :class:`PlotsUnavailable` says how to get
it when it is missing. The Agg backend is forced so plotting never needs a display.
"""

from __future__ import annotations

import os
from typing import Sequence

from fnlb.sim.des import Outcome
from fnlb.sim.scenarios import POOLED
from fnlb.sim.summary import percentile

COLUMNS = [
    # (header, row key, format)
    ("policy", "policy", "{}"),
    ("p50 ms", "p50", "{:.0f}"),
    ("p99 ms", "p99", "{:.0f}"),
    ("p99.9 ms", "p999", "{:.0f}"),
    ("wait p50 ms", "wait_p50", "{:.0f}"),
    ("wait p99 ms", "wait_p99", "{:.0f}"),
    ("wait p99.9 ms", "wait_p999", "{:.0f}"),
    ("cold starts", "cold_starts", "{}"),
    ("evictions", "evictions", "{}"),
    ("util mean", "util_mean", "{:.0%}"),
    ("util peak", "util_peak", "{:.0%}"),
    ("spilled", "spilled", "{:.1%}"),
    ("keys moved", "moved", "{}"),
    ("errors", "errors", "{}"),
]


def row(policy: str, out: Outcome, balanced: bool = True) -> dict:
    """The figures of one run; ``balanced=False`` for a run behind no balancer (``pooled``)."""
    lat = sorted(out.latency)
    wait = sorted(out.wait)
    utils = list(out.util_by_node.values())
    ms = 1000.0
    return {
        "policy": policy,
        "requests": out.arrived,
        "p50": percentile(lat, 50) * ms,
        "p99": percentile(lat, 99) * ms,
        "p999": percentile(lat, 99.9) * ms,
        "wait_p50": percentile(wait, 50) * ms,
        "wait_p99": percentile(wait, 99) * ms,
        "wait_p999": percentile(wait, 99.9) * ms,
        "cold_starts": out.cold_starts,
        "evictions": out.evictions,
        "util_mean": sum(utils) / len(utils) if utils else 0.0,
        "util_peak": max(utils) if utils else 0.0,
        "spilled": (out.spilled / out.arrived if out.arrived else 0.0) if balanced else "-",
        "moved": f"{out.moved}/{out.moved_of} ({out.moved / out.moved_of:.0%})"
                 if balanced and out.moved_of else "-",
        "errors": out.errors,
    }


def table(rows: Sequence[dict]) -> str:
    lines = ["| " + " | ".join(h for h, _, _ in COLUMNS) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(COLUMNS))) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(_cell(fmt, r[k]) for _, k, fmt in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def _cell(fmt: str, value) -> str:
    # A text value ("-": no such figure for this row) fits no number format.
    return value if isinstance(value, str) else fmt.format(value)


# -- plots ------------------------------------------------------------------------------

class PlotsUnavailable(RuntimeError):
    pass


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise PlotsUnavailable("--plots needs matplotlib: pip install 'fnlb[sim]'") from None
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    return plt


def timeline(out: Outcome, step: float = 1.0, p: float = 99) -> tuple[list[float], list[float]]:
    """(bucket start times, p-th percentile latency in ms of requests completed in each)."""
    buckets: dict[int, list[float]] = {}
    for t, lat in zip(out.done_at, out.latency):
        buckets.setdefault(int(t // step), []).append(lat)
    xs, ys = [], []
    for b in sorted(buckets):
        xs.append(b * step)
        ys.append(percentile(sorted(buckets[b]), p) * 1000.0)
    return xs, ys


def plots(directory: str, scenario: str, outcomes: dict[str, Outcome], rows: Sequence[dict],
          marks: Sequence[tuple[float, str]] = ()) -> list[str]:
    """Write ``<scenario>-p99.png`` (p99 over time per policy) and ``<scenario>-bars.png``
    (p99 and cold starts per policy) into ``directory``; returns the paths."""
    plt = _pyplot()
    os.makedirs(directory, exist_ok=True)
    paths = []
    step = max(1.0, max((o.end_time for o in outcomes.values()), default=1.0) / 200)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for policy, out in outcomes.items():
        xs, ys = timeline(out, step)
        # The pooled floor is a reference, not a contender: dashed, in black.
        style = dict(color="black", linestyle="--") if policy == POOLED else {}
        ax.plot(xs, ys, label=policy, linewidth=1.2, **style)
    for t, label in marks:
        ax.axvline(t, color="grey", linestyle=":", linewidth=1)
        ax.text(t, 1.0, f" {label}", transform=ax.get_xaxis_transform(), va="top", fontsize=8, color="grey")
    ax.set_yscale("log")
    ax.set_xlabel("virtual time (s)")
    ax.set_ylabel(f"p99 latency per {step:.0f} s (ms, log)")
    ax.set_title(f"fnlb simulate --scenario {scenario}: p99 latency over time")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    paths.append(os.path.join(directory, f"{scenario}-p99.png"))
    fig.tight_layout()
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    names = [r["policy"] for r in rows]
    ax1.bar(names, [r["p99"] for r in rows], color="tab:blue")
    ax1.set_yscale("log")
    ax1.set_title("p99 latency (ms, log)")
    ax2.bar(names, [r["cold_starts"] for r in rows], color="tab:orange")
    ax2.set_title("cold starts")
    for ax in (ax1, ax2):
        ax.tick_params(axis="x", rotation=30, labelsize=8)
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(f"fnlb simulate --scenario {scenario}")
    fig.tight_layout()
    paths.append(os.path.join(directory, f"{scenario}-bars.png"))
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    return paths
