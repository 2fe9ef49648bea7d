"""Fixtures of the robustness tests, borrowed from the node and proxy tests: a fresh
PostgreSQL database per run (``pg_url``, ``pg_db``) and one test node behind one `fnlb serve`
per module (``shared_pair``, ``fresh``: the node's reply and records reset per test)."""

from tests.nodes.conftest import pg_db, pg_url  # noqa: F401  (fixtures)
from tests.proxy.conftest import fresh, shared_pair  # noqa: F401  (fixtures)
