"""Command-line flags in Go syntax (``-name value``, ``-name=value``) and GNU syntax
(``--name value``, ``--name=value``), with ``FNLB_<NAME>`` environment variables and a TOML
``--config`` file. Precedence: flag > environment > file > default.

Each package declares its flags as a list of :class:`Flag` (``fnlb/<pkg>/options.py``),
their defaults taken from its typed config (see ``fnlb.config.typed``); a command
concatenates the lists it needs. Values are converted by small functions (``duration``,
``size``, ...) that raise ValueError with a readable reason; the parser turns that into a
:class:`UsageError` naming the flag, which the CLI prints as one line and exits with
status 2. :func:`parse` returns a flat namespace (one attribute per flag); commands turn
it into typed configs once, with ``from_namespace``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable, Iterable, Mapping, Sequence

from fnlb.config.goduration import DurationError, format_seconds, parse_ns


class UsageError(Exception):
    """A bad flag, value or config file: printed as one line, exit status 2."""


@dataclass(frozen=True)
class Flag:
    name: str
    default: Any
    help: str
    convert: Callable[[str], Any] = str
    metavar: str = "VALUE"
    is_bool: bool = False

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")

    @property
    def env(self) -> str:
        return "FNLB_" + self.attr.upper()


# -- value converters -------------------------------------------------------------------

def duration(text: str) -> float:
    """Seconds: a bare number (``3``, ``0.5``) or a Go duration (``300ms``, ``1m``)."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parse_ns(text) / 1e9
        except DurationError:
            raise ValueError(f"{text!r} is not a duration (use seconds or Go syntax: 300ms, 5s, 1m)") from None
    if seconds < 0 or seconds != seconds:
        raise ValueError(f"{text!r} must not be negative")
    return seconds


_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def size(text: str) -> int:
    """Bytes: ``65536``, ``64k``, ``64KiB``, ``1m``."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a size (use bytes or 64KiB, 1MiB)")
    return int(m.group(1)) * _SIZE_UNITS[(m.group(2) or "")[:1].lower()]


def boolean(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "t", "true", "yes", "on"):
        return True
    if low in ("0", "f", "false", "no", "off"):
        return False
    raise ValueError(f"{text!r} is not a boolean (true or false)")


def integer(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    def convert(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(f"{value} is out of range ({lo if lo is not None else ''}..{hi if hi is not None else ''})")
        return value
    return convert


def number(lo: float | None = None, hi: float | None = None) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if value != value or (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(f"{value} is out of range ({lo if lo is not None else ''}..{hi if hi is not None else ''})")
        return value
    return convert


def choice(*options: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        if text not in options:
            raise ValueError(f"{text!r} is not one of {', '.join(options)}")
        return text
    return convert


def csv_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def listen_address(text: str) -> tuple[str, int]:
    """``host:port``, ``:port`` (all interfaces) or ``[v6]:port`` -> (host, port); host '' = all."""
    host, sep, port = text.strip().rpartition(":")
    if not sep:
        raise ValueError(f"{text!r} is not an address (use host:port or :port)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        number_ = int(port)
    except ValueError:
        raise ValueError(f"{text!r} has no valid port") from None
    if not 0 <= number_ <= 65535:
        raise ValueError(f"port {number_} is out of range (0..65535)")
    return host, number_


# -- parsing ----------------------------------------------------------------------------

HELP_FLAG = Flag("help", False, "show this help and exit", boolean, is_bool=True)
CONFIG_FLAG = Flag("config", "", "TOML file of settings named like the flags (flag > env > file > default)",
                   str, metavar="FILE")


def _convert(flag: Flag, raw: Any, origin: str) -> Any:
    if isinstance(raw, list):
        raw = ",".join(str(x) for x in raw)
    elif isinstance(raw, bool):
        raw = "true" if raw else "false"
    elif not isinstance(raw, str):
        raw = str(raw)
    try:
        return flag.convert(raw)
    except ValueError as exc:
        raise UsageError(f"invalid value for {origin}: {exc}") from None


def _read_toml(path: str, by_name: Mapping[str, Flag]) -> dict[str, Any]:
    import tomllib

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"cannot read --config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--config {path} is not valid TOML: {exc}") from None
    values = {}
    for key, raw in data.items():
        flag = by_name.get(key)
        if flag is None or flag.name in ("config", "help"):
            raise UsageError(f"--config {path}: unknown setting {key!r}")
        values[flag.attr] = _convert(flag, raw, f"{key} in {path}")
    return values


def _split_argv(argv: Sequence[str], by_name: Mapping[str, Flag]) -> tuple[list[tuple[Flag, str]], list[str]]:
    given: list[tuple[Flag, str]] = []
    positionals: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            positionals.extend(args[i:])
            break
        if not arg.startswith("-") or arg == "-":
            positionals.append(arg)
            continue
        name, eq, value = arg.lstrip("-").partition("=")
        if name == "h":
            name = "help"
        flag = by_name.get(name)
        if flag is None:
            raise UsageError(f"unknown flag {arg.split('=')[0]}")
        if not eq:
            if flag.is_bool:
                value = "true"
            elif i < len(args):
                value = args[i]
                i += 1
            else:
                raise UsageError(f"flag --{name} needs a value")
        given.append((flag, value))
    return given, positionals


def parse(flags: Iterable[Flag], argv: Sequence[str], env: Mapping[str, str] | None = None,
          allow_positionals: bool = False) -> tuple[SimpleNamespace, list[str]]:
    """Resolve every flag's value; return (namespace with one attribute per flag, positionals)."""
    env = os.environ if env is None else env
    flags = [HELP_FLAG, *flags]
    by_name = {f.name: f for f in flags}
    given, positionals = _split_argv(argv, by_name)
    if positionals and not allow_positionals:
        raise UsageError(f"unexpected argument {positionals[0]!r}")

    values = {f.attr: f.default for f in flags}
    config_path = next((v for f, v in reversed(given) if f.name == "config"), None)
    if config_path is None and "config" in by_name:
        config_path = env.get(CONFIG_FLAG.env) or None
    if config_path:
        values.update(_read_toml(config_path, by_name))
        values["config"] = config_path
    for f in flags:
        if f.name not in ("help", "config") and f.env in env:
            values[f.attr] = _convert(f, env[f.env], f"${f.env}")
    for f, raw in given:
        values[f.attr] = _convert(f, raw, f"--{f.name}")
    return SimpleNamespace(**values), positionals


def _show_default(flag: Flag) -> str:
    d = flag.default
    if flag.is_bool or d is None:
        return ""
    if flag.convert is duration or (flag.metavar == "DURATION" and isinstance(d, (int, float))):
        return f" (default {format_seconds(d)})"
    if isinstance(d, list):
        d = ",".join(d)
    if isinstance(d, tuple) and len(d) == 2:
        d = f"{d[0]}:{d[1]}"
    return f" (default {d!r})" if d not in ("", None) else ""


def help_text(prog: str, summary: str, flags: Iterable[Flag], usage_tail: str = "") -> str:
    lines = [f"usage: {prog} [flags]{usage_tail}", "", summary, "",
             "Flags take Go or GNU syntax (-name value, -name=value, --name value); every flag",
             "can also be set as FNLB_<NAME> in the environment or as <name> in a --config TOML file.", ""]
    for f in [*flags, HELP_FLAG]:
        head = f"  --{f.name}" + ("" if f.is_bool else f" {f.metavar}")
        lines.append(head)
        lines.append(f"        {f.help}{_show_default(f)}")
    return "\n".join(lines) + "\n"
