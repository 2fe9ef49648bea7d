"""Every user-visible flag and management endpoint is documented (README.md or docs/)."""

import importlib
import pathlib
import re

import pytest

from fnlb.cli import COMMANDS
from fnlb.cli.flags import parse

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
