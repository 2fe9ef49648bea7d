"""Large bodies stream through with bounded memory (back-pressure both ways)."""

from __future__ import annotations

import hashlib
import time

from tests.proxy.conftest import start_proxy
from tests.proxy.rawhttp import Conn, build
from tests.support.backend import Reply

MB = 1024 * 1024


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def fnlb_pid(proxy) -> int:
    return proxy.popen.pid


def test_large_response_with_a_slow_reader_stays_bounded(start_fnlb, node):
    """The node can send 64 MB at once; the client reads nothing for a while. fnlb must
    stop reading from the node instead of buffering the body."""
    proxy = start_proxy(start_fnlb, [node])
    piece = bytes(range(256)) * 256          # 64 KiB
    node.reply = lambda req: Reply(stream=(piece, 1024)) if req.target == "/r/big" else Reply()   # 64 MiB
    with Conn(proxy.port) as c:
        c.request("GET", "/r/warm")
        base = rss_kib(fnlb_pid(proxy))
        c.send(build("GET", "/r/big"))
        time.sleep(1.5)
        held = rss_kib(fnlb_pid(proxy))
        assert held - base < 32 * 1024, f"fnlb grew {held - base} KiB while the client was not reading"
        head = c._until(b"\r\n\r\n")
        assert int(dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:-2])["Content-Length"]) == 64 * MB
        digest, left = hashlib.sha256(), 64 * MB
        digest.update(bytes(c.buf[:left]))
        left -= len(c.buf[:left])
        c.buf = bytearray()
        while left:
            data = c.sock.recv(min(left, 1 << 20))
            assert data
            digest.update(data)
            left -= len(data)
    assert digest.hexdigest() == hashlib.sha256(piece * 1024).hexdigest()


def test_large_upload_to_a_slow_node_stays_bounded(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node])
    node.reply = lambda req: Reply(body=hashlib.sha256(req.body).hexdigest().encode())
    size = 48 * MB
    chunk = bytes(range(256)) * 4096   # 1 MiB
    with Conn(proxy.port) as c:
        c.request("GET", "/r/warm")
        base = rss_kib(fnlb_pid(proxy))
        c.send(b"POST /r/up HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % size)
        peak = 0
        for _ in range(size // len(chunk)):
            c.send(chunk)
            peak = max(peak, rss_kib(fnlb_pid(proxy)))
        resp = c.response()
    assert resp.body == hashlib.sha256(chunk * (size // len(chunk))).hexdigest().encode()
    assert peak - base < 32 * 1024, f"fnlb grew {peak - base} KiB during the upload"


def test_chunked_upload_and_download_round_trip(start_fnlb, node):
    proxy = start_proxy(start_fnlb, [node])
    node.reply = lambda req: Reply(framing="chunked", chunks=[req.body[i:i + 100000]
                                                              for i in range(0, len(req.body), 100000)])
    data = bytes(range(256)) * 20000
    parts = [data[i:i + 30000] for i in range(0, len(data), 30000)]
    body = b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    with Conn(proxy.port) as c:
        c.send(b"POST /r/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        resp = c.response()
    assert resp.chunked and resp.body == data
