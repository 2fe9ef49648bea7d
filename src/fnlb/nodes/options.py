"""Flags of the node list: initial nodes, the shared store, health checks, failover, access."""

from fnlb.cli.flags import Flag, csv_list, duration, integer
from fnlb.nodes import address, version


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
    Flag("nodes", [], "comma-separated host:port list of function nodes, added to the node list "
         "store at start (starting with none is fine)", node_list, "LIST"),
    Flag("db", "sqlite3://:memory:", "where the node list lives: memory (also sqlite3://:memory:), "
         "sqlite3:///path/file.db, or postgres://user@host/db (shared by several balancers)", str, "URL"),
    Flag("hc-interval", 3.0, "time between health checks of a node (and between store polls)",
         positive_duration, "DURATION"),
    Flag("hc-path", "/version", "health endpoint on each node", url_path, "PATH"),
    Flag("hc-unhealthy", 2, "consecutive failed checks before a healthy node goes offline", integer(1), "N"),
    Flag("hc-healthy", 1, "consecutive good checks before an unhealthy node comes back", integer(1), "N"),
    Flag("hc-timeout", 5.0, "a health check fails after this long", positive_duration, "DURATION"),
    Flag("hc-passive-unhealthy", 3, "consecutive failed requests that take a node offline before its next check",
         integer(1), "N"),
    Flag("min-api-version", "0.0.235", "nodes whose /version is lower count as unhealthy ('' = any 2xx)",
         version_or_empty, "X.Y.Z"),
    Flag("retries", 2, "after a node refuses or resets, try this many more nodes", integer(0), "N"),
    Flag("admin-token", "", "require Authorization: Bearer TOKEN for PUT and DELETE under /1/lb/", str, "TOKEN"),
]
