"""The supervisor of ``--workers N``: one Balancer without a traffic listener, and N workers.

Theory of operation
-------------------
::

                 clients ──► traffic port (SO_REUSEPORT: the kernel spreads connections)
                    ┌──────────────┬──────────────┐
                 worker 0      worker 1   ...  worker N-1      each: ProxyServer (traffic only)
                 Router replica  Router replica  ...            + WorkerDispatcher
                    │ ring 0        │ ring 1        │          one single-writer ring each:
                    ▼               ▼               ▼          STARTED / FINISHED / FAILED
                 ───────────── read by every other process ─────────────
                                    │
                              supervisor: Balancer            health checks, node store,
                              (registry, stats, Router)       stats, /metrics, dashboard,
                              management listener             the management API, logs, signals
                                    │ control ring: NODES (healthy set), RELEASED
                                    ▼
                              read by every worker

What must exist once lives here: ``fnlb.app.Balancer`` (node registry with its health
checks, store and notifications; stats; the management app) and the management listener
(``--mgmt-listen``; when it equals ``--listen`` the workers receive management requests
and relay them here over a Unix socket, ``relay.py``). The supervisor replays every
worker's ring into its Balancer (``STARTED`` -> ``router.started``, ``FINISHED`` ->
``request_done``, ``FAILED`` -> ``upstream_failed``), so its stats, metrics, dashboard and
/1/lb/route are the whole balancer's with no aggregation code, and passive health sees
every request. When its healthy node set changes it appends ``NODES`` to its own ring.

Ports: the supervisor binds the traffic address first with SO_REUSEPORT and keeps that
socket bound but not listening (the kernel hands connections to listening sockets only).
That learns the port of ``--listen HOST:0``, reports "address in use" as a usage error
before any worker starts, and keeps the port reserved while a worker restarts.

Faults:
* a worker that exits is restarted after ``RESTART_MIN`` (doubling up to ``RESTART_MAX``
  while it keeps dying young); its ring is read to the end, its calls that never ended
  are released in every replica (``RELEASED``), its connection count is zeroed, and the
  new worker starts from a snapshot of the supervisor's routing replica (pickled policy,
  taken together with the ring positions it reflects), so it decides like the others at once;
* SIGTERM/SIGINT/SIGQUIT: SIGTERM to every worker (each drains within --shutdown-timeout),
  wait for them, stop the registry, exit 0;
* the supervisor's own death: each worker has PR_SET_PDEATHSIG and a parent-pid check
  (``worker.py``) and drains and exits: no orphan holds the port.

The rings are anonymous shared memory (``ring.create``: memfd) whose descriptors the
supervisor holds and passes to each worker it starts: nothing is left behind by any exit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import replace

from fnlb.app import Balancer
from fnlb.config.flags import UsageError
from fnlb.config.serve import ServeConfig
from fnlb.proxy.server import ProxyServer, bind_socket, tls_context
from fnlb.workers import events
from fnlb.workers import ring as ringmod
from fnlb.workers.dispatcher import SYNC_INTERVAL
from fnlb.workers.relay import RelayServer
from fnlb.workers.worker import WorkerSpec

log = logging.getLogger("fnlb.workers")
RESTART_MIN = 0.2
RESTART_MAX = 5.0
YOUNG = 5.0                 # a worker that dies sooner than this after its start backs off longer
KILL_GRACE = 5.0            # beyond --shutdown-timeout, before a worker that does not exit is killed


class Supervisor:
    def __init__(self, cfg: ServeConfig):
        self.cfg = cfg
        self.count = cfg.workers.workers
        self.balancer = Balancer(cfg)
        self.balancer.workers = self
        self.stopping = False
        self.exit_code = 0
        self.stop = asyncio.Event()
        self.segments: list[tuple[int, object]] = []      # (memfd, mapping) per ring
        self.procs: list[asyncio.subprocess.Process | None] = [None] * self.count
        self.tasks: list[asyncio.Task] = []
        self.restarts_of = [0] * self.count  # restarts per worker (the log sums them, /metrics shows each)
        self.max_lag = 0.0
        self._reserve: socket.socket | None = None
        self._relay: RelayServer | None = None
        self._relay_dir: str | None = None
        self._sent_nodes = None

    # -- start ----------------------------------------------------------------------------

    async def start(self) -> None:
        cfg = self.cfg
        proxy = cfg.proxy
        tls_context(proxy)                  # a TLS usage error before anything starts
        host, port = proxy.listen
        try:
            self._reserve = reserve = bind_socket(host, port, reuse_port=True)
        except OSError as exc:
            raise UsageError(f"--listen {host}:{port}: cannot listen: {exc.strerror or exc}") from None
        port = reserve.getsockname()[1]
        shared = tuple(proxy.listen) == tuple(proxy.mgmt_listen)
        self.worker_cfg = replace(cfg, proxy=replace(proxy, listen=(host, port),
                                                     mgmt_listen=(host, port) if shared else proxy.mgmt_listen))
        for name in [*(f"fnlb-worker-{i}" for i in range(self.count)), "fnlb-supervisor"]:
            self.segments.append(ringmod.create(name))
        self.ring_fds = [fd for fd, _ in self.segments[:-1]]
        self.control_fd = self.segments[-1][0]
        self.readers = [ringmod.RingReader(buf, 0, f"ring of worker {i}")
                        for i, (_, buf) in enumerate(self.segments[:-1])]
        self.outstanding: list[dict[tuple[str, str], int]] = [{} for _ in range(self.count)]
        self.control = ringmod.RingWriter(self.segments[-1][1])
        self.encode = events.Encoder()

        b = self.balancer
        if shared:
            self._relay_dir = tempfile.mkdtemp(prefix="fnlb-mgmt-")     # mode 0700
            self._relay = RelayServer(b.mgmt, os.path.join(self._relay_dir, "mgmt.sock"))
        else:
            b.server = ProxyServer(b, proxy, b.mgmt, cfg.routing.expose_wait_header, traffic=False)
        await b.registry.start()
        if self._relay is not None:
            await self._relay.start()
        else:
            await b.server.start()
        self.apply(time.monotonic())
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._keep_worker(i)) for i in range(self.count)]
        self.tasks.append(loop.create_task(self._apply_loop()))
        log.info("supervising %d workers on %s:%d", self.count, host or "*", port)

    # -- the workers' events --------------------------------------------------------------

    def apply(self, now: float) -> None:
        """Replay every worker's new events into the Balancer; publish node-set changes."""
        b = self.balancer
        started = b.router.started
        request_done, upstream_failed = b.request_done, b.upstream_failed
        for reader, out in zip(self.readers, self.outstanding):
            chunk = reader.read()
            if not chunk:
                continue
            for ev in events.decode(chunk):
                kind, pair = ev[0], (ev[2], ev[3])
                if kind == events.STARTED:
                    started(ev[2], ev[3], now)
                    out[pair] = out.get(pair, 0) + 1
                    continue
                if kind == events.FINISHED:
                    request_done(ev[2], ev[3], ev[4], ev[5], ev[6], now)
                elif kind == events.FAILED:
                    upstream_failed(ev[2], ev[3], now)
                else:
                    continue
                count = out.get(pair, 0)
                if count > 1:
                    out[pair] = count - 1
                else:
                    out.pop(pair, None)
            lag = time.monotonic() - ev[1]
            if lag > self.max_lag:
                self.max_lag = lag
        nodeset = b.router.nodeset
        if nodeset is not self._sent_nodes:
            self._sent_nodes = nodeset
            self.control.write(self.encode.nodes(nodeset.nodes, now))

    async def _apply_loop(self) -> None:
        while True:
            await asyncio.sleep(SYNC_INTERVAL)
            try:
                self.apply(time.monotonic())
            except Exception:
                log.exception("applying the workers' events failed")

    def _release(self, i: int, now: float) -> None:
        """Worker i is gone: its calls that never ended end now, in every replica."""
        self.apply(now)
        finished = self.balancer.router.finished
        for (node, key), count in self.outstanding[i].items():
            for _ in range(count):
                finished(node, key, now, None, 0.0, 499)
            self.control.write(self.encode.released(node, key, now, count))
        if self.outstanding[i]:
            log.info("worker %d: %d calls in flight at its end released", i, sum(self.outstanding[i].values()))
        self.outstanding[i] = {}
        ringmod.header(self.segments[i][1])[ringmod.CONNS // 8] = 0

    def _spec(self, i: int) -> WorkerSpec:
        now = time.monotonic()
        self.apply(now)
        positions = {fd: reader.pos for fd, reader in zip(self.ring_fds, self.readers)}
        positions[self.control_fd] = self.control.pos
        return WorkerSpec(cfg=self.worker_cfg, index=i, rings=self.ring_fds, control=self.control_fd,
                          positions=positions, policy=pickle.dumps(self.balancer.router.policy),
                          nodes=list(self.balancer.router.nodeset.nodes),
                          relay=self._relay.path if self._relay is not None else None, parent=os.getpid())

    # -- worker processes -----------------------------------------------------------------

    def worker_states(self) -> list[tuple[bool, int]]:
        """(running, restarts so far) of each worker, by index: what /metrics reports."""
        return [(proc is not None, restarts) for proc, restarts in zip(self.procs, self.restarts_of)]

    async def _keep_worker(self, i: int) -> None:
        backoff = RESTART_MIN
        first = True
        while not self.stopping:
            spec = pickle.dumps(self._spec(i))
            proc: asyncio.subprocess.Process = await asyncio.create_subprocess_exec(sys.executable, "-m", "fnlb.workers.worker",
                                                        stdin=asyncio.subprocess.PIPE,
                                                        pass_fds=[fd for fd, _ in self.segments])
            self.procs[i] = proc
            began = time.monotonic()
            log.info("worker %d started (pid %d)", i, proc.pid)
            stdin = proc.stdin
            assert stdin is not None
            try:
                stdin.write(spec)
                await stdin.drain()
                stdin.close()
            except (BrokenPipeError, ConnectionResetError):
                pass
            code = await proc.wait()
            self.procs[i] = None
            self._release(i, time.monotonic())
            if self.stopping:
                log.info("worker %d (pid %d) exited with %s", i, proc.pid, code)
                return
            if code == 2 and first:
                log.error("worker %d could not start (usage error above); stopping", i)
                self.exit_code = 2
                self.stop.set()
                return
            first = False
            backoff = min(backoff * 2, RESTART_MAX) if time.monotonic() - began < YOUNG else RESTART_MIN
            self.restarts_of[i] += 1
            log.warning("worker %d (pid %d) exited with %s; restarting it in %.1fs", i, proc.pid,
                        _describe(code), backoff)
            await asyncio.sleep(backoff)

    # -- stop -----------------------------------------------------------------------------

    async def shutdown(self) -> None:
        self.stopping = True
        live = [p for p in self.procs if p is not None and p.returncode is None]
        for proc in live:
            try:
                proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        timeout = self.cfg.proxy.shutdown_timeout
        waiting = [asyncio.ensure_future(p.wait()) for p in live]
        if waiting:
            _, pending = await asyncio.wait(waiting, timeout=timeout + KILL_GRACE if timeout > 0 else None)
            for proc in live:
                if proc.returncode is None:
                    log.warning("worker pid %d did not stop in time: killed", proc.pid)
                    proc.kill()
            if pending:
                await asyncio.wait(pending, timeout=5)
        for task in self.tasks[:-1]:
            if not task.done():
                task.cancel()
        await asyncio.sleep(0)
        self.tasks[-1].cancel()
        self.apply(time.monotonic())
        log.info("workers stopped: %d restarts; events replayed up to %.1f ms after they happened; "
                 "%d lapped reads", sum(self.restarts_of), self.max_lag * 1000, sum(r.lapped for r in self.readers))
        if self._relay is not None:
            self._relay.close()
        await self.balancer.shutdown()

    def cleanup(self) -> None:
        for fd, _ in self.segments:
            os.close(fd)        # the memory goes with the last mapping (ring.create)
        self.segments = []
        if self._relay_dir is not None:
            shutil.rmtree(self._relay_dir, ignore_errors=True)
        if self._reserve is not None:
            self._reserve.close()


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"status {code}"


async def supervise(cfg: ServeConfig) -> int:
    from fnlb.observability.logs import setup_logging

    setup_logging(cfg.observability)
    sup = Supervisor(cfg)
    try:
        await sup.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
            loop.add_signal_handler(sig, sup.stop.set)
        await sup.stop.wait()
        log.info("shutting down %d workers", sup.count)
        await sup.shutdown()
    finally:
        sup.cleanup()
    return sup.exit_code


def run_supervisor(cfg: ServeConfig) -> int:
    import uvloop

    return uvloop.run(supervise(cfg))
