"""Logging: ``--log-level``, ``--log-format text|json`` and the access-log helper.

Theory of operation
-------------------
fnlb logs through the standard library: each package uses ``logging.getLogger("fnlb.<pkg>")``
and passes structured details as ``extra={...}``. :func:`setup_logging` puts one handler on
the root logger, writing to stderr with one of two formatters:

* text: ``2024-05-01T12:00:00.123Z INFO    fnlb.nodes: node 10.0.0.5:8080 is offline key=value``
  (UTC, milliseconds; extra fields as ``key=value``, quoted when they contain spaces, quotes
  or control characters; control characters in the message escaped so that one event is
  one line whatever a client put in a path);
* json: one object per line, ``{"time", "level", "logger", "msg", ...extra fields}``, plus
  ``"exc"`` with the traceback when there is one.

Extra fields whose name starts with ``_`` are hints to the formatters, never output.

The access log (logger ``fnlb.access``, ``--access-log``, written by the proxy) has one
fixed shape: the message ``ACCESS_FORMAT`` with the arguments ``ACCESS_FIELDS`` (client,
method, target, status, node, bytes, seconds). Text shows the line as is
(``127.0.0.1:5555 GET /r/app/fn 200 127.0.0.1:8080 42 0.012345``); JSON also gives every
argument as its own field, so log shippers need no parsing. :func:`log_access` emits it.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from fnlb.observability.options import ObservabilityConfig

ACCESS = logging.getLogger("fnlb.access")

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = set(vars(logging.LogRecord("x", logging.INFO, "", 0, "", (), None))) | {"message", "asctime"}
_CONTROL = {c: f"\\x{c:02x}" for c in range(32)} | {10: "\\n", 13: "\\r", 9: "\\t", 127: "\\x7f"}


def setup_logging(cfg: ObservabilityConfig) -> None:
    """Configure the root logger from ``cfg.log_level`` and ``cfg.log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if cfg.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(cfg.log_level.upper())


ACCESS_FORMAT = "%s %s %s %d %s %d %.6f"
ACCESS_FIELDS = ("client", "method", "target", "status", "node", "bytes", "seconds")


def log_access(client: str, method: str, target: str, status: int, node: str | None,
               size: int, seconds: float, logger: logging.Logger = ACCESS) -> None:
    """One access-log line (call only when ``--access-log`` is on: it is not free)."""
    logger.info(ACCESS_FORMAT, client, method, target, status, node or "-", size, seconds)


def utc_time(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created % 1 * 1000):03d}Z"


def extra_fields(record: logging.LogRecord) -> dict:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        parts = [utc_time(record.created), f"{record.levelname:<7}", f"{record.name}:",
                 record.getMessage().translate(_CONTROL)]
        parts += [f"{k}={_text_value(v)}" for k, v in extra_fields(record).items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _text_value(value) -> str:
    text = str(value)
    if not text or any(c in text for c in ' "=') or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return json.dumps(text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        obj = {"time": utc_time(record.created), "level": record.levelname.lower(),
               "logger": record.name, "msg": record.getMessage()}
        if record.name == ACCESS.name and isinstance(record.args, tuple) \
                and len(record.args) == len(ACCESS_FIELDS):
            obj.update(zip(ACCESS_FIELDS, record.args))
        for k, v in extra_fields(record).items():
            obj.setdefault(k, v)
        if record.exc_info:
            obj["exc"] = self.formatException(record.exc_info)
        return json.dumps(obj, default=str, ensure_ascii=False)
