"""The placement simulator: determinism, conservation, a flash crowd, and the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fnlb.routing.options import POLICIES
from fnlb.routing.policies import make_policy
from fnlb.routing.router import Router
from fnlb.sim.des import Arrival, Change, Cluster, NodeConfig
from fnlb.sim.report import row, table
from fnlb.sim.scenarios import POOLED, SCENARIOS, Model, run, run_pooled

SMALL = dict(nodes=4, functions=20, requests=6000)
MODEL = Model(slots=8)


def small(name: str, **kw):
    return SCENARIOS[name].with_overrides(**{**SMALL, **kw}).build(MODEL, seed=7)


@pytest.mark.parametrize("policy", ["default", "least-loaded", "seed"])
def test_same_seed_same_run(policy):
    a = run(small("steady"), policy)
    b = run(small("steady"), policy)
    assert list(a.latency) == list(b.latency)
    assert (a.cold_starts, a.evictions, a.spilled) == (b.cold_starts, b.evictions, b.spilled)


def test_other_seed_other_run():
    sc = SCENARIOS["steady"].with_overrides(**SMALL)
    a = run(sc.build(MODEL, seed=1), "default")
    b = run(sc.build(MODEL, seed=2), "default")
    assert list(a.latency) != list(b.latency)


def test_every_policy_sees_the_same_arrivals():
    w = small("flash")
    assert list(w.arrivals()) == list(w.arrivals())
    assert sum(1 for _ in w.arrivals()) == SMALL["requests"]


def _cluster(policy: str, names, balancers=1, changes=(), slots=4):
    return Cluster(names, balancers, lambda b, policy=policy: Router(make_policy(policy)), NodeConfig(slots, 30.0, 0.2),
                   changes, detect=0.5)


@pytest.mark.parametrize("scenario", ["steady", "failure", "grow", "balancers"])
@pytest.mark.parametrize("policy", POLICIES)
def test_every_request_completes_exactly_once(scenario, policy):
    w = small(scenario)
    cluster = Cluster(w.nodes, w.scenario.balancers,
                      lambda b: Router(make_policy(policy)), MODEL.node_config(), w.changes, w.scenario.detect)
    out = cluster.run(w.arrivals())
    assert out.arrived == SMALL["requests"]
    assert out.completed == out.arrived
    assert len(out.latency) + out.errors == out.arrived
    assert out.errors == 0  # a node is always left to fail over to
    assert all(lat >= wait >= 0 for lat, wait in zip(out.latency, out.wait))
    # Nothing is left anywhere: nodes idle and empty-queued, balancers with nothing in flight.
    for node in cluster.nodes.values():
        assert node.model.busy == 0 and node.model.queue_length == 0 and not node.outstanding
        assert node.model.containers <= node.model.slots
    for router in cluster.routers:
        assert router.policy.inflight.total == 0
    assert 0 <= min(out.util_by_node.values()) and max(out.util_by_node.values()) <= 1.0
    if scenario != "failure":  # a crash loses the cold starts of the calls it kills
        assert out.cold_starts == sum(out.cold)


def test_failed_node_requests_are_retried_elsewhere():
    names = ["10.0.0.1:8080", "10.0.0.2:8080"]
    home = _home(names, "/r/a/f")
    arrivals = [Arrival(i * 0.01, "/r/a/f", 1.0, 0) for i in range(10)]
    cluster = _cluster("consistent", names, changes=[Change(0.5, "down", home)])
    out = cluster.run(arrivals)
    assert out.completed == 10 and out.errors == 0
    assert out.retries == 10  # all ten were held by the node when it failed: each went to the other
    assert cluster.nodes[home].model.calls == 0  # a fresh model after the crash


@pytest.mark.parametrize("retries, errors", [(2, 5), (3, 0)])
def test_failover_obeys_the_proxys_retries_budget(retries, errors):
    """Three of four nodes down before the balancer knows: a request is refused by each
    node it tries, and reaches the fourth only with a budget of three retries."""
    names = [f"10.0.0.{i}:8080" for i in range(1, 5)]
    router = Router(make_policy("consistent"))
    router.set_nodes(names)
    order = router.order("/r/a/f", 0.0)
    arrivals = [Arrival(1.0 + i * 0.1, "/r/a/f", 0.05, 0) for i in range(5)]
    cluster = Cluster(names, 1, lambda b: Router(make_policy("consistent")), NodeConfig(4, 30.0, 0.2),
                      [Change(0.5, "down", name) for name in order[:3]], detect=10.0, retries=retries)
    out = cluster.run(arrivals)
    assert (out.completed, out.errors, out.retries) == (5, errors, 15)
    assert cluster.nodes[order[3]].model.calls == 5 - errors


def test_failover_default_budget_is_the_proxys():
    from fnlb.config.flags import parse
    from fnlb.nodes.options import FLAGS

    cfg, _ = parse(FLAGS, [], env={})
    assert Cluster([], 1, lambda b: Router(make_policy("consistent"))).retries == cfg.retries


def _home(names, key):
    router = Router(make_policy("consistent"))
    router.set_nodes(names)
    return router.pick(key, 0.0)


def test_no_live_node_is_an_error_not_a_hang():
    names = ["10.0.0.1:8080"]
    arrivals = [Arrival(1.0 + i * 0.1, "/r/a/f", 0.05, 0) for i in range(5)]
    out = _cluster("default", names, changes=[Change(0.5, "down", names[0])]).run(arrivals)
    assert out.completed == 5 and out.errors == 5 and len(out.latency) == 0


def test_wait_feeds_back_to_the_sending_balancer():
    names = ["10.0.0.1:8080", "10.0.0.2:8080"]
    arrivals = [Arrival(i * 0.001, "/r/a/f", 0.5, i % 2) for i in range(20)]
    cluster = _cluster("consistent", names, balancers=2, slots=2)
    cluster.run(arrivals)
    for router in cluster.routers:  # each balancer heard about its own calls' waits
        assert any(wait > 0 for _, _, wait in router.wait_table(0.5))


def test_flash_crowd_piles_on_one_node_with_consistent_and_spreads_with_spilling_policies():
    w = small("flash", load=0.2, requests=12000)
    rows = {p: row(p, run(w, p)) for p in ("consistent", "default", "bounded", "least-loaded")}
    piled = rows["consistent"]
    assert piled["util_peak"] > 0.9  # one node takes the whole crowd ...
    assert piled["util_mean"] < 0.6  # ... while the others idle
    for policy in ("default", "bounded", "least-loaded"):
        spread = rows[policy]
        assert spread["p99"] < piled["p99"] / 5, (policy, spread["p99"], piled["p99"])
        assert spread["spilled"] > 0.05


def test_keys_moved_on_node_added_is_about_one_in_n_for_consistent():
    w = SCENARIOS["grow"].with_overrides(nodes=4, functions=200, requests=20000).build(MODEL, seed=3)
    out = run(w, "consistent")
    assert out.moved_of > 100
    assert 0.05 < out.moved / out.moved_of < 0.4  # jump hash: ~1/5 of keys move to the new node
    assert run(w, "round-robin").moved / out.moved_of > 0.5  # no placement at all


def test_table_has_a_row_per_policy_and_a_p99_column():
    w = small("steady", requests=500)
    text = table([row(p, run(w, p)) for p in POLICIES])
    lines = text.splitlines()
    assert any("p99" in h for h in lines[0].split("|"))
    assert [line.split("|")[1].strip() for line in lines[2:]] == list(POLICIES)


def simulate_cli(*args: str) -> tuple[str, list[str], list[dict[str, str]]]:
    """`fnlb simulate ARGS` as a process: its output, the table's header, and its rows
    ({column: cell}, in table order)."""
    proc = subprocess.run([sys.executable, "-m", "fnlb", "simulate", *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")))) for line in lines[2:]]
    return proc.stdout, header, rows


def test_cli_prints_the_table_for_every_policy():
    stdout, header, rows = simulate_cli("--requests", "2000", "--nodes", "3", "--functions", "20", "--slots", "8")
    assert header[0] == "policy" and any("p99" in cell for cell in header)
    assert [r["policy"] for r in rows] == [*POLICIES, POOLED]
    assert "requests/s" in stdout
    assert "nodes cold-start when busy" in stdout


@pytest.mark.parametrize("scenario", ["failure", "balancers"])
def test_queue_mode_completes_every_request(scenario):
    """``--on-busy queue`` in the engine: crashes and several balancers included."""
    w = SCENARIOS[scenario].with_overrides(**SMALL).build(Model(slots=8, on_busy="queue"), seed=7)
    for policy in ("default", "consistent"):
        cluster = Cluster(w.nodes, w.scenario.balancers, lambda b, policy=policy: Router(make_policy(policy)),
                          w.model.node_config(), w.changes, w.scenario.detect)
        out = cluster.run(w.arrivals())
        assert out.completed == out.arrived == SMALL["requests"] and out.errors == 0
        models = [m for node in cluster.nodes.values() for m in (*node.retired, node.model)]
        assert sum(m.queued_hot for m in models) > 0
        for node in cluster.nodes.values():
            assert node.model.queue_length == 0 and node.model.busy == 0


def test_pooled_is_one_node_with_every_slot_and_follows_node_changes_in_slots():
    w = small("steady")
    out = run_pooled(w)
    assert list(out.util_by_node) == [POOLED]
    assert out.completed == out.arrived == SMALL["requests"] and out.errors == 0 and out.spilled == 0
    # The failure scenario differs only by its node changes: the pooled node loses one
    # node's slots while that node is down, so it can only do worse, never fail a call.
    failed = run_pooled(small("failure"))
    assert failed.completed == failed.arrived and failed.errors == 0
    assert failed.cold_starts >= out.cold_starts
    assert list(failed.latency) != list(out.latency)
    r = row(POOLED, out, balanced=False)
    assert r["spilled"] == "-" and r["moved"] == "-"
    assert "| pooled |" in table([r])


def test_cli_prints_a_pooled_row_below_every_policy_set():
    # The preset's 32 slots (measured: 107 cold starts pooled, 577 consistent). With 8-slot
    # nodes the pooled 32 slots tip into churn with 20 functions and cold-start more than
    # consistent, whose overloaded node queues instead (at 3x the p99): a floor, not a law.
    _, _, rows = simulate_cli("--requests", "3000", "--nodes", "4", "--functions", "20", "--policy", "consistent")
    assert [r["policy"] for r in rows] == ["consistent", POOLED]
    consistent, pooled = rows
    assert pooled["errors"] == "0" and pooled["spilled"] == "-" and pooled["keys moved"] == "-"
    assert int(pooled["cold starts"]) <= int(consistent["cold starts"])


def test_cli_rejects_an_unknown_scenario():
    proc = subprocess.run([sys.executable, "-m", "fnlb", "simulate", "--scenario", "nope"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--scenario" in proc.stderr and len(proc.stderr.splitlines()) <= 3


def test_plots_need_matplotlib_and_say_so(monkeypatch, capsys, tmp_path):
    from fnlb.cli import main

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    assert main(["simulate", "--plots", str(tmp_path), "--requests", "100"]) == 2
    assert "pip install 'fnlb[sim]'" in capsys.readouterr().err


def test_plots_are_written(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from fnlb.cli import main

    assert main(["simulate", "--scenario", "failure", "--policy", "consistent", "--nodes", "3",
                 "--functions", "10", "--requests", "1500", "--plots", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["failure-bars.svg", "failure-p99.svg"]
    import xml.etree.ElementTree as ET

    for name in written:
        data = (tmp_path / name).read_bytes()
        root = ET.fromstring(data)                       # well-formed XML, an <svg> root
        assert root.tag == "{http://www.w3.org/2000/svg}svg" and len(data) < 100_000
        text = "".join(root.itertext())                   # labels are text, not glyph paths
        assert "consistent" in text and "pooled" in text
    bars = "".join(ET.fromstring((tmp_path / "failure-bars.svg").read_bytes()).itertext())
    assert "cold starts" in bars and "pooled floor" in bars
    # Reproducible: the same run writes the same bytes (no date, fixed ids).
    again = tmp_path / "again"
    assert main(["simulate", "--scenario", "failure", "--policy", "consistent", "--nodes", "3",
                 "--functions", "10", "--requests", "1500", "--plots", str(again)]) == 0
    assert all((again / n).read_bytes() == (tmp_path / n).read_bytes() for n in written)


def test_cli_output_is_the_same_across_processes_and_hash_seeds():
    """No dependence on str hash randomisation or anything else outside the seed."""
    argv = [sys.executable, "-m", "fnlb", "simulate", "--scenario", "failure", "--requests", "3000",
            "--nodes", "4", "--functions", "30", "--slots", "8"]
    import os

    outs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
        assert proc.returncode == 0, proc.stderr
        outs.append([line for line in proc.stdout.splitlines() if line.startswith("|")])
    assert outs[0] == outs[1]
