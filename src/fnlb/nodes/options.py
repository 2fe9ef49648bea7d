"""Flags of the node list: initial nodes, the shared store, health checks, failover, access."""

from fnlb.cli.flags import Flag, csv_list, duration, integer

FLAGS = [
    Flag("nodes", [], "comma-separated host:port list of function nodes (starting with none is fine)",
         csv_list, "LIST"),
    Flag("db", "sqlite3://:memory:", "where the node list lives: memory, sqlite3:///path.db or "
         "postgres://user@host/db (shared by several balancers)", str, "URL"),
    Flag("hc-interval", 3.0, "time between health checks of a node (and between store polls)", duration, "DURATION"),
    Flag("hc-path", "/version", "health endpoint on each node", str, "PATH"),
    Flag("hc-unhealthy", 2, "consecutive failed checks before a healthy node goes offline", integer(1), "N"),
    Flag("hc-healthy", 1, "consecutive good checks before an unhealthy node comes back", integer(1), "N"),
    Flag("hc-timeout", 5.0, "a health check fails after this long", duration, "DURATION"),
    Flag("hc-passive-unhealthy", 3, "consecutive failed requests that take a node offline before its next check",
         integer(1), "N"),
    Flag("min-api-version", "0.0.235", "nodes whose /version is lower count as unhealthy ('' = any 2xx)", str, "X.Y.Z"),
    Flag("retries", 2, "after a node refuses or resets, try this many more nodes", integer(0), "N"),
    Flag("admin-token", "", "require Authorization: Bearer TOKEN for PUT and DELETE under /1/lb/", str, "TOKEN"),
]
