"""`fnlb serve` flags as the data path uses them: errors, listeners, config file, environment."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.proxy.rawhttp import Conn
from tests.support.procs import Proc, fnlb_argv, free_port, wait_port


def run_fnlb(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(fnlb_argv(*args), capture_output=True, text=True, timeout=30,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("args, flag", [
    (["--listen", "nowhere"], "--listen"),
    (["--mgmt-listen", "127.0.0.1:99999"], "--mgmt-listen"),
    (["--connect-timeout", "soon"], "--connect-timeout"),
    (["--upstream-timeout", "-1s"], "--upstream-timeout"),
    (["--max-header-size", "lots"], "--max-header-size"),
    (["--max-connections", "0"], "--max-connections"),
    (["--pool-size", "-1"], "--pool-size"),
    (["--access-log=maybe"], "--access-log"),
    (["--no-such-flag"], "--no-such-flag"),
])
def test_bad_flag_is_one_line_exit_2(args, flag):
    out = run_fnlb(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert flag in lines[0] and len(lines) <= 3 and "Traceback" not in out.stderr


def test_bad_environment_value_names_the_variable():
    out = run_fnlb(env={"FNLB_CLIENT_IDLE_TIMEOUT": "forever"})
    assert out.returncode == 2 and "FNLB_CLIENT_IDLE_TIMEOUT" in out.stderr.splitlines()[0]


def serve(args: list[str], env: dict | None = None) -> Proc:
    return Proc(fnlb_argv(*args), env=env)


def test_both_listeners_are_honoured():
    port, mgmt = free_port(), free_port()
    proc = serve(["--listen", f"127.0.0.1:{port}", "--mgmt-listen", f"127.0.0.1:{mgmt}"])
    try:
        wait_port(port, proc=proc.popen)
        wait_port(mgmt, proc=proc.popen)
        with Conn(mgmt) as m:
            assert m.request("GET", "/1/lb/nodes").status == 200
        with Conn(port) as c:
            assert c.request("GET", "/1/lb/nodes").status == 404
    finally:
        proc.stop()


def test_precedence_flag_over_env_over_config(tmp_path):
    file_port, env_port, flag_port, mgmt = free_port(), free_port(), free_port(), free_port()
    config = tmp_path / "fnlb.toml"
    config.write_text(f'listen = "127.0.0.1:{file_port}"\nmgmt-listen = "127.0.0.1:{mgmt}"\n'
                      f'client-idle-timeout = "300ms"\n')
    # config file alone
    proc = serve(["--config", str(config)])
    try:
        wait_port(file_port, proc=proc.popen)
        with Conn(file_port) as c:      # the file's idle timeout applies too
            assert c.request("GET", "/r/a").status == 503
            assert c.closed(timeout=5)
    finally:
        proc.stop()
    # environment beats the file
    proc = serve(["--config", str(config)], env={"FNLB_LISTEN": f"127.0.0.1:{env_port}"})
    try:
        wait_port(env_port, proc=proc.popen)
    finally:
        proc.stop()
    # the flag beats both
    proc = serve(["--config", str(config), "--listen", f"127.0.0.1:{flag_port}"],
                 env={"FNLB_LISTEN": f"127.0.0.1:{env_port}"})
    try:
        wait_port(flag_port, proc=proc.popen)
        assert f"127.0.0.1:{flag_port} (traffic)" in proc.output()
    finally:
        proc.stop()


def test_help_lists_the_data_path_flags():
    out = run_fnlb("--help")
    assert out.returncode == 0
    for flag in ("--listen", "--mgmt-listen", "--tls-cert", "--upstream-timeout", "--pool-size", "--access-log",
                 "--max-header-size", "--client-header-timeout"):
        assert flag in out.stdout
