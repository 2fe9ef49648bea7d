"""Typed configs: one field per flag, one definition of each default, frozen, built once."""

import dataclasses
import pathlib
import re

import pytest

from fnlb.config.flags import parse
from fnlb.config.serve import FLAGS as SERVE_FLAGS
from fnlb.config.serve import ServeConfig
from fnlb.config.typed import from_namespace
from fnlb.routing.options import POLICIES, RoutingConfig
from fnlb.routing.policy import Params
from fnlb.sim.options import MODEL_FLAGS, SimNodeConfig

SRC = pathlib.Path(__file__).resolve().parents[2] / "src" / "fnlb"


def leaves(config, path=()):
    """{field name: (dotted path, value)} of the non-dataclass fields, nested ones included."""
    out = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out.update(leaves(value, (*path, f.name)))
        else:
            assert f.name not in out, f"{f.name} is in two concerns"
            out[f.name] = (".".join((*path, f.name)), value)
    return out


def as_field(value):
    return tuple(value) if isinstance(value, list) else value


@pytest.mark.parametrize("config, flags", [(ServeConfig(), SERVE_FLAGS), (SimNodeConfig(), MODEL_FLAGS)],
                         ids=["serve", "sim-node"])
def test_every_flag_is_one_field_with_the_same_default(config, flags):
    fields = leaves(config)
    flags = {f.attr: f for f in flags if f.name != "config"}
    assert set(flags) == set(fields)
    for attr, flag in flags.items():
        assert as_field(flag.default) == fields[attr][1], f"--{flag.name} vs {fields[attr][0]}"


def test_defaults_parse_to_the_default_config():
    ns, _ = parse(SERVE_FLAGS, [], env={})
    assert ServeConfig.from_namespace(ns) == ServeConfig()


def test_each_flag_lands_in_its_concern():
    ns, _ = parse(SERVE_FLAGS, ["--listen", "127.0.0.1:9000", "--policy", "bounded", "--spill-wait", "100ms",
                                "--expose-wait-header", "--nodes", "10.0.0.1:80,10.0.0.2:80", "--hc-healthy", "3",
                                "--log-format", "json"], env={"FNLB_STATS_SERIES": "7"})
    cfg = ServeConfig.from_namespace(ns)
    assert cfg.proxy.listen == ("127.0.0.1", 9000)
    assert (cfg.routing.policy, cfg.routing.params.spill_wait, cfg.routing.expose_wait_header) == ("bounded", 0.1, True)
    assert cfg.nodes.nodes == ("10.0.0.1:80", "10.0.0.2:80")
    assert cfg.nodes.thresholds.healthy_after == 3
    assert (cfg.observability.log_format, cfg.observability.stats_series) == ("json", 7)
    assert ServeConfig.of(cfg) is cfg and ServeConfig.of(ns) == cfg


def test_configs_are_frozen():
    cfg = ServeConfig()
    for obj, name in [(cfg, "proxy"), (cfg.proxy, "listen"), (cfg.routing, "policy"),
                      (cfg.routing.params, "spill_wait"), (cfg.nodes, "nodes"), (cfg.observability, "stats"),
                      (SimNodeConfig(), "slots")]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, name, getattr(obj, name))
    hash(cfg)  # immutable all the way down: lists became tuples


def test_a_command_with_some_of_a_concerns_flags_keeps_the_other_defaults():
    ns, _ = parse([f for f in SERVE_FLAGS if f.name != "expose-wait-header"], ["--policy", "seed"], env={})
    assert RoutingConfig.from_namespace(ns) == RoutingConfig(policy="seed")
    assert from_namespace(Params, ns) == Params()


def test_policy_names_are_the_policy_classes_names():
    from fnlb.routing.policies import POLICIES as CLASSES

    assert POLICIES == tuple(CLASSES) == ("default", "sticky", "seed", "consistent", "round-robin",
                                          "least-loaded", "bounded")
    assert all(cls.name == name for name, cls in CLASSES.items())


def test_no_runtime_module_imports_the_cli():
    # fnlb/__main__.py is the command itself (python -m fnlb), like the console script
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                 if "cli" not in p.relative_to(SRC).parts[:1] and p.name != "__main__.py"
                 and re.search(r"^\s*(from|import)\s+fnlb\.cli\b", p.read_text(), re.MULTILINE)]
    assert offenders == []
