"""One HTTP call from a test, as (status, body): JSON bodies parsed, errors returned, not raised."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


def http(method: str, url: str, body=None, headers: dict | None = None, timeout: float = 10.0):
    """(status, parsed JSON or raw bytes) of one request; never raises for HTTP errors.
    A body that is not bytes is sent as JSON."""
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
