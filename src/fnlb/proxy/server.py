"""ProxyServer: the listeners, the shared state of all connections, timers and shutdown.

ProxyServer(dispatcher, cfg, mgmt, expose_wait=False):
  dispatcher                    the balancer, seen through the four calls of dispatcher.py
  cfg                           a ProxyConfig (options.py: listeners, TLS, timeouts, limits, pool)
  mgmt                          fnlb.api's MgmtApp: answers management requests (local.py)
  expose_wait                   --expose-wait-header (a routing flag; the pool's connections apply it)
  reuse_port                    bind the traffic listener with SO_REUSEPORT: one of the processes of
                                --workers (fnlb.workers); mgmt None then means no management listener
  traffic                       False: bind only --mgmt-listen (the supervisor of --workers)
  async start()                 bind --listen and --mgmt-listen (one listener when equal)
  traffic_address, mgmt_address (host, port) actually bound (port 0 = ephemeral)
  async shutdown(timeout)       stop accepting, finish in-flight (timeout 0 = wait for all)

The protocols (client.py, upstream.py) read their settings from here as plain attributes.
Timeouts are deadlines on the connections, checked by one periodic sweep (a tenth of the
shortest timeout, at most once a second), so the per-request path creates no timers and
reads no clock for them: it arms a deadline as ``-timeout`` and the sweep makes it absolute.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import resource
import socket
import ssl

from fnlb import __version__, core
from fnlb.config.flags import UsageError
from fnlb.proxy.client import MGMT, TRAFFIC, ClientProtocol
from fnlb.proxy.dispatcher import Dispatcher
from fnlb.proxy.options import ProxyConfig
from fnlb.proxy.pool import Pool

log = logging.getLogger("fnlb.proxy")

BACKLOG = 4096
SWEEP_MAX = 1.0
SWEEP_MIN = 0.02
SHUTDOWN_POLL = 0.05


class ProxyServer:
    def __init__(self, dispatcher: Dispatcher, cfg: ProxyConfig, mgmt, expose_wait: bool = False, *,
                 reuse_port: bool = False, traffic: bool = True):
        self.dispatcher: Dispatcher = dispatcher     # what the exchanges call (exchange.py)
        self.reuse_port = reuse_port
        self.serve_traffic = traffic
        self.cfg = cfg
        self.expose_wait = expose_wait
        self.mgmt = mgmt
        self.clients: set[ClientProtocol] = set()
        self.traffic_clients = 0
        self.tasks: set[asyncio.Task] = set()
        self.draining = False
        self.traffic_address: tuple[str, int] | None = None
        self.mgmt_address: tuple[str, int] | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self._sweeper: asyncio.Task | None = None
        # settings read by the protocols
        self.max_connections = cfg.max_connections
        self.header_timeout = cfg.client_header_timeout
        self.body_timeout = cfg.client_body_timeout
        self.idle_timeout = cfg.client_idle_timeout
        self.upstream_timeout = cfg.upstream_timeout
        self.max_request_line = cfg.max_request_line
        self.max_header_size = cfg.max_header_size
        self.head_limit = cfg.max_request_line + cfg.max_header_size
        self.access_log = cfg.access_log
        self.tls = tls_context(cfg)
        self.proto_header = b"X-Forwarded-Proto: https\r\n" if self.tls else b"X-Forwarded-Proto: http\r\n"

    async def start(self) -> None:
        log.info("fnlb %s (%s)", __version__, core())
        raise_nofile_limit()
        self.loop = loop = asyncio.get_running_loop()
        self.pool = Pool(loop, self.cfg, self.expose_wait)
        cfg = self.cfg
        if not self.serve_traffic:
            self.mgmt_address = await self._listen("--mgmt-listen", cfg.mgmt_listen, MGMT, None, "management")
        elif tuple(cfg.listen) == tuple(cfg.mgmt_listen):
            self.traffic_address = self.mgmt_address = await self._listen(
                "--listen", cfg.listen, TRAFFIC | MGMT, self.tls, "traffic and management", self.reuse_port)
        else:
            self.traffic_address = await self._listen("--listen", cfg.listen, TRAFFIC, self.tls, "traffic",
                                                      self.reuse_port)
            if self.mgmt is not None or not self.reuse_port:
                self.mgmt_address = await self._listen("--mgmt-listen", cfg.mgmt_listen, MGMT, None, "management")
        self._sweeper = loop.create_task(self._sweep())
        # Everything allocated so far (modules, config, the node list) lives as long as the
        # process: keep it out of the cyclic GC's full collections, which the per-request
        # allocations trigger now and then.
        gc.freeze()

    async def _listen(self, flag: str, address, role: int, tls, what: str,
                      reuse_port: bool = False) -> tuple[str, int]:
        host, port = address
        try:
            sock = bind_socket(host, port, reuse_port)
        except OSError as exc:
            raise UsageError(f"{flag} {host}:{port}: cannot listen: {exc.strerror or exc}") from None
        server = await self.loop.create_server(lambda: ClientProtocol(self, role), sock=sock,
                                               backlog=BACKLOG, ssl=tls)
        self._servers.append(server)
        bound = sock.getsockname()[:2]
        shown = f"[{bound[0]}]:{bound[1]}" if ":" in bound[0] else f"{bound[0]}:{bound[1]}"
        log.info("listening on %s (%s%s)", shown, what, ", TLS" if tls else "")
        return bound[0], bound[1]

    async def _sweep(self) -> None:
        cfg = self.cfg
        timeouts = [t for t in (cfg.client_header_timeout, cfg.client_body_timeout, cfg.client_idle_timeout,
                                cfg.upstream_timeout, cfg.pool_idle_timeout) if t > 0]
        interval = max(SWEEP_MIN, min([SWEEP_MAX, *(t / 10 for t in timeouts)]))
        while True:
            await asyncio.sleep(interval)
            now = self.loop.time()
            expired = []
            for client in self.clients:
                # a negative deadline is "armed": -timeout, set on the hot path without
                # reading the clock; it becomes absolute here (so a timeout fires between
                # its value and its value plus one sweep interval)
                d = client.deadline
                if d:
                    if d < 0:
                        client.deadline = now - d
                    elif d <= now:
                        expired.append(client)
                ex = client.active
                if ex is not None and ex.up is not None:
                    up = ex.up
                    d = up.deadline
                    if d:
                        if d < 0:
                            up.deadline = now - d
                        elif d <= now:
                            expired.append(up)
            for conn in expired:
                conn.deadline_passed(now)
            self.pool.sweep(now)

    async def shutdown(self, timeout: float) -> None:
        self.draining = True
        for server in self._servers:
            server.close()
        for client in list(self.clients):
            client.drain()
        deadline = self.loop.time() + timeout if timeout > 0 else None
        while self.clients and (deadline is None or self.loop.time() < deadline):
            await asyncio.sleep(SHUTDOWN_POLL)
        for client in list(self.clients):
            client.transport.abort()
        self.pool.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.sleep(0)      # let the aborted transports run connection_lost


def bind_socket(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """One listening socket; host '' = all interfaces (dual-stack where IPv6 exists), so
    that port 0 yields one port for every family. ``reuse_port``: SO_REUSEPORT, so that
    several processes listen on the port and the kernel spreads connections over them."""
    if host == "":
        candidates = [(socket.AF_INET6, ("::", port)), (socket.AF_INET, ("0.0.0.0", port))]
    else:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        candidates = [(family, addr) for family, _, _, _, addr in infos]
    error: OSError | None = None
    for family, addr in candidates:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6 and host == "":
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind(addr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        sock.setblocking(False)
        return sock
    raise error or OSError(f"no address for {host!r}")


def raise_nofile_limit() -> None:
    """Holding 10,000+ idle clients needs more descriptors than the usual soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-file limit from %d to %d: %s", soft, target, exc)


def tls_context(cfg: ProxyConfig) -> ssl.SSLContext | None:
    """TLS for the traffic listener, or a UsageError naming the flag at fault."""
    cert, key = cfg.tls_cert, cfg.tls_key
    if not cert and not key:
        return None
    if not cert or not key:
        raise UsageError("--tls-cert and --tls-key must be given together")
    # the files themselves were checked by the flag converters (options.py)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise UsageError(f"--tls-key {key}: not a PEM private key matching --tls-cert ({exc.reason or exc})") from None
    return ctx
