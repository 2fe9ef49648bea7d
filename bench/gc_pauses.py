#!/usr/bin/env python3
"""The cyclic GC's pauses caused by a routing policy's per-call state, without sockets.

    bench/gc_pauses.py [--policy default] [--rate 25000] [--seconds 16] [--inflight 64]

Drives the policy the way the proxy does (``begin`` per call, ``finished`` when it ends,
``--inflight`` calls in flight, 64 keys over 3 nodes, virtual time at ``--rate`` calls a
second, every call warm) and times each collection with ``gc.callbacks``. A policy that
keeps a GC-tracked object per call for seconds (the container estimate's lapse FIFO did,
as tuples) makes every full collection walk all of them: at 25k calls a second that was a
29 ms pause, which is the proxy's p99. Run it with ``FNLB_PURE=1`` for the uncompiled core.
"""

from __future__ import annotations

import argparse
import collections
import gc
import time

from fnlb.routing.nodeset import NodeSet
from fnlb.routing.policies import make_policy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policy", default="default")
    ap.add_argument("--rate", type=float, default=25_000.0)
    ap.add_argument("--seconds", type=float, default=16.0)
    ap.add_argument("--inflight", type=int, default=64)
    args = ap.parse_args()

    policy = make_policy(args.policy)
    nodes = NodeSet([f"10.0.0.{i}:8080" for i in range(1, 4)])
    keys = [f"/r/app/fn{i}" for i in range(64)]
    pauses: list[tuple[int, float]] = []
    began = [0.0]

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], time.perf_counter() - began[0]))

    gc.freeze()  # as the proxy does after start-up
    gc.callbacks.append(timed)
    inflight: collections.deque[tuple[str, str]] = collections.deque()
    now, step = 0.0, 1.0 / args.rate
    for i in range(int(args.rate * args.seconds)):
        now += step
        key = keys[i % len(keys)]
        inflight.append((policy.begin(key, nodes, now), key))
        if len(inflight) >= args.inflight:
            node, done = inflight.popleft()
            policy.finished(node, done, now, 0.0, 0.002, 200)
    gc.callbacks.remove(timed)
    worst = {g: max((p for gen, p in pauses if gen == g), default=0.0) for g in (0, 1, 2)}
    print(f"{args.policy}: {len(pauses)} collections in {args.seconds:g} s of calls at {args.rate:g}/s; "
          f"longest by generation: " + ", ".join(f"gen{g} {worst[g] * 1000:.1f} ms" for g in (0, 1, 2)))


if __name__ == "__main__":
    main()
