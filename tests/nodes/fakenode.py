"""A tiny function node for the node-list tests: ``python -m tests.nodes.fakenode PORT [VERSION]``.

``GET /version`` answers ``{"version": VERSION}`` (VERSION ``-`` answers 500); every other
request answers ``{"node": "127.0.0.1:PORT"}`` with an ``XXX-FXLB-WAIT: 0s`` header, after
``?ms=N`` milliseconds if given, so tests can see which node served a call.
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def make_handler(port: int, version: str):
    name = f"127.0.0.1:{port}"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: tests read their own output
            pass

        def _answer(self, status: int, obj: dict) -> None:
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("XXX-FXLB-WAIT", "0s")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            url = urlsplit(self.path)
            if url.path == "/version":
                if version == "-":
                    self._answer(500, {"msg": "unwell"})
                else:
                    self._answer(200, {"version": version})
                return
            ms = parse_qs(url.query).get("ms")
            if ms:
                time.sleep(float(ms[0]) / 1000)
            self._answer(200, {"node": name, "path": url.path})

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

    return Handler


def main() -> None:
    port = int(sys.argv[1])
    version = sys.argv[2] if len(sys.argv) > 2 else "0.3.700"
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(port, version))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
