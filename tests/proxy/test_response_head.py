"""The node side's response head, in-process: the one-join path for the usual response
(Content-Length, HTTP/1.1 keep-alive client, not HEAD) gives the same bytes as the general
path, whatever the headers (hypothesis)."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from fnlb.proxy import upstream
from fnlb.proxy.client import TRAFFIC, ClientProtocol
from fnlb.proxy.exchange import Exchange
from fnlb.proxy.upstream import UpstreamProtocol
from tests.proxy.fakes import Transport

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Ended(Exchange):
    """An exchange that records its end instead of handing the connection back."""

    def response_done(self, up):
        self.ended.append(up)


def client_bytes(raw: bytes, expose: bool) -> tuple[bytes, bytes | None, bool]:
    client = ClientProtocol(SimpleNamespace(pool=None), TRAFFIC)
    client.transport = Transport()
    ended = []
    ex = Ended(client, b"GET", b"/", "/", b"", False, True, False, False, False)
    ex.ended = ended
    up = UpstreamProtocol(SimpleNamespace(expose_wait=expose), "node:1")
    up.connection_made(Transport())
    up.ex = ex
    up.data_received(raw)
    return b"".join(client.transport.out), ex.wait, bool(ended)


names = st.one_of(st.sampled_from(["Server", "Date", "content-type", "X-A", "XXX-FXLB-WAIT", "xxx-fxlb-wait",
                                   "Connection", "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Connection",
                                   "Set-Cookie", "X-Secret"]),
                  st.text(TCHARS, min_size=1, max_size=12))
values = st.text("abcXYZ019 ,;=:/-\t", max_size=20).map(lambda v: v.strip(" \t"))
connection = st.sampled_from(["keep-alive", "close", "Keep-Alive", "Close", "X-Secret", "keep-alive, X-Secret",
                              "x-secret, close", "TE"])


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from([200, 201, 202, 206, 299, 301, 404, 500, 503, 599]),
       headers=st.lists(st.tuples(names, values), max_size=8), conn=st.none() | connection,
       sep=st.sampled_from([": ", ":", ":  ", ":\t"]), body=st.binary(max_size=20), expose=st.booleans())
def test_one_join_path_matches_the_general_path(status, headers, conn, sep, body, expose):
    head = [f"HTTP/1.1 {status} Whatever"]
    head += [f"{n}{sep}{v}" for n, v in headers if n.lower() not in ("content-length", "transfer-encoding")]
    if conn is not None:
        head.append(f"Connection: {conn}")
    head.append(f"Content-Length: {len(body)}")
    raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    upstream._FRAMED.clear()                # the general path
    general = client_bytes(raw, expose)
    upstream._FRAMED[status] = upstream.status_line(status)    # the one-join path
    fast = client_bytes(raw, expose)
    assert fast == general
    assert general[2] and general[0].endswith(b"\r\n\r\n" + body)
