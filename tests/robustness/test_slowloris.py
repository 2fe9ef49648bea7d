"""Slow clients by the hundred (slowloris headers, slow bodies, silent connections) while
normal clients are served as usual; every slow connection is closed by fnlb within its
timeout, and nothing of theirs reaches a node."""

from __future__ import annotations

import selectors
import socket
import time

import pytest

from tests.robustness.helpers import Load, start_proxy
from tests.support.backend import Backend

pytestmark = pytest.mark.timeout(60)

ATTACKERS = 300
PATHS = [f"/r/app/f{i}" for i in range(20)]


class Attackers:
    """``n`` raw connections that each send ``opening`` and then one ``drip`` every
    ``every`` seconds; records when fnlb closed each one."""

    def __init__(self, port: int, n: int, opening: bytes, drip: bytes, every: float = 0.3):
        self.sel = selectors.DefaultSelector()
        self.opened: dict[socket.socket, float] = {}
        self.closed: dict[socket.socket, float] = {}
        self.responses: list[bytes] = []
        self.drip = drip
        self.every = every
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.setblocking(False)
            s.send(opening)
            self.opened[s] = time.monotonic()
            self.sel.register(s, selectors.EVENT_READ)

    def run(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        next_drip = time.monotonic() + self.every
        while time.monotonic() < end and len(self.closed) < len(self.opened):
            for key, _ in self.sel.select(timeout=0.05):
                s = key.fileobj
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if data:
                    self.responses.append(data)
                    continue
                self.closed[s] = time.monotonic()
                self.sel.unregister(s)
            if self.drip and time.monotonic() >= next_drip:
                next_drip += self.every
                for s in self.opened:
                    if s not in self.closed:
                        try:
                            s.send(self.drip)
                        except OSError:
                            pass

    def lifetimes(self) -> list[float]:
        return [self.closed[s] - self.opened[s] for s in self.closed]

    def close(self) -> None:
        for s in self.opened:
            s.close()
        self.sel.close()


def normal_latencies(load: Load) -> list[float]:
    return sorted(o.finished - o.started for o in load.outcomes)


@pytest.mark.parametrize("kind", ["headers", "body", "silent"])
def test_hundreds_of_slow_clients_while_normal_ones_are_served(start_fnlb, kind):
    with Backend() as node:
        lb = start_proxy(start_fnlb, [node], "--client-header-timeout", "2s", "--client-body-timeout", "2s")
        # normal clients alone first: their usual latency on this machine now
        with Load(lb.port, PATHS, threads=2, pause=0.01) as base:
            time.sleep(1.0)
        usual = normal_latencies(base)
        opening, drip = {
            "headers": (b"GET /r/slow HTTP/1.1\r\nHost: h\r\n", b"X"),        # never finishes a line
            "body": (b"POST /r/slow HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n", b""),
            "silent": (b"", b""),
        }[kind]
        attackers = Attackers(lb.port, ATTACKERS, opening, drip)
        try:
            with Load(lb.port, PATHS, threads=2, pause=0.01) as load:
                t0 = time.monotonic()
                attackers.run(8.0)
                time.sleep(max(0.0, 4.0 - (time.monotonic() - t0)))
            lifetimes = attackers.lifetimes()
            served = normal_latencies(load)
        finally:
            attackers.close()
        p50_usual, p50 = usual[len(usual) // 2], served[len(served) // 2]
        print(f"\n{kind}: {len(lifetimes)} closed, longest {max(lifetimes):.2f}s; "
              f"normal p50 {p50 * 1000:.1f} ms (alone {p50_usual * 1000:.1f} ms), max {served[-1] * 1000:.0f} ms, "
              f"{len(served)} served")
        # every slow connection was closed by fnlb, at its timeout (2 s) plus the sweep grain
        assert len(lifetimes) == ATTACKERS
        assert all(1.5 < t < 5.0 for t in lifetimes), sorted(lifetimes)[:: ATTACKERS // 10]
        # the normal clients got every answer, in their usual latency (generous: a shared machine)
        assert all(o.status == 200 for o in load.outcomes)
        assert len(served) > 50
        assert p50 < max(10 * p50_usual, 0.05), (p50, p50_usual)
        assert served[-1] < 2.0
        # a slow body gets 408 before the close; nothing else is ever answered to them
        if kind == "body":
            assert all(r.startswith(b"HTTP/1.1 408 ") for r in attackers.responses), attackers.responses[:3]
        else:
            assert attackers.responses == []
        # only the slow bodies' heads reached the node, never as complete requests
        slow = [r for r in node.requests if r.target == "/r/slow"]
        assert all(not r.complete for r in slow)
        if kind != "body":
            assert slow == []
        assert lb.alive()
