"""fnlb's request rate with statistics on (and read like a dashboard and Prometheus would)
versus ``--stats=false`` (not a test; about two minutes).

Run: python -m tests.observability.bench_onoff [--rounds 3] [--duration 8]

Reuses bench/proxy's nginx backends and wrk script (-t1 -c64, 64 paths over 3 nodes).
fnlb's CPU time per request (utime + stime from /proc over the wrk run) is printed too: on
a shared machine it is a steadier measure than the rate, whose inverse it is on a free core.
Rounds alternate on/off so that the load of a shared machine hits both alike; prints the
median of each, their ratio and the median of the per-round (paired) ratios.
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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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


def run_fnlb(procs, tmp, nodes, stats: bool, duration: float, script: str) -> tuple[float, float]:
    port, mgmt = bench.free_port(), bench.free_port()
    proc = procs.start([*bench.fnlb_command(), "--listen", f"127.0.0.1:{port}", "--mgmt-listen",
                        f"127.0.0.1:{mgmt}", "--nodes", nodes, "--log-level", "warning",
                        f"--stats={'true' if stats else 'false'}"], f"{tmp}/fnlb.log")
    try:
        bench.wait_port(port)
        bench.wait_online(mgmt, len(nodes.split(",")))
        bench.run_wrk(port, 2.0, 64, script)                      # warm up
        reader = Reader(mgmt)
        reader.start()
        cpu0 = cpu_seconds(proc.pid)
        rps = bench.run_wrk(port, duration, 64, script)["rps"]
        cpu_us = (cpu_seconds(proc.pid) - cpu0) / (rps * duration) * 1e6
        reader.halt.set()
        reader.join(5)
        if stats:
            assert reader.rows > 0, "the reader saw no stats"
        return rps, cpu_us
    finally:
        procs.stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=8.0)
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
        results, cpu = {True: [], False: []}, {True: [], False: []}
        for _ in range(args.rounds):
            for stats in (True, False):
                rps, us = run_fnlb(procs, tmp, nodes, stats, args.duration, script)
                results[stats].append(rps)
                cpu[stats].append(us)
                print(f"stats {'on ' if stats else 'off'} {rps:>9.0f} req/s  {us:6.1f} us CPU/request", flush=True)
        cpu_on, cpu_off = statistics.median(cpu[True]), statistics.median(cpu[False])
        print(f"fnlb CPU per request (median): on {cpu_on:.1f} us, off {cpu_off:.1f} us, "
              f"on/off = {cpu_on / cpu_off:.3f} (the rate a free core allows is its inverse)")
        on, off = statistics.median(results[True]), statistics.median(results[False])
        pairs = [a / b for a, b in zip(results[True], results[False])]
        print(f"median: on {on:.0f} req/s, off {off:.0f} req/s, on/off = {on / off:.3f}; "
              f"median of paired ratios {statistics.median(pairs):.3f}")
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
