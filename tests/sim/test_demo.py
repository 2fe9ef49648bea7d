"""`fnlb demo` headless, as a user (or `make demo`) runs it, and its pure scenario."""

import os
import re
import signal
import time

import pytest

from fnlb.sim.scenario import DemoScenario
from tests.support.procs import Proc, fnlb_argv


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def test_demo_runs_headless_and_exits_cleanly():
    proc = Proc(fnlb_argv("demo", "--duration", "10", "--seed", "5"))
    try:
        assert proc.popen.wait(90) == 0, proc.output()
    finally:
        proc.kill()
    out = proc.output()
    lines = out.splitlines()
    assert any(re.search(r"http://127\.0\.0\.1:\d+/1/lb/dash", line) for line in lines[:3]), out
    status = [line for line in lines if "p99" in line]
    assert len(status) >= 5, out
    assert "Traceback" not in out
    time.sleep(0.2)
    assert group_gone(proc.popen.pid)  # the demo started no other process, and none lingers


def test_demo_stops_on_ctrl_c_with_exit_0():
    proc = Proc(fnlb_argv("demo", "--duration", "5m"))
    try:
        deadline = time.monotonic() + 60
        while proc.output().count("p99") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.output().count("p99") >= 2, proc.output()
        proc.send_signal(signal.SIGINT)
        assert proc.popen.wait(30) == 0, proc.output()
    finally:
        proc.kill()
    assert "summary" in proc.output() and "Traceback" not in proc.output()


def test_scenario_phases_scale_with_the_duration():
    for duration in (10.0, 120.0):
        s = DemoScenario(duration, base_rate=20, hot_rate=70, trickle=2)
        at = lambda frac, duration=duration: duration * frac  # noqa: E731
        assert [s.phase(at(f)) for f in (0.1, 0.25, 0.5, 0.75, 0.9)] == ["steady", "heating", "hot", "cooling", "calm"]
        assert s.hot_rate(at(0.1)) == 2 and s.hot_rate(at(0.5)) == 70 and s.hot_rate(at(0.95)) == 2
        assert 2 < s.hot_rate(at(0.275)) < 70
        assert s.rate(at(0.5)) == 90


def test_scenario_sends_the_hot_function_its_share():
    import random

    s = DemoScenario(100.0, base_rate=30, hot_rate=70)
    rng = random.Random(2)
    picks = [s.choose(50.0, rng) for _ in range(20_000)]
    hot = sum(1 for path, _ in picks if path == s.hot_path)
    assert hot / len(picks) == pytest.approx(0.7, abs=0.02)
    assert all(q.startswith("ms=") for _, q in picks)
