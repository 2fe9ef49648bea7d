"""The flag of ``--workers``: how many serving processes share the traffic port."""

from __future__ import annotations

import os
from dataclasses import dataclass

from fnlb.config.flags import Flag
from fnlb.config.typed import Config

MAX_WORKERS = 256


@dataclass(frozen=True)
class WorkersConfig(Config):
    workers: int = 1        # 1 = one process serves everything (no supervisor)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:       # not Linux
        return os.cpu_count() or 1


def worker_count(text: str) -> int:
    """A whole number 1..256, or ``auto``: the cores this process may run on."""
    text = text.strip().lower()
    if text == "auto":
        return usable_cores()
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number or 'auto'") from None
    if not 1 <= value <= MAX_WORKERS:
        raise ValueError(f"{value} is out of range (1..{MAX_WORKERS}, or auto)")
    return value


_D = WorkersConfig()

FLAGS = [
    Flag("workers", _D.workers,
         "serving processes on the traffic port (SO_REUSEPORT, Linux), under one supervisor that runs health "
         "checks, the node store, stats and management; auto = the usable cores", worker_count, "N"),
]
