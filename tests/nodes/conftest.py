"""Fixtures of the node-list tests: fake nodes, and a fresh PostgreSQL database per run."""

from __future__ import annotations

import os
import secrets
import sys

import pytest

from tests.support.procs import Proc, free_port, wait_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_ADMIN = os.environ.get("FNLB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


class FakeNode(Proc):
    """tests/nodes/fakenode.py on a port of its own; restartable on the same port."""

    def __init__(self, port: int | None = None, version: str = "0.3.700"):
        self.port = port or free_port()
        self.version = version
        super().__init__([sys.executable, "-m", "tests.nodes.fakenode", str(self.port), version], cwd=ROOT)
        wait_port(self.port, proc=self.popen)

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
def fake_node():
    """Start fake nodes (``fake_node(port=None, version=...)``); all are killed afterwards."""
    started: list[FakeNode] = []

    def start(port: int | None = None, version: str = "0.3.700") -> FakeNode:
        node = FakeNode(port, version)
        started.append(node)
        return node

    yield start
    for node in started:
        node.kill()


@pytest.fixture(scope="session")
def pg_url():
    """A database of its own for this test run, dropped at the end."""
    psycopg = pytest.importorskip("psycopg")
    name = "fnlb_test_" + secrets.token_hex(6)
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    yield url
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_db(pg_url):
    """The run's database with an empty lb_nodes table."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS lb_nodes (address text NOT NULL PRIMARY KEY)")
        conn.execute("DELETE FROM lb_nodes")
    return pg_url
