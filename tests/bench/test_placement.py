"""bench/placement's pure parts: the presets, the tables (with the pooled floor) and the
RESULTS.md line. The live run itself is the benchmark, not a test."""

import importlib.machinery
import importlib.util
import pathlib
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench"
loader = importlib.machinery.SourceFileLoader("bench_placement", str(BENCH / "placement"))
spec = importlib.util.spec_from_loader("bench_placement", loader)
placement = importlib.util.module_from_spec(spec)
sys.path.insert(0, str(BENCH))  # the script imports bench/results.py as `results`, as when run
try:
    loader.exec_module(placement)
finally:
    sys.path.remove(str(BENCH))


def row(p99_ms: float, cold: int, errors: int = 0, counted: int | None = None) -> dict:
    out = {"latency": {"p50": 0.05, "p99": p99_ms / 1000, "max": 0.4}, "errors": errors,
           "node_cold_starts": cold, "completed": 4200}
    if counted is not None:
        out["fnlb_cold_starts"] = counted
    return out


def test_default_setup_is_tight_and_pooled_runs_first():
    args = placement.parse_args([])
    assert (args.setup, args.slots, args.idle_timeout, args.warmup, args.duration) == ("tight", 16, "10s", "5s",
                                                                                       "30s")
    assert (args.rate, args.functions, args.zipf, args.exec) == (40.0, 20, 1.0, "50ms")
    assert (args.hot, args.on_busy, args.runs) == ("/r/app/hot:100:100ms", "cold", 1)
    assert args.names == ["pooled", "fnlb", "fnlb-seed", "haproxy", "nginx"]


def test_presets_and_explicit_flags_override_them():
    roomy = placement.parse_args(["--setup", "roomy"])
    assert (roomy.slots, roomy.idle_timeout, roomy.rate, roomy.zipf, roomy.hot, roomy.warmup) == (
        24, "30s", 320.0, 2.0, "", "10s")
    overfull = placement.parse_args(["--setup", "overfull", "--slots", "20", "--hot", "/r/a/h:5:1s"])
    assert (overfull.slots, overfull.rate, overfull.hot) == (20, 320.0, "/r/a/h:5:1s")
    assert placement.parse_args(["--hot", ""]).hot == ""  # explicitly none


@pytest.mark.parametrize("argv", [["--hot", "/r/a/h:0:1s"], ["--only", "pooled,traefik"], ["--runs", "0"],
                                  ["--idle-timeout", "soon"], ["--setup", "huge"]])
def test_bad_flags_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        placement.parse_args(argv)
    assert exc.value.code == 2


def test_table_compares_cold_starts_with_pooled_and_p99_with_fnlb():
    text = placement.table({"pooled": row(110, 20), "fnlb": row(120, 50, counted=49), "haproxy": row(360, 150)})
    lines = text.splitlines()
    assert "cold vs pooled" in lines[0] and "p99 vs fnlb" in lines[0] and "| fnlb counted |" in lines[0]
    assert lines[2].startswith("| pooled |") and lines[2].endswith("| 1.00x | 0.92x |")
    assert lines[3].endswith("| 50 | 49 | 4200 | 2.50x | 1.00x |")      # fnlb's own count beside the nodes'
    assert lines[4].endswith("| 150 | - | 4200 | 7.50x | 3.00x |")
    # without the reference rows (or a zero floor) the ratios are "-"
    assert placement.table({"haproxy": row(360, 150)}).splitlines()[2].endswith("| - | - |")
    assert placement.table({"pooled": row(50, 0), "fnlb": row(52, 3)}).splitlines()[3].endswith("| - | 1.00x |")


def test_several_runs_get_a_table_each_and_a_summary():
    runs = [{"pooled": row(p, c), "fnlb": row(p + 10, c * 2, errors=1, counted=c * 2 - k)}
            for k, (p, c) in enumerate([(100, 10), (300, 30), (200, 20)])]
    text = placement.report(runs)
    assert text.count("| balancer | p50 ms") == 3 and "Run 3 of 3:" in text
    summary = placement.summary_table(runs).splitlines()
    assert summary[2] == "| pooled | 3 | 100.0 / 200.0 / 300.0 | 10 / 20 / 30 | - | 0 |"
    assert summary[3] == "| fnlb | 3 | 110.0 / 210.0 / 310.0 | 20 / 40 / 60 | 0.950 / 1.000 | 3 |"
    assert placement.report(runs[:1]) == placement.table(runs[0])


def test_results_line_describes_the_setup():
    line = placement.describe(placement.parse_args([]))
    for part in ("16 slots", "idle timeout 10s", "--on-busy cold", "one node with all 64 slots",
                 "40/s of 20 functions, Zipf 1", "/r/app/hot at 100/s x 100 ms", "warm-up 5s", "30s measured"):
        assert part in line, part
    roomy = placement.describe(placement.parse_args(["--setup", "roomy", "--warmup", "0", "--runs", "3"]))
    assert "no hot function" in roomy and "no warm-up" in roomy and "3 runs" in roomy


def test_two_balancers_split_the_load_and_report_the_worse_half():
    args = placement.parse_args(["--only", "pooled,fnlb-x2,fnlb-sticky"])
    assert args.names == ["pooled", "fnlb-x2", "fnlb-sticky"]
    half = placement.load_argv("http://127.0.0.1:1", args, "30s", 11, 0.5)
    assert half[half.index("--rate") + 1] == "20.0"
    assert half[half.index("--hot") + 1] == "/r/app/hot:50:100ms"
    merged = placement.merge_summaries([row(102, 0, errors=1), row(150, 0)])
    assert merged["errors"] == 1 and merged["completed"] == 8400
    assert merged["latency"]["p99"] == 0.150
