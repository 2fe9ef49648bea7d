"""Shared helpers of the node-list tests."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request


def make_cfg(*argv: str):
    """The serve configuration for these flags (environment ignored)."""
    from fnlb.cli.flags import parse
    from fnlb.cli.serve import FLAGS

    cfg, _ = parse(FLAGS, list(argv), env={})
    return cfg


def http(method: str, url: str, body=None, headers: dict | None = None, timeout: float = 10.0):
    """(status, parsed JSON or raw bytes) of one request; never raises for HTTP errors."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


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
