"""Pure helpers of the wire format (no sockets)."""

from fnlb.proxy.wire import HOP_BY_HOP, chunk, connection_names, drop_named, error_response, local_response, status_line


def test_status_line_uses_standard_phrases():
    assert status_line(200) == b"HTTP/1.1 200 OK\r\n"
    assert status_line(503) == b"HTTP/1.1 503 Service Unavailable\r\n"
    assert status_line(299) == b"HTTP/1.1 299 \r\n"


def test_chunk_framing():
    assert chunk(b"hello") == b"5\r\nhello\r\n"
    assert chunk(b"x" * 255) == b"ff\r\n" + b"x" * 255 + b"\r\n"


def test_connection_names_drop_options():
    assert connection_names(b"keep-alive, X-Secret ,close,,Upgrade") == {b"x-secret", b"upgrade"}
    assert connection_names(b"close") == set()


def test_drop_named_removes_whole_headers():
    parts = [b"Host", b": ", b"h", b"\r\n", b"X-Secret", b": ", b"s", b"\r\n", b"X-Kept", b": ", b"k", b"\r\n"]
    assert drop_named(parts, {b"x-secret"}) == [b"Host", b": ", b"h", b"\r\n", b"X-Kept", b": ", b"k", b"\r\n"]


def test_local_and_error_responses():
    resp = local_response(200, b"{}", headers=[("Allow", "GET")], keep_alive=False)
    assert resp == (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nAllow: GET\r\n"
                    b"Connection: close\r\n\r\n{}")
    head = error_response(404, "nope", keep_alive=True, head=True)     # {"msg": "nope"}\n is 16 bytes
    assert head.endswith(b"\r\n\r\n") and b"Content-Length: 16" in head and b"nope" not in head


def test_hop_by_hop_set():
    assert HOP_BY_HOP == {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer",
                          b"transfer-encoding", b"upgrade"}
