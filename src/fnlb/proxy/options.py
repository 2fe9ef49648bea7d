"""Flags of the data path: listeners, TLS, timeouts, limits, connection pool, shutdown."""

import os

from fnlb.cli.flags import Flag, boolean, duration, integer, listen_address, size


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
    Flag("listen", listen_address(":8081"), "address for traffic (host:port; :port = all interfaces)",
         listen_address, "ADDR"),
    Flag("mgmt-listen", listen_address(":8081"),
         "address for /1/lb/*, /metrics and the dashboard; when it differs from --listen the "
         "traffic listener serves no management endpoints", listen_address, "ADDR"),
    Flag("tls-cert", "", "PEM certificate chain: terminate TLS on the traffic listener (needs --tls-key)",
         pem_file(b"-----BEGIN CERTIFICATE-----", "certificate"), "FILE"),
    Flag("tls-key", "", "PEM private key for --tls-cert", pem_file(b"PRIVATE KEY-----", "private key"), "FILE"),
    Flag("connect-timeout", 3.0, "give up connecting to a node after this long", duration, "DURATION"),
    Flag("upstream-timeout", 60.0, "answer 504 when a node sends no response within this long", duration, "DURATION"),
    Flag("client-header-timeout", 10.0, "close a client that has not sent complete headers in this long",
         duration, "DURATION"),
    Flag("client-body-timeout", 30.0, "close a client whose request body stalls this long between reads",
         duration, "DURATION"),
    Flag("client-idle-timeout", 60.0, "close an idle keep-alive client connection after this long",
         duration, "DURATION"),
    Flag("max-header-size", 64 * 1024, "largest request header block; larger gets 431", size, "BYTES"),
    Flag("max-request-line", 8 * 1024, "longest request line; longer gets 414", size, "BYTES"),
    Flag("max-connections", 20000, "client connections served at once; beyond it new ones are closed",
         integer(1), "N"),
    Flag("pool-size", 128, "idle keep-alive connections kept per node", integer(0), "N"),
    Flag("pool-idle-timeout", 30.0, "close a pooled idle node connection after this long", duration, "DURATION"),
    Flag("shutdown-timeout", 0.0, "on SIGINT/SIGTERM/SIGQUIT, wait this long for in-flight requests (0 = all)",
         duration, "DURATION"),
    Flag("access-log", False, "log one line per request (logger fnlb.access)", boolean, is_bool=True),
]
