"""Simulated nodes as real processes, for any test that needs Fn-like backends.

    with SimNodes(3, "--cold-start", "100ms") as nodes:
        nodes.addresses   # ["127.0.0.1:41234", ...]
"""

from __future__ import annotations

import time

from tests.support.procs import Proc, fnlb_argv


class SimNodes(Proc):
    """``fnlb sim-cluster --count N`` on free ports; the addresses are read from its output."""

    def __init__(self, count: int = 1, *args: str, timeout: float = 10.0):
        super().__init__(fnlb_argv("sim-cluster", "--count", str(count), *args))
        deadline = time.monotonic() + timeout
        while True:
            lines = self.output().splitlines()
            if len(lines) >= count and all(":" in line for line in lines[:count]):
                self.addresses = lines[:count]
                break
            if not self.alive() or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"sim-cluster did not start: {self.output()!r}")
            time.sleep(0.02)

    def url(self, i: int = 0) -> str:
        return f"http://{self.addresses[i]}"

    def __enter__(self) -> "SimNodes":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        self.kill()
