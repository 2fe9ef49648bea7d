"""Every user-visible flag and management endpoint is documented (README.md or docs/)."""

import importlib
import pathlib
import re

import pytest

from fnlb.cli import COMMANDS
from fnlb.config.flags import parse

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_flag_is_documented(command):
    module = importlib.import_module(COMMANDS[command])
    missing = [f.name for f in module.FLAGS if not re.search(rf"--{re.escape(f.name)}\b", DOCS)]
    assert not missing, f"fnlb {command}: undocumented flags {missing}"


def test_every_management_endpoint_is_documented():
    from fnlb.app import Balancer
    from fnlb.cli.serve import FLAGS

    cfg, _ = parse(FLAGS, ["--listen", "127.0.0.1:0", "--mgmt-listen", "127.0.0.1:0"], env={})
    paths = Balancer(cfg).mgmt._routes
    assert "/1/lb/nodes" in paths and "/metrics" in paths
    missing = [p for p in paths if p not in DOCS]
    assert not missing, f"undocumented endpoints {missing}"


# -- the flag tables of README.md ---------------------------------------------------------
# README.md's "Flags of `fnlb serve`" tables are rendered from the flag definitions, one
# table per concern, so a changed default or help text cannot drift from the docs.
# Regenerate them with:  .venv/bin/python tests/cli/test_docs.py

def _serve_flag_groups():
    from fnlb.nodes.options import FLAGS as NODES
    from fnlb.observability.options import FLAGS as OBSERVABILITY
    from fnlb.proxy.options import FLAGS as PROXY
    from fnlb.routing.options import FLAGS as ROUTING
    from fnlb.workers.options import FLAGS as WORKERS

    return [("Traffic, timeouts and limits", PROXY), ("Routing", ROUTING),
            ("Nodes, health checks, failover, access", NODES), ("Stats, metrics, logs", OBSERVABILITY),
            ("Processes", WORKERS)]


def _default_cell(flag) -> str:
    from fnlb.config.flags import duration
    from fnlb.config.goduration import format_seconds

    d = flag.default
    if flag.is_bool:
        return "`on`" if d else "`off`"
    if d in ("", None, []):
        return ""
    if flag.convert is duration or flag.metavar == "DURATION":
        d = format_seconds(d)
    elif isinstance(d, list):
        d = ",".join(d)
    elif isinstance(d, tuple):
        d = f"{d[0]}:{d[1]}"
    return f"`{d}`"


def flag_row(flag) -> str:
    head = f"`--{flag.name}`" + ("" if flag.is_bool else f" {flag.metavar}")
    return f"| {head} | {_default_cell(flag)} | {flag.help.replace('|', '&#124;')} |"


def flag_tables() -> str:
    parts = []
    for title, flags in _serve_flag_groups():
        rows = "\n".join(flag_row(f) for f in flags)
        parts.append(f"**{title}**\n\n| flag | default | meaning |\n|---|---|---|\n{rows}\n")
    return "\n".join(parts)


def test_readme_flag_tables_match_the_flags():
    readme = (ROOT / "README.md").read_text()
    stale = [flag_row(f) for _, flags in _serve_flag_groups() for f in flags if flag_row(f) not in readme]
    assert not stale, "README.md flag rows out of date (regenerate: python tests/cli/test_docs.py):\n" + "\n".join(stale)


if __name__ == "__main__":
    print(flag_tables(), end="")
