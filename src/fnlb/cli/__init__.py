"""The ``fnlb`` command: ``fnlb [serve] FLAGS`` runs the balancer; other subcommands are tools.

Each subcommand is a module here exposing SUMMARY, FLAGS, run(cfg, args) -> int and
optionally USAGE_TAIL, ALLOW_POSITIONALS and ENV_ALIASES. The flags are parsed by
``fnlb.config.flags``; ``run`` gets the flat namespace and turns it into the typed configs
it hands on (``fnlb.config``). Modules are imported only when their command runs, so that
quick tools such as ``fnlb route`` never pay for the event loop or the database driver.
Only this package imports ``fnlb.cli``.
"""

from __future__ import annotations

import importlib
import os
import sys

from fnlb.config.flags import UsageError, help_text, parse

COMMANDS = {
    "serve": "fnlb.cli.serve",
    "route": "fnlb.cli.route",
    "sim-node": "fnlb.cli.sim_node",
    "sim-cluster": "fnlb.cli.sim_cluster",
    "load": "fnlb.cli.load",
    "demo": "fnlb.cli.demo",
    "simulate": "fnlb.cli.simulate",
}


def _overview() -> str:
    lines = ["Commands (fnlb COMMAND --help for each):"]
    for name, modname in COMMANDS.items():
        try:
            summary = importlib.import_module(modname).SUMMARY.splitlines()[0]
        except Exception:  # a missing tool must not break the help of the rest
            summary = "(unavailable)"
        lines.append(f"  {name:<12} {summary}")
    return "\n".join(lines) + "\n"


def _print_help(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # `fnlb --help | head`: the reader left early, which is not an error. Point stdout
        # at /dev/null so that the interpreter's final flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--version"]:
        from fnlb import __version__, core

        print(f"fnlb {__version__} ({core()})")
        return 0
    name = "serve"
    if argv and argv[0] in COMMANDS:
        name, argv = argv[0], argv[1:]
    elif argv and not argv[0].startswith("-"):
        print(f"fnlb: unknown command {argv[0]!r} (try fnlb --help)", file=sys.stderr)
        return 2
    command = importlib.import_module(COMMANDS[name])
    prog = "fnlb" if name == "serve" else f"fnlb {name}"
    env = dict(os.environ)
    for old, new in getattr(command, "ENV_ALIASES", {}).items():
        if old in env and new not in env:
            env[new] = env[old]
    try:
        cfg, args = parse(command.FLAGS, argv, env, getattr(command, "ALLOW_POSITIONALS", False))
    except UsageError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        print(f"Run '{prog} --help' for the list of flags.", file=sys.stderr)
        return 2
    if cfg.help:
        text = help_text(prog, command.SUMMARY, command.FLAGS, getattr(command, "USAGE_TAIL", ""))
        _print_help(text + ("\n" + _overview() if name == "serve" else ""))
        return 0
    try:
        return command.run(cfg, args) or 0
    except UsageError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
