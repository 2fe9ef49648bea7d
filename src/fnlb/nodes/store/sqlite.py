"""A SQLite file (``--db sqlite3:///path/file.db``): the node list survives restarts.

Several balancers on one host may share the file; they see each other's changes at the
next poll (every ``--hc-interval``). sqlite3 is blocking, so each operation runs in a
worker thread on its own short-lived connection: the volume is a handful of statements per
interval, and no connection is ever shared between threads.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3

from fnlb.nodes.store import TABLE, NodeStore, StoreUnavailable

BUSY_TIMEOUT = 5.0   # seconds to wait for another writer's lock before failing


class SQLiteStore(NodeStore):
    def __init__(self, path: str):
        self.path = path
        self.description = f"sqlite3 file {path}"

    async def open(self) -> None:
        await self._run(self._create)

    async def add(self, addr: str) -> bool:
        return await self._run(self._write, f"INSERT OR IGNORE INTO {TABLE} (address) VALUES (?)", addr)

    async def remove(self, addr: str) -> bool:
        return await self._run(self._write, f"DELETE FROM {TABLE} WHERE address = ?", addr)

    async def addresses(self) -> set[str]:
        return await self._run(self._read)

    async def _run(self, fn, *args):
        try:
            return await asyncio.to_thread(fn, *args)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"{self.description}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT)

    def _create(self) -> None:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)  # as the original did
        with self._connect() as conn:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (address text NOT NULL PRIMARY KEY)")
        conn.close()

    def _write(self, sql: str, addr: str) -> bool:
        conn = self._connect()
        try:
            with conn:  # commits
                return conn.execute(sql, (addr,)).rowcount == 1
        finally:
            conn.close()

    def _read(self) -> set[str]:
        conn = self._connect()
        try:
            return {row[0] for row in conn.execute(f"SELECT address FROM {TABLE}")}
        finally:
            conn.close()
