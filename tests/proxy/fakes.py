"""A fake asyncio transport for driving the proxy's protocols in-process (no sockets):
what they write is kept in ``out``, one entry per write."""

from __future__ import annotations


class Transport:
    def __init__(self):
        self.out: list[bytes] = []
        self.closed = False

    def write(self, data):
        self.out.append(bytes(data))

    def writelines(self, parts):
        self.out.append(b"".join(parts))

    def set_write_buffer_limits(self, high, low):
        pass

    def get_extra_info(self, name):
        return ("127.0.0.1", 50000)

    def is_closing(self):
        return self.closed

    def close(self):
        self.closed = True

    abort = close

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass
