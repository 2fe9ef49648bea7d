"""Log formats: text and JSON lines, extra fields, the access-log helper."""

import io
import json
import logging

import pytest

from fnlb.observability.logs import JsonFormatter, TextFormatter, log_access, setup_logging
from fnlb.observability.options import ObservabilityConfig


@pytest.fixture
def capture():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("fnlb.test-logs")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, handler, stream
    logger.removeHandler(handler)


def test_json_one_object_per_line_with_extras(capture):
    logger, handler, stream = capture
    handler.setFormatter(JsonFormatter())
    logger.warning("node %s is offline", "10.0.0.5:8080", extra={"node": "10.0.0.5:8080", "failures": 2})
    logger.info("line one\nline two")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["level"] == "warning" and first["logger"] == "fnlb.test-logs"
    assert first["msg"] == "node 10.0.0.5:8080 is offline" and first["failures"] == 2
    assert first["time"].endswith("Z") and "T" in first["time"]
    assert json.loads(lines[1])["msg"] == "line one\nline two"


def test_text_is_one_line_with_key_values(capture):
    logger, handler, stream = capture
    handler.setFormatter(TextFormatter())
    logger.info("store error\r\ninjected", extra={"store": "postgres://db", "error": "timed out"})
    out = stream.getvalue()
    assert out.count("\n") == 1
    assert "INFO    fnlb.test-logs: store error\\r\\ninjected" in out
    assert 'store=postgres://db error="timed out"' in out


@pytest.fixture
def access_capture():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("fnlb.access")
    saved = logger.propagate, logger.level
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler, stream
    logger.removeHandler(handler)
    logger.propagate, logger.level = saved


def test_access_log_in_both_formats(access_capture):
    handler, stream = access_capture
    handler.setFormatter(TextFormatter())
    log_access("127.0.0.1:5555", "GET", "/r/app/hello?x=1", 200, "127.0.0.1:8080", 42, 0.0123)
    text = stream.getvalue()
    assert text.count("\n") == 1
    assert text.rstrip().endswith(
        "INFO    fnlb.access: 127.0.0.1:5555 GET /r/app/hello?x=1 200 127.0.0.1:8080 42 0.012300")
    handler.setFormatter(JsonFormatter())
    stream.truncate(0), stream.seek(0)
    log_access("127.0.0.1:5555", "POST", "/r/app/x", 502, None, 0, 0.5)
    obj = json.loads(stream.getvalue())
    assert obj["msg"] == "127.0.0.1:5555 POST /r/app/x 502 - 0 0.500000"
    assert (obj["logger"], obj["status"], obj["target"], obj["node"], obj["seconds"]) == \
        ("fnlb.access", 502, "/r/app/x", "-", 0.5)


def test_setup_logging_sets_level_and_format():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging(ObservabilityConfig(log_level="warning", log_format="json"))
        assert root.level == logging.WARNING
        assert isinstance(root.handlers[-1].formatter, JsonFormatter)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
