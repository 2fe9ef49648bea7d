"""`fnlb load` against real sim nodes."""

import json
import subprocess
import time
import urllib.request

from tests.sim.helpers import SimNodes
from tests.support.procs import Proc, fnlb_argv


def test_load_json_reports_nodes_cold_starts_and_latency():
    with SimNodes(1, "--cold-start", "50ms", "--exec", "5ms", "--slots", "16") as nodes:
        out = subprocess.run(fnlb_argv("load", "--target", nodes.url(), "--rate", "100", "--duration", "2s",
                                       "--functions", "3", "--exec-mix", "5ms:9,50ms:1", "--seed", "7", "--json"),
                             capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    assert 100 <= s["sent"] <= 320           # Poisson at 100/s for 2s, generous
    assert s["completed"] == s["sent"] and s["errors"] == 0
    assert s["nodes"] == {nodes.addresses[0]: 1.0}
    assert 1 <= s["cold_starts"] <= 16
    assert 0 < s["latency"]["p50"] <= s["latency"]["p90"] <= s["latency"]["p99"] <= s["latency"]["max"]


def test_load_text_report_and_connection_errors_counted():
    with SimNodes(1) as nodes:
        addr = nodes.addresses[0]
    # the node is gone: every request fails, and the report says so
    out = subprocess.run(fnlb_argv("load", "--target", f"http://{addr}", "--rate", "20", "--duration", "1s"),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "p99" in out.stdout and "errors" in out.stdout
    assert "errors     0 " not in out.stdout


def test_load_bad_target_is_a_usage_error():
    out = subprocess.run(fnlb_argv("load", "--target", "ftp://x"), capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "--target" in out.stderr


def test_load_hot_function_against_a_real_sim_node():
    node = Proc(fnlb_argv("sim-node", "--listen", "127.0.0.1:0", "--cold-start", "10ms", "--exec", "5ms",
                          "--slots", "32"))
    try:
        deadline = time.monotonic() + 10
        while not node.output().strip() and time.monotonic() < deadline:
            time.sleep(0.02)
        addr = node.output().split()[0]
        out = subprocess.run(fnlb_argv("load", "--target", f"http://{addr}", "--rate", "20", "--functions", "3",
                                       "--hot", "/r/app/hot:80:20ms", "--duration", "2s", "--seed", "3",
                                       "--json"),
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        s = json.loads(out.stdout)
        with urllib.request.urlopen(f"http://{addr}/stats", timeout=5) as r:
            stats = json.load(r)
    finally:
        assert node.stop() == 0
    assert 100 <= s["sent"] <= 320           # Poisson at 20 + 80 = 100/s for 2 s, generous
    assert s["completed"] == s["sent"] == stats["calls"] and s["errors"] == 0
    assert s["rate"] == 20 and s["hot"] == {"path": "/r/app/hot", "rate": 80.0, "exec": 0.02}
    assert "/r/app/hot" in stats["hot"]      # the node ran the hot function (and keeps it warm)
    assert set(stats["hot"]) <= {"/r/app/hot", "/r/app/fn1", "/r/app/fn2", "/r/app/fn3"}


def test_load_bad_hot_is_a_usage_error():
    out = subprocess.run(fnlb_argv("load", "--hot", "/r/app/hot:0:100ms"), capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 2 and "--hot" in out.stderr and "positive" in out.stderr
