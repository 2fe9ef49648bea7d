"""Real processes for process-level observability tests: sim nodes, fnlb, a traffic thread."""

from __future__ import annotations

import http.client
import json
import threading
import time

from tests.support.procs import Fnlb, Proc, fnlb_argv, free_port, wait_port


class Cluster:
    """``n`` `fnlb sim-node` processes and one `fnlb serve` in front of them (127.0.0.1)."""

    def __init__(self, n: int = 3, node_args=(), lb_args=()):
        self.ports = [free_port() for _ in range(n)]
        self.nodes = []
        try:
            for port in self.ports:
                self.nodes.append(Proc(fnlb_argv("sim-node", "--listen", f"127.0.0.1:{port}", *node_args)))
            for port, proc in zip(self.ports, self.nodes):
                wait_port(port, proc=proc.popen)
            self.lb = Fnlb("--nodes", ",".join(self.addresses), "--hc-interval", "1s", *lb_args)
            self.wait_online()
        except BaseException:
            self.stop()
            raise

    @property
    def addresses(self) -> list[str]:
        return [f"127.0.0.1:{p}" for p in self.ports]

    def mgmt(self, path: str):
        conn = http.client.HTTPConnection("127.0.0.1", self.lb.mgmt_port, timeout=10)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.getheader("content-type"), resp.read()
        finally:
            conn.close()

    def wait_online(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            nodes = json.loads(self.mgmt("/1/lb/nodes")[2]).get("nodes", {})
            if len(nodes) == len(self.ports) and all(s == "online" for s in nodes.values()):
                return
            time.sleep(0.1)
        raise TimeoutError(f"nodes not online: {self.lb.output()[-2000:]}")

    def send(self, paths, conn=None) -> list[int]:
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.lb.port, timeout=10)
        statuses = []
        try:
            for path in paths:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                statuses.append(resp.status)
        finally:
            if own:
                conn.close()
        return statuses

    def stop(self) -> None:
        for proc in [getattr(self, "lb", None), *self.nodes]:
            if proc is not None:
                proc.stop(timeout=5)


class Traffic(threading.Thread):
    """Sends ``pattern(i)`` paths on one keep-alive connection until stopped."""

    def __init__(self, cluster: Cluster, pattern, pause: float = 0.0):
        super().__init__(daemon=True)
        self.cluster, self.pattern, self.pause = cluster, pattern, pause
        self.halt = threading.Event()
        self.sent = 0

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.cluster.lb.port, timeout=10)
        try:
            while not self.halt.is_set():
                self.cluster.send([self.pattern(self.sent)], conn)
                self.sent += 1
                if self.pause:
                    time.sleep(self.pause)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self) -> None:
        self.halt.set()
        self.join(10)
