"""fnlb with statistics on (and read like a dashboard and Prometheus would) versus
``--stats=false`` (not a test; about a minute).

Run: python bench/stats_onoff.py [--rounds 5] [--duration 6] [--sequential]

Reuses bench/proxy's nginx backends and wrk script (-t1 -c64, 64 paths over 3 nodes).
By default both balancers run at the same time, each under its own wrk, pinned to the same
core, so that whatever else loads the (shared) machine loads both alike; --sequential runs them one after the
other instead (the absolute rate of one balancer on its own). For each it prints the rate
and fnlb's CPU time per request (utime + stime from /proc over the wrk run), then the
medians of the per-round on/off ratios. --control turns statistics on in both (an A/A run:
how far from 1 the ratios stray by chance).
"""

import argparse
import importlib.machinery
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
bench = importlib.machinery.SourceFileLoader("bench_proxy", os.path.join(ROOT, "bench", "proxy")).load_module()


class Reader(threading.Thread):
    """Polls /1/lb/stats?since= every second and /metrics every 5 s, like the dashboard
    and a Prometheus scrape."""

    def __init__(self, mgmt: int):
        super().__init__(daemon=True)
        self.base = f"http://127.0.0.1:{mgmt}"
        self.halt = threading.Event()
        self.rows = 0

    def run(self) -> None:
        since, tick = str(int(time.time() * 1000)), 0
        while not self.halt.wait(1.0):
            with urllib.request.urlopen(f"{self.base}/1/lb/stats?since={since}") as resp:
                rows = json.loads(resp.read())["stats"]
            if rows:
                since, self.rows = rows[-1]["timestamp"], self.rows + len(rows)
            tick += 1
            if tick % 5 == 0:
                urllib.request.urlopen(f"{self.base}/metrics").read()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")     # utime + stime


class Balancer:
    def __init__(self, procs, tmp: str, nodes: str, stats: bool, label: str):
        self.stats, self.label = stats, label
        self.port, self.mgmt = bench.free_port(), bench.free_port()
        # Both balancers on the same core (when there are two): the scheduler then shares
        # it evenly between them, whatever else runs on the machine.
        pin = ["taskset", "-c", str(os.cpu_count() - 1)] if shutil.which("taskset") and os.cpu_count() > 1 else []
        self.proc = procs.start([*pin, *bench.fnlb_command(), "--listen", f"127.0.0.1:{self.port}",
                                 "--mgmt-listen", f"127.0.0.1:{self.mgmt}", "--nodes", nodes,
                                 "--log-level", "warning", f"--stats={'true' if stats else 'false'}"],
                                f"{tmp}/fnlb-{self.port}.log")
        bench.wait_port(self.port)
        bench.wait_online(self.mgmt, len(nodes.split(",")))

    def measure(self, duration: float, script: str, out: dict) -> None:
        reader = Reader(self.mgmt)
        reader.start()
        cpu0 = cpu_seconds(self.proc.pid)
        rps = bench.run_wrk(self.port, duration, 64, script)["rps"]
        cpu_us = (cpu_seconds(self.proc.pid) - cpu0) / (rps * duration) * 1e6
        reader.halt.set()
        reader.join(5)
        assert reader.rows > 0 or not self.stats, "the reader saw no stats"
        out[self.label] = (rps, cpu_us)


def one_round(balancers, duration: float, script: str, together: bool) -> dict:
    out: dict = {}
    for b in balancers:
        bench.run_wrk(b.port, 1.0, 64, script)                                  # warm up
    if together:
        threads = [threading.Thread(target=b.measure, args=(duration, script, out)) for b in balancers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for b in balancers:
            b.measure(duration, script, out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=float, default=6.0)
    ap.add_argument("--sequential", action="store_true")
    ap.add_argument("--control", action="store_true", help="A/A check: statistics on in both")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="fnlb-onoff-")
    procs = bench.Procs()
    try:
        script = f"{tmp}/paths.lua"
        with open(script, "w") as fh:
            fh.write(bench.WRK_SCRIPT)
        backends = [bench.free_port() for _ in range(3)]
        for port in backends:
            conf = f"{tmp}/backend-{port}.conf"
            with open(conf, "w") as fh:
                fh.write(bench.nginx_backend_conf(tmp, port))
            procs.start([bench.tool("nginx"), "-p", tmp, "-c", conf], f"{tmp}/backend-{port}.log")
        for port in backends:
            bench.wait_port(port)
        nodes = ",".join(f"127.0.0.1:{p}" for p in backends)
        balancers = [Balancer(procs, tmp, nodes, True, "on"), Balancer(procs, tmp, nodes, args.control, "off")]
        rate_ratio, cpu_ratio = [], []
        for k in range(args.rounds):
            order = balancers if k % 2 == 0 else balancers[::-1]      # alternate who goes first
            r = one_round(order, args.duration, script, not args.sequential)
            (on_rps, on_cpu), (off_rps, off_cpu) = r["on"], r["off"]
            rate_ratio.append(on_rps / off_rps)
            cpu_ratio.append(on_cpu / off_cpu)
            print(f"round {k + 1}: on {on_rps:>7.0f} req/s {on_cpu:5.1f} us CPU/req | "
                  f"off {off_rps:>7.0f} req/s {off_cpu:5.1f} us CPU/req", flush=True)
        print(f"median on/off: rate {statistics.median(rate_ratio):.3f}, "
              f"CPU per request {statistics.median(cpu_ratio):.3f}")
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
