#!/usr/bin/env python3
"""Instructions per proxied request of a running fnlb, the method of docs/proxy.md.

    bench/instructions.py [--src DIR] [--duration 8] [--connections 16] [--runs 1]

One nginx backend (bench/proxy's, a 200-byte body and the wait header), ``fnlb serve
--stats=false --hc-interval 1h`` under ``valgrind --tool=callgrind --instr-atstart=no``,
a short wrk warm-up uninstrumented, then instrumentation on (``callgrind_control -i on``)
for one ``wrk -t1 -cN -dS`` run: the instructions counted divided by the requests wrk
counted. ``--src`` runs another source tree (``PYTHONPATH``; an A/B in one window). All on
127.0.0.1; every process and file is temporary.
"""

from __future__ import annotations

import argparse
import glob
import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
_loader = importlib.machinery.SourceFileLoader("bench_proxy", os.path.join(HERE, "proxy"))
_spec = importlib.util.spec_from_loader("bench_proxy", _loader)
assert _spec is not None
bp = importlib.util.module_from_spec(_spec)
sys.path.insert(0, HERE)
_loader.exec_module(bp)


def wrk(port: int, connections: int, duration: float) -> int:
    out = subprocess.run([bp.tool("wrk"), "-t1", f"-c{connections}", f"-d{duration:g}s",
                          f"http://127.0.0.1:{port}/r/app/fn"], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"(\d+) requests in", out).group(1))


def measure(args, tmp: str, backend: int) -> float:
    port, mgmt = bp.free_port(), bp.free_port()
    env = dict(os.environ, **({"PYTHONPATH": args.src} if args.src else {}))
    out_base = os.path.join(tmp, f"callgrind.{port}")
    cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_base}.%p",
           *bp.fnlb_command(), "serve", "--listen", f"127.0.0.1:{port}", "--mgmt-listen", f"127.0.0.1:{mgmt}",
           "--nodes", f"127.0.0.1:{backend}", "--stats=false", "--hc-interval", "1h", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(f"{out_base}.log", "wb"),
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/r/app/fn", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"fnlb under callgrind did not come up (see {out_base}.log)")
            time.sleep(0.5)
        wrk(port, args.connections, 2)      # warm-up: caches filled, code paths taken once
        subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True, capture_output=True)
        requests = wrk(port, args.connections, args.duration)
        subprocess.run(["callgrind_control", "-i", "off", str(proc.pid)], check=True, capture_output=True)
        before = set(glob.glob(f"{out_base}.*"))
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
        deadline = time.monotonic() + 30
        while not (dumps := sorted(set(glob.glob(f"{out_base}.*")) - before)) and time.monotonic() < deadline:
            time.sleep(0.5)
        if not dumps:
            raise RuntimeError(f"no callgrind dump next to {out_base}")
        time.sleep(1)
        total = 0
        for dump in dumps:   # "summary:" stays 0 with --instr-atstart=no: callgrind_annotate adds up
            text = subprocess.run(["callgrind_annotate", dump], check=True, capture_output=True, text=True).stdout
            total += int(re.search(r"([\d,]+) +(?:\(100.0%\) +)?PROGRAM TOTALS", text).group(1).replace(",", ""))
        if not total:
            raise RuntimeError(f"no instructions counted in {dumps}")
        return total / requests
    finally:
        bp.Procs().stop(proc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default="", help="source tree to run (PYTHONPATH), default the installed fnlb")
    ap.add_argument("--duration", type=float, default=8.0)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    procs = bp.Procs()
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        backend = bp.free_port()
        conf = os.path.join(tmp, "backend.conf")
        with open(conf, "w") as fh:
            fh.write(bp.nginx_backend_conf(tmp, backend))
        procs.start([bp.tool("nginx"), "-p", tmp, "-c", conf], os.path.join(tmp, "backend.log"))
        try:
            bp.wait_port(backend)
            for _ in range(args.runs):
                print(f"{measure(args, tmp, backend):,.0f} instructions per request", flush=True)
        finally:
            procs.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
