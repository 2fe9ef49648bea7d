"""The three stores against the same expectations; PostgreSQL for real."""

import asyncio

import pytest

from fnlb.config.flags import UsageError
from fnlb.nodes.store import from_url
from fnlb.nodes.store.memory import MemoryStore
from fnlb.nodes.store.postgres import PostgresStore
from fnlb.nodes.store.sqlite import SQLiteStore


async def exercise(store):
    await store.open()
    await store.open()  # idempotent: the table already exists
    assert await store.addresses() == set()
    assert await store.add("127.0.0.1:1") is True
    assert await store.add("127.0.0.1:1") is False
    assert await store.add("[::1]:2") is True
    assert await store.addresses() == {"127.0.0.1:1", "[::1]:2"}
    assert await store.remove("127.0.0.1:1") is True
    assert await store.remove("127.0.0.1:1") is False
    assert await store.addresses() == {"[::1]:2"}
    await store.close()


def test_memory_store():
    asyncio.run(exercise(MemoryStore()))


def test_sqlite_store_persists_and_creates_directories(tmp_path):
    path = str(tmp_path / "sub" / "dir" / "nodes.db")
    asyncio.run(exercise(SQLiteStore(path)))

    async def reopen():
        store = SQLiteStore(path)
        await store.open()
        return await store.addresses()

    assert asyncio.run(reopen()) == {"[::1]:2"}


def test_sqlite_store_keeps_an_existing_original_table(tmp_path):
    import sqlite3

    path = str(tmp_path / "old.db")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE lb_nodes (address text NOT NULL PRIMARY KEY)")
    conn.execute("INSERT INTO lb_nodes VALUES ('10.0.0.1:8080')")
    conn.commit()
    conn.close()

    async def load():
        store = SQLiteStore(path)
        await store.open()
        return await store.addresses()

    assert asyncio.run(load()) == {"10.0.0.1:8080"}


def test_postgres_store(pg_db):
    asyncio.run(exercise(PostgresStore(pg_db)))


def test_postgres_notifies_other_stores_within_a_second(pg_db):
    async def scenario():
        a, b = PostgresStore(pg_db), PostgresStore(pg_db)
        await a.open()
        await b.open()
        await b.wait_change(2)  # the listener's catch-up wake-up once it is connected
        b.mark_seen()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await a.add("127.0.0.1:9")
        await b.wait_change(5)
        took = loop.time() - t0
        assert "127.0.0.1:9" in await b.addresses()
        await a.close()
        await b.close()
        return took

    assert asyncio.run(scenario()) < 1.0


def test_postgres_unreachable_raises_store_unavailable():
    from fnlb.nodes.store import StoreUnavailable
    from tests.support.procs import free_port

    async def scenario():
        store = PostgresStore(f"postgres://postgres@127.0.0.1:{free_port()}/nothing")
        with pytest.raises(StoreUnavailable, match="127.0.0.1"):
            await store.open()
        with pytest.raises(StoreUnavailable):
            await store.add("127.0.0.1:1")
        await store.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("url, kind", [
    ("memory", MemoryStore), ("sqlite3://:memory:", MemoryStore), ("sqlite://:memory:", MemoryStore),
    ("sqlite3:///tmp/x/nodes.db", SQLiteStore), ("sqlite:///tmp/x.db", SQLiteStore),
    ("postgres://u@h/db", PostgresStore), ("postgresql://u:p@h:5433/db?sslmode=disable", PostgresStore),
])
def test_urls(url, kind):
    assert isinstance(from_url(url), kind)


def test_sqlite_path_is_the_part_after_the_slashes():
    assert from_url("sqlite3:///var/lib/fnlb.db").path == "/var/lib/fnlb.db"
    assert from_url("sqlite3://data/fnlb.db").path == "data/fnlb.db"


@pytest.mark.parametrize("url, words", [
    ("mysql://u@h/db", "not supported"), ("k8s://", "not supported"), ("redis://h", "unknown scheme"),
    ("nodes.db", "not a URL"), ("sqlite3://", "names no file"), ("postgres://h:port/db", "port"),
    ("postgres://h:99999/db", "(?i)port"),
])
def test_bad_urls_are_usage_errors(url, words):
    with pytest.raises(UsageError, match=words) as info:
        from_url(url)
    assert "\n" not in str(info.value) and "--db" in str(info.value)
