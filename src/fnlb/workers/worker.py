"""One serving process of ``--workers``: ``python -m fnlb.workers.worker`` (started by the supervisor).

It reads its ``WorkerSpec`` (pickled, on stdin, from the supervisor), maps the rings,
rebuilds the routing replica from the supervisor's snapshot, and runs a ``ProxyServer``
with the traffic listener only, bound with SO_REUSEPORT on the port every worker shares
(plus, when management shares that port, a ``RelayClient`` as its management app).

It dies with its supervisor: PR_SET_PDEATHSIG delivers SIGTERM when the supervisor exits,
and a parent-pid check every ``PARENT_CHECK`` catches the case where the supervisor died
before the prctl took effect. SIGTERM (SIGINT, SIGQUIT) drains like a single-process
balancer: stop accepting, let in-flight requests finish within --shutdown-timeout.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import pickle
import signal
import sys
import time
from dataclasses import dataclass, field

from fnlb.config.serve import ServeConfig
from fnlb.proxy.server import ProxyServer
from fnlb.workers import ring as ringmod
from fnlb.workers.dispatcher import SYNC_INTERVAL, WorkerDispatcher

log = logging.getLogger("fnlb.workers")
PARENT_CHECK = 0.25
PR_SET_PDEATHSIG = 1
_CONNS = ringmod.CONNS // 8


@dataclass
class WorkerSpec:
    cfg: ServeConfig                # listen (and a shared mgmt_listen) with the real port
    index: int
    rings: list[int]                # descriptors of every worker's ring (inherited), by index
    control: int                    # the supervisor's ring
    positions: dict[int, int] = field(default_factory=dict)   # ring descriptor -> where to start reading
    policy: bytes = b""             # pickled routing policy: the supervisor's replica
    nodes: list[str] = field(default_factory=list)
    relay: str | None = None        # Unix socket of the management relay (shared port), or None
    parent: int = 0


class WorkerServer(ProxyServer):
    """A ProxyServer whose --max-connections counts every worker's traffic connections.

    The client protocol checks ``traffic_clients >= max_connections`` on accept and counts
    ``traffic_clients`` up and down; here ``traffic_clients`` is also published in the
    worker's own ring header and ``max_connections`` is the limit minus the others'."""

    def __init__(self, *args, own, others, **kw):
        self._own, self._others = ringmod.header(own), [ringmod.header(b) for b in others]
        self._count = 0
        super().__init__(*args, **kw)

    @property
    def traffic_clients(self) -> int:
        return self._count

    @traffic_clients.setter
    def traffic_clients(self, value: int) -> None:
        self._count = value
        self._own[_CONNS] = value

    @property
    def max_connections(self) -> int:
        others = 0
        for h in self._others:
            others += h[_CONNS]
        return self._limit - others

    @max_connections.setter
    def max_connections(self, value: int) -> None:
        self._limit = value


def tag_logs(index: int) -> None:
    """Every log record of this worker carries ``worker=INDEX`` (text: a key=value field;
    JSON: a field), so the lines of N workers on one stderr can be told apart; not the
    access log, whose lines keep their one fixed shape."""
    class Tag(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            if record.name != "fnlb.access":
                record.worker = index
            return True

    for handler in logging.getLogger().handlers:
        handler.addFilter(Tag())


def die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass        # not Linux: the parent-pid check below still works
    if parent and os.getppid() != parent:
        sys.exit(0)         # the supervisor died before the prctl took effect


async def run(spec: WorkerSpec) -> int:
    from fnlb.routing.router import Router

    cfg = spec.cfg
    bufs = {fd: ringmod.attach(fd) for fd in [*spec.rings, spec.control]}
    own = spec.rings[spec.index]
    peers = [ringmod.RingReader(bufs[fd], spec.positions.get(fd), f"ring of worker {i}")
             for i, fd in enumerate(spec.rings) if fd != own]
    control = ringmod.RingReader(bufs[spec.control], spec.positions.get(spec.control), "supervisor ring")
    router = Router(pickle.loads(spec.policy))
    router.set_nodes(spec.nodes)
    dispatcher = WorkerDispatcher(router, cfg.nodes.retries, ringmod.RingWriter(bufs[own]), peers, control)
    mgmt = None
    if spec.relay is not None:
        from fnlb.workers.relay import RelayClient
        mgmt = RelayClient(spec.relay)
    server = WorkerServer(dispatcher, cfg.proxy, mgmt, cfg.routing.expose_wait_header, reuse_port=True,
                          own=bufs[own], others=[bufs[n] for n in spec.rings if n != own])
    await server.start()

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
        loop.add_signal_handler(sig, stop.set)

    async def keep_in_step() -> None:
        checked = 0.0
        while not stop.is_set():
            await asyncio.sleep(SYNC_INTERVAL)
            now = time.monotonic()
            dispatcher.sync(now)
            if now - checked > PARENT_CHECK:
                checked = now
                if spec.parent and os.getppid() != spec.parent:
                    log.warning("worker %d: the supervisor is gone; shutting down", spec.index)
                    stop.set()

    sync = loop.create_task(keep_in_step())
    await stop.wait()
    await server.shutdown(cfg.proxy.shutdown_timeout)
    sync.cancel()
    dispatcher.sync(time.monotonic())
    return 0


def main() -> int:
    import uvloop

    from fnlb.config.flags import UsageError
    from fnlb.observability.logs import setup_logging

    spec: WorkerSpec = pickle.load(sys.stdin.buffer)
    die_with_parent(spec.parent)
    setup_logging(spec.cfg.observability)
    tag_logs(spec.index)
    try:
        return uvloop.run(run(spec))
    except UsageError as exc:
        print(f"fnlb: worker {spec.index}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
