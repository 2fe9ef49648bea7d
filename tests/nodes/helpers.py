"""Shared helpers of the node-list tests."""

from __future__ import annotations

import time

from tests.support.http import http  # noqa: F401  (re-exported)


def make_cfg(*argv: str):
    """The serve configuration (a ServeConfig) for these flags (environment ignored)."""
    from fnlb.config.flags import parse
    from fnlb.config.serve import FLAGS, ServeConfig

    ns, _ = parse(FLAGS, list(argv), env={})
    return ServeConfig.from_namespace(ns)


def wait_for(predicate, timeout: float, interval: float = 0.02, what: str = "condition"):
    """Poll until predicate() is truthy; return (value, seconds taken) or fail the test."""
    start = time.monotonic()
    while True:
        value = predicate()
        if value:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what} not reached within {timeout}s (last: {value!r})")
        time.sleep(interval)
