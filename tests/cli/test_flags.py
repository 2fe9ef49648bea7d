"""The flag parser: Go and GNU syntax, environment, TOML file, precedence, one-line errors."""

import subprocess
import sys

import pytest

from fnlb.config.flags import Flag, UsageError, boolean, csv_list, duration, integer, listen_address, parse, size
from fnlb.config.serve import FLAGS as SERVE_FLAGS

FLAGS = [
    Flag("config", "", "config file"),
    Flag("listen", listen_address(":8081"), "addr", listen_address),
    Flag("hc-interval", 3.0, "interval", duration),
    Flag("nodes", [], "nodes", csv_list),
    Flag("retries", 2, "n", integer(0)),
    Flag("expose", False, "flag", boolean, is_bool=True),
]


@pytest.mark.parametrize("argv", [
    ["-listen", "127.0.0.1:9000"], ["-listen=127.0.0.1:9000"],
    ["--listen", "127.0.0.1:9000"], ["--listen=127.0.0.1:9000"],
])
def test_go_and_gnu_syntax(argv):
    cfg, _ = parse(FLAGS, argv, env={})
    assert cfg.listen == ("127.0.0.1", 9000)


def test_defaults_and_all_interfaces():
    cfg, _ = parse(FLAGS, [], env={})
    assert cfg.listen == ("", 8081)
    assert cfg.hc_interval == 3.0 and cfg.nodes == [] and cfg.retries == 2 and cfg.expose is False


def test_durations_take_seconds_or_go_syntax():
    assert duration("3") == 3.0
    assert duration("300ms") == pytest.approx(0.3)
    assert duration("1m") == 60.0
    with pytest.raises(ValueError):
        duration("-1s")
    with pytest.raises(ValueError):
        duration("soon")


def test_sizes_and_addresses():
    assert size("64KiB") == 65536 and size("65536") == 65536 and size("1m") == 1 << 20
    assert listen_address("[::1]:80") == ("::1", 80)
    with pytest.raises(ValueError):
        listen_address("8081")


def test_bool_flags_take_no_value_but_accept_explicit_one():
    assert parse(FLAGS, ["-expose"], env={})[0].expose is True
    assert parse(FLAGS, ["-expose=false"], env={})[0].expose is False


def test_precedence_flag_over_env_over_file_over_default(tmp_path):
    conf = tmp_path / "fnlb.toml"
    conf.write_text('retries = 5\nhc-interval = "500ms"\nnodes = ["a:1", "b:2"]\n')
    cfg, _ = parse(FLAGS, ["--config", str(conf)], env={})
    assert cfg.retries == 5 and cfg.hc_interval == 0.5 and cfg.nodes == ["a:1", "b:2"]
    cfg, _ = parse(FLAGS, ["--config", str(conf)], env={"FNLB_RETRIES": "7"})
    assert cfg.retries == 7
    cfg, _ = parse(FLAGS, ["--config", str(conf), "-retries", "9"], env={"FNLB_RETRIES": "7"})
    assert cfg.retries == 9


def test_config_file_from_env_and_comma_string_nodes(tmp_path):
    conf = tmp_path / "fnlb.toml"
    conf.write_text('nodes = "a:1,b:2"\n')
    cfg, _ = parse(FLAGS, [], env={"FNLB_CONFIG": str(conf)})
    assert cfg.nodes == ["a:1", "b:2"]


@pytest.mark.parametrize("argv,env,fragment", [
    (["--bogus"], {}, "unknown flag --bogus"),
    (["-retries", "x"], {}, "--retries"),
    (["-retries"], {}, "needs a value"),
    ([], {"FNLB_HC_INTERVAL": "soon"}, "$FNLB_HC_INTERVAL"),
    (["stray"], {}, "unexpected argument"),
])
def test_errors_name_the_flag(argv, env, fragment):
    with pytest.raises(UsageError) as err:
        parse(FLAGS, argv, env=env)
    assert fragment in str(err.value)


def test_bad_config_file_is_a_usage_error(tmp_path):
    conf = tmp_path / "bad.toml"
    conf.write_text("retries = [\n")
    with pytest.raises(UsageError, match="not valid TOML"):
        parse(FLAGS, ["--config", str(conf)], env={})
    conf.write_text("nope = 1\n")
    with pytest.raises(UsageError, match="unknown setting 'nope'"):
        parse(FLAGS, ["--config", str(conf)], env={})
    with pytest.raises(UsageError, match="cannot read"):
        parse(FLAGS, ["--config", str(tmp_path / "missing.toml")], env={})


def test_every_serve_flag_has_help_and_a_unique_name():
    names = [f.name for f in SERVE_FLAGS]
    assert len(names) == len(set(names))
    assert all(f.help for f in SERVE_FLAGS)
    for original in ("listen", "mgmt-listen", "nodes", "db", "hc-interval", "hc-path", "hc-unhealthy",
                     "hc-healthy", "hc-timeout", "min-api-version", "shutdown-timeout"):
        assert original in names


def run_fnlb(*args, env=None):
    return subprocess.run([sys.executable, "-m", "fnlb", *args], capture_output=True, text=True,
                          timeout=30, env=env)


def test_cli_error_is_one_short_line_and_exit_2():
    res = run_fnlb("-hc-interval", "soon")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 3 and "--hc-interval" in lines[0]
    assert "Traceback" not in res.stderr


def test_help_lists_every_flag():
    res = run_fnlb("--help")
    assert res.returncode == 0
    for flag in SERVE_FLAGS:
        assert f"--{flag.name}" in res.stdout


def test_unknown_command():
    res = run_fnlb("frobnicate")
    assert res.returncode == 2 and "unknown command" in res.stderr


@pytest.mark.parametrize("command", ["serve", "route", "sim-node", "sim-cluster", "load", "demo", "simulate"])
def test_every_command_has_help(command):
    res = run_fnlb(command, "--help")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"usage: fnlb{'' if command == 'serve' else ' ' + command}")


def test_help_into_a_pipe_closed_early_is_not_an_error():
    # `fnlb --help | head -3` when head has already left: every write meets a closed pipe
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        res = subprocess.run([sys.executable, "-m", "fnlb", "--help"], stdout=write_end,
                             stderr=subprocess.PIPE, timeout=30)
    finally:
        os.close(write_end)
    err = res.stderr.decode()
    assert res.returncode == 0 and "Traceback" not in err, err
