"""Flags and config of the data path: listeners, TLS, timeouts, limits, connection pool, shutdown."""

from __future__ import annotations

import os
from dataclasses import dataclass

from fnlb.config.flags import Flag, boolean, duration, integer, listen_address, size
from fnlb.config.typed import Config


@dataclass(frozen=True)
class ProxyConfig(Config):
    """What ``ProxyServer`` and its pool are configured with (durations in seconds)."""

    listen: tuple[str, int] = ("", 8081)       # host '' = all interfaces
    mgmt_listen: tuple[str, int] = ("", 8081)  # equal to listen: one listener serves both
    tls_cert: str = ""                         # '' = plain HTTP
    tls_key: str = ""
    connect_timeout: float = 3.0
    upstream_timeout: float = 60.0
    client_header_timeout: float = 10.0
    client_body_timeout: float = 30.0
    client_idle_timeout: float = 60.0
    max_header_size: int = 64 * 1024           # bytes
    max_request_line: int = 8 * 1024           # bytes
    max_connections: int = 20000
    pool_size: int = 128
    pool_idle_timeout: float = 30.0
    shutdown_timeout: float = 0.0              # 0 = wait for every in-flight request
    access_log: bool = False


_D = ProxyConfig()


def pem_file(marker: bytes, what: str):
    """A readable PEM file containing ``marker`` ('' = not set): checked while the flags are
    parsed, so a bad file is a one-line usage error before anything starts."""
    def convert(text: str) -> str:
        path = text.strip()
        if not path:
            return ""
        if not os.path.isfile(path):
            raise ValueError(f"{path}: no such file")
        try:
            with open(path, "rb") as fh:
                data = fh.read(1 << 20)
        except OSError as exc:
            raise ValueError(f"{path}: {exc.strerror}") from None
        if marker not in data:
            raise ValueError(f"{path} is not a PEM {what}")
        return path
    return convert


FLAGS = [
    Flag("listen", _D.listen, "address for traffic (host:port; :port = all interfaces)",
         listen_address, "ADDR"),
    Flag("mgmt-listen", _D.mgmt_listen,
         "address for /1/lb/*, /metrics and the dashboard; when it differs from --listen the "
         "traffic listener serves no management endpoints", listen_address, "ADDR"),
    Flag("tls-cert", _D.tls_cert, "PEM certificate chain: terminate TLS on the traffic listener (needs --tls-key)",
         pem_file(b"-----BEGIN CERTIFICATE-----", "certificate"), "FILE"),
    Flag("tls-key", _D.tls_key, "PEM private key for --tls-cert",
         pem_file(b"PRIVATE KEY-----", "private key"), "FILE"),
    Flag("connect-timeout", _D.connect_timeout, "give up connecting to a node after this long",
         duration, "DURATION"),
    Flag("upstream-timeout", _D.upstream_timeout, "answer 504 when a node sends no response within this long",
         duration, "DURATION"),
    Flag("client-header-timeout", _D.client_header_timeout,
         "close a client that has not sent complete headers in this long", duration, "DURATION"),
    Flag("client-body-timeout", _D.client_body_timeout,
         "close a client whose request body stalls this long between reads", duration, "DURATION"),
    Flag("client-idle-timeout", _D.client_idle_timeout, "close an idle keep-alive client connection after this long",
         duration, "DURATION"),
    Flag("max-header-size", _D.max_header_size, "largest request header block; larger gets 431", size, "BYTES"),
    Flag("max-request-line", _D.max_request_line, "longest request line; longer gets 414", size, "BYTES"),
    Flag("max-connections", _D.max_connections,
         "client connections served at once; beyond it new ones are closed", integer(1), "N"),
    Flag("pool-size", _D.pool_size, "idle keep-alive connections kept per node", integer(0), "N"),
    Flag("pool-idle-timeout", _D.pool_idle_timeout, "close a pooled idle node connection after this long",
         duration, "DURATION"),
    Flag("shutdown-timeout", _D.shutdown_timeout,
         "on SIGINT/SIGTERM/SIGQUIT, wait this long for in-flight requests (0 = all)", duration, "DURATION"),
    Flag("access-log", _D.access_log, "log one line per request (logger fnlb.access)", boolean, is_bool=True),
]
