"""Flags and config of the node list: initial nodes, the shared store, health checks, failover, access."""

from __future__ import annotations

from dataclasses import dataclass

from fnlb.config.flags import Flag, csv_list, duration, integer
from fnlb.config.typed import Config
from fnlb.nodes import address, version
from fnlb.nodes.health import Thresholds
from fnlb.routing.failover import RETRIES


@dataclass(frozen=True)
class NodesConfig(Config):
    """What ``NodeRegistry`` is configured with (durations in seconds), plus the two settings
    of this group used elsewhere: ``retries`` (the proxy) and ``admin_token`` (the API)."""

    nodes: tuple[str, ...] = ()        # added to the store at start
    db: str = "sqlite3://:memory:"
    hc_interval: float = 3.0
    hc_path: str = "/version"
    hc_unhealthy: int = 2
    hc_healthy: int = 1
    hc_timeout: float = 5.0
    hc_passive_unhealthy: int = 3
    min_api_version: str = "0.0.235"   # '' = any 2xx
    retries: int = RETRIES             # failover budget: the rule is fnlb.routing.failover's
    admin_token: str = ""              # '' = no token required

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.hc_healthy, self.hc_unhealthy, self.hc_passive_unhealthy)


_D = NodesConfig()


def node_list(text: str) -> list[str]:
    """Comma-separated host:port list, each address validated."""
    nodes = csv_list(text)
    for addr in nodes:
        address.validate(addr)  # AddressError is a ValueError: the parser names the flag
    return list(dict.fromkeys(nodes))


def positive_duration(text: str) -> float:
    seconds = duration(text)
    if seconds <= 0:
        raise ValueError(f"{text!r} must be more than zero")
    return seconds


def url_path(text: str) -> str:
    """An origin-form request target: it goes verbatim into the check's request line."""
    if not text.startswith("/") or any(c.isspace() or ord(c) < 0x21 or ord(c) == 0x7F for c in text):
        raise ValueError(f"{text!r} is not a URL path (it must start with / and contain no spaces)")
    return text


def version_or_empty(text: str) -> str:
    text = text.strip()
    if text:
        version.parse(text)
    return text


FLAGS = [
    Flag("nodes", list(_D.nodes), "comma-separated host:port list of function nodes, added to the node list "
         "store at start (starting with none is fine)", node_list, "LIST"),
    Flag("db", _D.db, "where the node list lives: memory (also sqlite3://:memory:), "
         "sqlite3:///path/file.db, or postgres://user@host/db (shared by several balancers)", str, "URL"),
    Flag("hc-interval", _D.hc_interval, "time between health checks of a node (and between store polls)",
         positive_duration, "DURATION"),
    Flag("hc-path", _D.hc_path, "health endpoint on each node", url_path, "PATH"),
    Flag("hc-unhealthy", _D.hc_unhealthy, "consecutive failed checks before a healthy node goes offline",
         integer(1), "N"),
    Flag("hc-healthy", _D.hc_healthy, "consecutive good checks before an unhealthy node comes back", integer(1), "N"),
    Flag("hc-timeout", _D.hc_timeout, "a health check fails after this long", positive_duration, "DURATION"),
    Flag("hc-passive-unhealthy", _D.hc_passive_unhealthy,
         "consecutive failed requests that take a node offline before its next check", integer(1), "N"),
    Flag("min-api-version", _D.min_api_version, "nodes whose /version is lower count as unhealthy ('' = any 2xx)",
         version_or_empty, "X.Y.Z"),
    Flag("retries", _D.retries, "after a node refuses or resets, try this many more nodes", integer(0), "N"),
    Flag("admin-token", _D.admin_token, "require Authorization: Bearer TOKEN for PUT and DELETE under /1/lb/",
         str, "TOKEN"),
]
