"""Requests fnlb answers itself instead of proxying: its management API, and 404s for
management paths on a traffic-only listener (or traffic paths on a management-only one).

A management request's body is read whole (at most ``fnlb.api.http.MAX_BODY``; more
gets 413 before any handler runs) and handed to ``MgmtApp.handle`` as a plain Request.
"""

from __future__ import annotations

import logging

from fnlb.api.http import MAX_BODY, Request
from fnlb.proxy.wire import local_response

log = logging.getLogger("fnlb.proxy")


class Management:
    def start(self, ex) -> None:
        if ex.body_done:
            self.body_end(ex)

    def body(self, ex, data: bytes) -> None:
        # collected in ex.buf even while a pipelined request waits its turn
        ex.buffered += len(data)
        if ex.buffered > MAX_BODY:
            if ex.client.active is ex:
                ex.answer(413, f"management request body over {MAX_BODY} bytes")
            else:
                ex.buf = []
                ex.local = TOO_LARGE
        else:
            ex.buf.append(data)

    def body_end(self, ex) -> None:
        if ex.client.active is ex and not ex.over:
            task = ex.server.loop.create_task(self._handle(ex))
            ex.server.tasks.add(task)
            task.add_done_callback(ex.server.tasks.discard)

    async def _handle(self, ex) -> None:
        parts = ex.parts
        headers = {parts[i].decode("latin-1").lower(): parts[i + 2].decode("latin-1")
                   for i in range(0, len(parts), 4)}
        path, _, query = ex.target.decode("latin-1").partition("?")
        request = Request(method=ex.method.decode("latin-1"), path=path, query_string=query, headers=headers,
                          body=b"".join(ex.buf), client=ex.client.peer)
        try:
            response = await ex.server.mgmt.handle(request)
        except Exception:
            log.exception("management handler for %s %s failed", request.method, path)
            if not ex.over:
                ex.answer(500, "internal error")
            return
        if ex.over:
            return
        ex.status = response.status
        ex.sent = len(response.body)
        keep_alive = ex.keep_alive and ex.client.accepting()
        ex.client.transport.write(local_response(response.status, response.body,
                                                 content_type=response.content_type, headers=response.headers,
                                                 keep_alive=keep_alive, head=ex.is_head))
        ex.keep_alive = keep_alive
        ex.finish_local()


class NotFound:
    def start(self, ex) -> None:
        if ex.body_done:
            self.body_end(ex)

    def body(self, ex, data: bytes) -> None:
        pass    # read and dropped

    def body_end(self, ex) -> None:
        if ex.client.active is ex and not ex.over:
            what = "management endpoint" if ex.key.startswith("/1/lb/") or ex.key == "/metrics" else "path"
            ex.answer(404, f"no {what} {ex.key} on this listener")


class TooLarge:
    """A pipelined management request whose body went over the limit while it waited."""

    def start(self, ex) -> None:
        ex.answer(413, f"management request body over {MAX_BODY} bytes")

    def body(self, ex, data: bytes) -> None:
        pass

    def body_end(self, ex) -> None:
        pass


MANAGEMENT = Management()
NOT_FOUND = NotFound()
TOO_LARGE = TooLarge()
