"""Where the node list lives, chosen by ``--db``.

Every store keeps the original fnlb's table, ``lb_nodes(address text primary key)``, so an
existing fnlb database keeps working, and offers the same small async interface:

  open()                 connect and create the table if missing
  add(addr) -> bool      True if the address was not stored yet
  remove(addr) -> bool   True if it was stored
  addresses() -> set     the stored list
  wait_change(timeout)   return after ``timeout`` seconds, or sooner when the store
                         knows the list changed (PostgreSQL LISTEN/NOTIFY)
  close()

Any failure to reach the store raises :class:`StoreUnavailable`; the registry keeps
routing with the last list it loaded, and the management API answers 503 for a change that
could not be saved. :func:`from_url` checks the URL's syntax only (a bad URL is a usage
error, exit 2); whether the server answers is found out at ``open()``.

URLs:
  memory, sqlite3://:memory:, sqlite://:memory:    in-process, lost on exit (default)
  sqlite3:///abs/path.db, sqlite3://rel/path.db    a SQLite file (sqlite:// alike)
  postgres://user:pw@host:port/db, postgresql://...  PostgreSQL, shared by balancers
"""

from __future__ import annotations

import asyncio

from fnlb.config.flags import UsageError

TABLE = "lb_nodes"


class StoreUnavailable(Exception):
    """The store could not be reached or did not complete the operation."""


class NodeStore:
    """Base class: subclasses implement the operations; waiting defaults to polling."""

    description = "store"

    async def open(self) -> None:
        pass

    async def add(self, addr: str) -> bool:
        raise NotImplementedError

    async def remove(self, addr: str) -> bool:
        raise NotImplementedError

    async def addresses(self) -> set[str]:
        raise NotImplementedError

    def mark_seen(self) -> None:
        """Called just before ``addresses()``: changes after this wake ``wait_change``."""

    async def wait_change(self, timeout: float) -> None:
        await asyncio.sleep(timeout)

    async def close(self) -> None:
        pass


_MEMORY = {"memory", "memory:", "memory://", "sqlite3://:memory:", "sqlite://:memory:"}


def from_url(url: str) -> NodeStore:
    """The store for a ``--db`` URL; UsageError if the URL cannot be one."""
    url = url.strip()
    if url in _MEMORY or url == "":
        from fnlb.nodes.store.memory import MemoryStore
        return MemoryStore()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise UsageError(f"invalid value for --db: {url!r} is not a URL "
                         "(use memory, sqlite3:///path/file.db or postgres://user@host/db)")
    scheme = scheme.lower()
    if scheme in ("sqlite3", "sqlite"):
        from fnlb.nodes.store.sqlite import SQLiteStore
        if not rest or rest.startswith("?"):
            raise UsageError(f"invalid value for --db: {url!r} names no file (use {scheme}:///path/file.db)")
        return SQLiteStore(rest)
    if scheme in ("postgres", "postgresql"):
        from fnlb.nodes.store.postgres import PostgresStore, check_url
        try:
            check_url(url)
        except ValueError as exc:
            raise UsageError(f"invalid value for --db: {exc}") from None
        return PostgresStore(url)
    if scheme in ("mysql", "k8s"):
        raise UsageError(f"invalid value for --db: {scheme} stores are not supported (use sqlite3:// or postgres://)")
    raise UsageError(f"invalid value for --db: unknown scheme {scheme!r} (use memory, sqlite3://, postgres://)")
