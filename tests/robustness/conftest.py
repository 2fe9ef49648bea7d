"""Fixtures of the robustness tests (the PostgreSQL database fixtures are the node tests')."""

from tests.nodes.conftest import pg_db, pg_url  # noqa: F401  (fixtures)
