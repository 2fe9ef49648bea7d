"""The placement simulator's figures: one row of numbers per (scenario, policy) run, a
Markdown table of them, and SVG plots.

Theory of operation
-------------------
:func:`row` reduces an :class:`fnlb.sim.des.Outcome` to the figures the docs compare:
latency and wait percentiles (nearest rank, the same ``percentile`` as ``fnlb load``),
cold starts (the nodes' count, and fnlb's: the answered calls whose wait was ``--cold-wait``
or longer, ``fnlb.observability.stats.is_cold``, as ``fnlb serve`` counts them), evictions, node utilisation (mean over nodes, and the busiest node, each a
node's busy slot-seconds over its slot-seconds while up), the share of requests spilled
off their key's primary, the share of keys whose main node changed across a cluster
change, and errors. :func:`table` prints rows as Markdown.

The ``pooled`` row (:func:`fnlb.sim.scenarios.run_pooled`: one node, no balancer) has no
key primary to spill from and no node changes, so :func:`row` gives it ``"-"`` in those
two columns (``balanced=False``), and :func:`table` prints a text cell as it is; the plots
draw it dashed, as the reference it is.

:func:`plots` draws with matplotlib, which is an optional extra (``pip install
'fnlb[sim]'``); it is imported only there, and :class:`PlotsUnavailable` says how to get
it when it is missing. The Agg backend is forced so plotting never needs a display. The
SVGs keep their text as text (no embedded glyphs) and carry no date and fixed ids, so the
same run writes the same bytes and the files stay small enough to commit.
"""

from __future__ import annotations

import os
from typing import Sequence

from fnlb.observability.stats import is_cold
from fnlb.routing.policy import Params
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
    ("cold counted", "cold_counted", "{}"),
    ("evictions", "evictions", "{}"),
    ("util mean", "util_mean", "{:.0%}"),
    ("util peak", "util_peak", "{:.0%}"),
    ("spilled", "spilled", "{:.1%}"),
    ("keys moved", "moved", "{}"),
    ("errors", "errors", "{}"),
]


def row(policy: str, out: Outcome, balanced: bool = True, cold_wait: float = Params.cold_wait) -> dict:
    """The figures of one run; ``balanced=False`` for a run behind no balancer (``pooled``).
    ``cold_counted`` is fnlb's count of cold starts from the reported waits (``cold_wait``)."""
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
        "cold_counted": sum(1 for w in out.wait if is_cold(w, cold_wait)),
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

    # Small, reproducible SVGs: text stays text, ids come from a fixed salt, no date.
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "fnlb-simulate",
                                "font.size": 9})
    return plt


SVG_META = {"Date": None, "Creator": "fnlb simulate (matplotlib)"}


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
    """Write ``<scenario>-bars.svg`` (p99 and cold starts per policy, the pooled floor as a
    dashed line across each) and ``<scenario>-p99.svg`` (p99 over time per policy, the
    floor dashed) into ``directory``; returns the paths."""
    plt = _pyplot()
    os.makedirs(directory, exist_ok=True)
    paths = [os.path.join(directory, f"{scenario}-bars.svg"), os.path.join(directory, f"{scenario}-p99.svg")]

    from matplotlib.ticker import FuncFormatter

    _plain = FuncFormatter(lambda v, _: f"{v:,.0f}")                       # 1,000 rather than 10^3
    _plain_minor = FuncFormatter(lambda v, _: f"{v:,.0f}" if str(round(v))[0] in "25" else "")
    floor = next((r for r in rows if r["policy"] == POOLED), None)
    policies = [r for r in rows if r["policy"] != POOLED]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    names = [r["policy"] for r in policies]
    for ax, key, title, color, fmt in ((axes[0], "p99", "p99 latency (ms, log)", "tab:blue", "{:.0f}"),
                                       (axes[1], "cold_starts", "cold starts (log)", "tab:orange", "{:,}")):
        values = [max(r[key], 1e-3) for r in policies]
        bars = ax.bar(names, values, color=color)
        ax.bar_label(bars, labels=[fmt.format(round(r[key])) for r in policies], fontsize=7, padding=1)
        if floor is not None:
            ax.axhline(max(floor[key], 1e-3), color="black", linestyle="--", linewidth=1)
            ax.text(1.0, max(floor[key], 1e-3), f" pooled floor\n {fmt.format(round(floor[key]))}",
                    transform=ax.get_yaxis_transform(), va="center", fontsize=7)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_plain)
        ax.yaxis.set_minor_formatter(_plain_minor)
        ax.set_title(title)
        ax.tick_params(axis="x", rotation=30, labelsize=8)
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(f"fnlb simulate --scenario {scenario}")
    fig.tight_layout()
    fig.savefig(paths[0], format="svg", metadata=SVG_META)
    plt.close(fig)

    step = max(1.0, max((o.end_time for o in outcomes.values()), default=1.0) / 100)
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for policy, out in outcomes.items():
        xs, ys = timeline(out, step)
        # The pooled floor is a reference, not a contender: dashed, in black.
        style = dict(color="black", linestyle="--") if policy == POOLED else {}
        ax.plot(xs, [round(y, 1) for y in ys], label=policy, linewidth=1.1, **style)
    for t, label in marks:
        ax.axvline(t, color="grey", linestyle=":", linewidth=1)
        ax.text(t, 1.0, f" {label}", transform=ax.get_xaxis_transform(), va="top", fontsize=7, color="grey")
    ax.set_yscale("log")
    ax.set_xlabel("virtual time (s)")
    ax.set_ylabel(f"p99 latency per {step:.0f} s (ms, log)")
    ax.set_title(f"fnlb simulate --scenario {scenario}: p99 latency over time")
    ax.legend(fontsize=7, ncol=4)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    fig.savefig(paths[1], format="svg", metadata=SVG_META)
    plt.close(fig)
    return paths
