"""PostgreSQL (``--db postgres://...``): one node list shared by several balancers.

Each balancer keeps two connections. The *command* connection runs the table creation and
the node list's reads and writes, one at a time under a lock. A change and a
``pg_notify('fnlb_nodes', address)`` run in one transaction, so a notification is sent
exactly when a change is committed. The *listener* connection ``LISTEN``\\ s on that channel
and sets an event that wakes the registry's sync loop, which then reloads the whole list:
balancers see each other's changes in milliseconds. The loop also polls every
``--hc-interval``, which covers writers that do not notify (the original fnlb, psql) and
notifications lost while the listener was reconnecting.

Failures: every operation runs under a timeout; an error or timeout closes the command
connection and raises StoreUnavailable (the next operation reconnects). An operation that
fails on a connection that was already open is retried once on a fresh one, so that a
server restart costs no error. The listener reconnects on its own with back-off and, once
reconnected, wakes the sync loop to catch up.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from fnlb.nodes.store import TABLE, NodeStore, StoreUnavailable

log = logging.getLogger("fnlb.nodes")

CHANNEL = "fnlb_nodes"
CONNECT_TIMEOUT = 3       # seconds (libpq's connect_timeout is whole seconds)
OP_TIMEOUT = 5.0          # seconds for any one statement or transaction
LISTEN_PING = 10.0        # seconds without notifications before the listener checks its connection
SCHEMA_LOCK = 0x666e6c62  # advisory lock id ("fnlb"): balancers starting together create the table once


def check_url(url: str) -> None:
    """ValueError if libpq could not use ``url`` (syntax only; nothing is contacted)."""
    try:
        urlsplit(url).port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ValueError(f"{url!r}: {exc}") from None
    try:
        conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise ValueError(f"{url!r} is not a PostgreSQL URL: {exc}") from None


def describe(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"postgres {host}{port}{parts.path or ''}"


class PostgresStore(NodeStore):
    def __init__(self, url: str):
        self.url = url
        self.description = describe(url)
        self._conn: psycopg.AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self._listener: asyncio.Task | None = None

    async def _connect(self) -> psycopg.AsyncConnection:
        return await psycopg.AsyncConnection.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                                                     application_name="fnlb")

    # -- the interface ------------------------------------------------------------------

    async def open(self) -> None:
        await self._run(self._create)
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="fnlb-pg-listen")

    async def add(self, addr: str) -> bool:
        return await self._run(self._change, f"INSERT INTO {TABLE} (address) VALUES (%s) ON CONFLICT DO NOTHING", addr)

    async def remove(self, addr: str) -> bool:
        return await self._run(self._change, f"DELETE FROM {TABLE} WHERE address = %s", addr)

    async def addresses(self) -> set[str]:
        return await self._run(self._read)

    def mark_seen(self) -> None:
        self._changed.clear()

    async def wait_change(self, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self._changed.wait()
        except TimeoutError:
            pass

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        async with self._lock:
            await self._drop()

    # -- statements ---------------------------------------------------------------------

    @staticmethod
    async def _create(conn: psycopg.AsyncConnection) -> None:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            await conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (address text NOT NULL PRIMARY KEY)")

    @staticmethod
    async def _change(conn: psycopg.AsyncConnection, sql: str, addr: str) -> bool:
        async with conn.transaction():
            cur = await conn.execute(sql, (addr,))
            changed = cur.rowcount == 1
            if changed:
                await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, addr))
        return changed

    @staticmethod
    async def _read(conn: psycopg.AsyncConnection) -> set[str]:
        cur = await conn.execute(f"SELECT address FROM {TABLE}")
        return {row[0] for row in await cur.fetchall()}

    # -- connection handling ------------------------------------------------------------

    async def _run(self, fn, *args):
        async with self._lock:
            reused = self._conn is not None
            try:
                return await self._attempt(fn, *args)
            except StoreUnavailable as exc:
                if not reused or isinstance(exc.__cause__, TimeoutError):
                    raise
            return await self._attempt(fn, *args)  # the old connection had died: once more

    async def _attempt(self, fn, *args):
        try:
            async with asyncio.timeout(OP_TIMEOUT):
                if self._conn is None:
                    self._conn = await self._connect()
                return await fn(self._conn, *args)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            await self._drop()
            raise StoreUnavailable(f"{self.description}: {_reason(exc)}") from exc

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # closing a broken connection may fail; it is gone either way
                pass

    async def _listen(self) -> None:
        delay = 0.5
        failing = False
        while True:
            conn = None
            try:
                async with asyncio.timeout(OP_TIMEOUT):
                    conn = await self._connect()
                    await conn.execute(f"LISTEN {CHANNEL}")
                if failing:
                    log.info("listening for node list changes on %s again", self.description)
                failing, delay = False, 0.5
                self._changed.set()  # catch up with whatever changed while we were not listening
                while True:
                    async for _ in conn.notifies(timeout=LISTEN_PING):
                        self._changed.set()
                    async with asyncio.timeout(OP_TIMEOUT):
                        await conn.execute("SELECT 1")  # a silent network failure shows here
            except (psycopg.Error, OSError, TimeoutError) as exc:
                if not failing:
                    log.warning("lost the change notifications of %s (%s); polling until it is back",
                                self.description, _reason(exc))
                failing = True
            finally:
                if conn is not None:
                    try:
                        await conn.close()
                    except Exception:
                        pass
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {OP_TIMEOUT:g}s"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
