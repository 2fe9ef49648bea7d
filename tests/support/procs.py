"""Real processes on 127.0.0.1 ephemeral ports: the balancer and anything else a test runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0, host: str = "127.0.0.1", proc=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


class Proc:
    """A child process whose output goes to a temp file (read it with .output())."""

    def __init__(self, argv: list[str], env: dict | None = None, cwd: str | None = None):
        self.log = tempfile.NamedTemporaryFile(prefix="fnlb-test-", suffix=".log", delete=False)
        full_env = {**os.environ, **(env or {})}
        self.popen = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=full_env,
                                      cwd=cwd, start_new_session=True)

    def output(self) -> str:
        with open(self.log.name, errors="replace") as fh:
            return fh.read()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def send_signal(self, sig: int) -> None:
        if self.alive():
            self.popen.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        self.send_signal(sig)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            return self.popen.wait(5)

    def kill(self) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)


def fnlb_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "fnlb", *args]


class Fnlb(Proc):
    """`fnlb serve` on ephemeral ports; separate management listener unless same_listener."""

    def __init__(self, *args: str, same_listener: bool = False, env: dict | None = None, wait: bool = True):
        self.port = free_port()
        self.mgmt_port = self.port if same_listener else free_port()
        argv = fnlb_argv("--listen", f"127.0.0.1:{self.port}",
                         "--mgmt-listen", f"127.0.0.1:{self.mgmt_port}", *args)
        super().__init__(argv, env=env)
        if wait:
            wait_port(self.port, proc=self.popen)
            wait_port(self.mgmt_port, proc=self.popen)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mgmt_url(self) -> str:
        return f"http://127.0.0.1:{self.mgmt_port}"
