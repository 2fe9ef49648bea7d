"""bench/results.py: a re-run replaces only its own block and keeps the analysis around it."""

import importlib.util
import pathlib

BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench"
spec = importlib.util.spec_from_file_location("bench_results", BENCH / "results.py")
results = importlib.util.module_from_spec(spec)
spec.loader.exec_module(results)


def test_first_write_goes_under_the_heading_and_keeps_the_prose(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\n## Proxy\n\nAnalysis.\n\n## Soak\n\nMore.\n")
    results.write_block("Proxy", "proxy", "| run 1 |\n", str(path))
    assert path.read_text() == ("# Benchmark results\n\n## Proxy\n\n<!-- bench/proxy:begin -->\n| run 1 |\n"
                                "<!-- bench/proxy:end -->\n\nAnalysis.\n\n## Soak\n\nMore.\n")


def test_rerun_replaces_only_the_block(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# B\n\n## Proxy\n\nBefore.\n<!-- bench/proxy:begin -->\nold\n<!-- bench/proxy:end -->\nAfter.\n")
    results.write_block("Proxy", "proxy", "new\n", str(path))
    assert path.read_text() == "# B\n\n## Proxy\n\nBefore.\n<!-- bench/proxy:begin -->\nnew\n<!-- bench/proxy:end -->\nAfter.\n"


def test_missing_section_and_missing_file(tmp_path):
    path = tmp_path / "RESULTS.md"
    results.write_block("Soak", "soak", "numbers", str(path))
    assert path.read_text() == "# Benchmark results\n\n## Soak\n\n<!-- bench/soak:begin -->\nnumbers\n<!-- bench/soak:end -->\n"
