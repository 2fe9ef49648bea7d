#!/usr/bin/env python3
"""Instructions per proxied request of the data path alone, in-process and deterministic.

    bench/roundtrip.py [--real] [--stats] [--requests 20000] [--src DIR]

One ClientProtocol and one pooled UpstreamProtocol on fake transports: each round trip
feeds a wrk-like GET to the client side and nginx's small response (6 headers, 200-byte
body) to the node side. Run under callgrind twice (0 and N round trips); the difference
divided by N is printed. Agrees with itself within about 0.1%, so small changes show;
the running-proxy method of docs/proxy.md (uvloop, system calls, wrk) stays the reference.

--real uses the real dispatcher (routing, wait table, registry) instead of a stub;
--stats turns statistics on with it; --src measures another source tree (A/B).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

NODE = "127.0.0.1:9000"
REQUESTS = [b"GET /r/app/fn%d HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n" % i for i in range(64)]
RESPONSE = (b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 28 Nov 2026 15:24:48 GMT\r\n"
            b"Content-Type: text/plain\r\nContent-Length: 200\r\nConnection: keep-alive\r\n"
            b"XXX-FXLB-WAIT: 1ms\r\n\r\n" + b"x" * 200)


class Transport:
    def __init__(self):
        self.out: list[bytes] = []

    def write(self, data):
        self.out.append(data)

    def writelines(self, parts):
        self.out.append(b"".join(parts))

    def set_write_buffer_limits(self, high, low):
        pass

    def get_extra_info(self, name):
        return ("127.0.0.1", 50000)

    def is_closing(self):
        return False

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass


class StubDispatcher:
    """fnlb.proxy.dispatcher.Dispatcher with no routing: every request goes to NODE."""

    def begin(self, key, now):
        return NODE

    def begin_retry(self, key, tried, now):
        return None     # the stub node never fails

    def request_done(self, *args):
        pass

    def upstream_failed(self, *args):
        pass


def setup(real: bool, stats: bool):
    from collections import deque

    from fnlb.config.flags import parse
    from fnlb.config.serve import FLAGS, ServeConfig
    from fnlb.proxy.client import TRAFFIC, ClientProtocol
    from fnlb.proxy.pool import Pool
    from fnlb.proxy.server import ProxyServer
    from fnlb.proxy.upstream import UpstreamProtocol

    ns, _ = parse(FLAGS, ["--listen", "127.0.0.1:1", "--mgmt-listen", "127.0.0.1:2", f"--stats={str(stats).lower()}"],
                  env={})
    cfg = ServeConfig.from_namespace(ns)
    if real:
        from fnlb.app import Balancer
        dispatcher = Balancer(cfg)
        dispatcher.router.set_nodes([NODE])
    else:
        dispatcher = StubDispatcher()
    server = ProxyServer(dispatcher, cfg.proxy, None, cfg.routing.expose_wait_header)
    server.pool = Pool(None, cfg.proxy, cfg.routing.expose_wait_header)
    up = UpstreamProtocol(server.pool, NODE)
    up_transport = Transport()
    up.connection_made(up_transport)
    server.pool.idle[NODE] = deque([up])
    client = ClientProtocol(server, TRAFFIC)
    client_transport = Transport()
    client.connection_made(client_transport)

    def round_trip(i: int) -> None:
        client.data_received(REQUESTS[i & 63])
        up.data_received(RESPONSE)
        assert client_transport.out and up_transport.out
        client_transport.out.clear()
        up_transport.out.clear()

    return round_trip


def run(n: int, real: bool, stats: bool) -> None:
    round_trip = setup(real, stats)
    round_trip(0)       # caches filled, as in a running proxy
    for i in range(n):
        round_trip(i)


def instructions(args, n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        env = dict(os.environ, PYTHONPATH=args.src) if args.src else None
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                        os.path.abspath(__file__), "--child", str(n), *(["--real"] if args.real else []),
                        *(["--stats"] if args.stats else [])], check=True, capture_output=True, env=env)
        with open(out) as fh:
            for line in fh:
                if line.startswith("summary:"):
                    return int(line.split()[1])
    raise RuntimeError("no callgrind summary")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--real", action="store_true", help="the real dispatcher instead of a stub")
    ap.add_argument("--stats", action="store_true", help="with --real: statistics on")
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--src", default="", help="source tree to measure (PYTHONPATH), default the installed fnlb")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        run(args.child, args.real, args.stats)
        return 0
    per_request = (instructions(args, args.requests) - instructions(args, 0)) / args.requests
    print(f"{per_request:,.0f} instructions per round trip")
    return 0


if __name__ == "__main__":
    sys.exit(main())
