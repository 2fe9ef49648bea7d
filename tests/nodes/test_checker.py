"""One health check against small in-process servers answering in various ways."""

import asyncio

import pytest

from fnlb.nodes.checker import MAX_RESPONSE, check, judge
from tests.support.procs import free_port

V = b'{"version": "0.3.700"}'


def respond_with(raw: bytes, delay: float = 0.0, minimum: str | None = "0.0.235", timeout: float = 1.0):
    async def main():
        async def answer(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(delay)
            writer.write(raw)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        addr = "127.0.0.1:%d" % server.sockets[0].getsockname()[1]
        try:
            return await check(addr, "/version", timeout, minimum)
        finally:
            server.close()
    return asyncio.run(main())


def test_content_length_body():
    r = respond_with(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(V), V))
    assert r.ok and r.version == "0.3.700" and r.error is None


def test_chunked_body():
    r = respond_with(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n" + V[:5] + b"\r\n"
                     + b"%x\r\n" % (len(V) - 5) + V[5:] + b"\r\n0\r\n\r\n")
    assert r.ok and r.version == "0.3.700"


def test_any_2xx_without_version_requirement():
    assert respond_with(b"HTTP/1.1 204 No Content\r\n\r\n", minimum=None).ok


@pytest.mark.parametrize("raw, words", [
    (b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n", "status 503"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "not JSON"),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{"version": "new"}'[:-1], "not JSON"),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\n{"version": "1.0"}', "not x.y.z"),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\n{"version": 12345}', "not JSON"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{", "closed before"),
    (b"garbage\r\n\r\n", "Error"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (2 * MAX_RESPONSE) + b" " * (2 * MAX_RESPONSE), "larger"),
])
def test_failures_say_why(raw, words):
    r = respond_with(raw)
    assert not r.ok and words in r.error


def test_timeout_and_refused():
    assert respond_with(b"HTTP/1.1 200 OK\r\n\r\n", delay=1.0, timeout=0.2).error == "no answer within 0.2s"
    r = asyncio.run(check(f"127.0.0.1:{free_port()}", "/version", 1.0, None))
    assert not r.ok and r.error == "connection refused"


def test_malformed_address_is_never_contacted():
    r = asyncio.run(check("http://127.0.0.1:1", "/version", 1.0, None))
    assert not r.ok and "scheme" in r.error


def test_judge_is_pure():
    assert judge(200, V, "0.3.700").ok
    assert not judge(200, V, "0.3.701").ok
    assert judge(299, b"", None).ok and not judge(300, b"", None).ok
    assert judge(500, V, None).version == "0.3.700"   # reported even when unhealthy
