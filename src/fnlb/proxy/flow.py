"""Back-pressure between the two transports of one exchange, in one place.

Each transport (client side, node side) has one FlowControl. While a request is being
proxied the two are *coupled*: when one side's write buffer rises above HIGH_WATER the
transport calls ``pause_writing`` on its protocol, which forwards here, and we stop
reading from the peer until the buffer drains below LOW_WATER. So a fast node cannot
fill memory faster than a slow client reads, nor a fast uploader faster than a node reads.

Reading can be paused for several reasons at once (a full peer, a queued pipelined
request, a request body buffered while the node connection is being opened); it resumes
only when none holds, so the reasons are bits of one mask.

``couple`` and ``decouple`` bracket every exchange; each takes the usual case (neither
side paused) first. Compiled (flow.pxd) they are C calls.
"""

from __future__ import annotations

HIGH_WATER = 64 * 1024
LOW_WATER = 16 * 1024

PEER_FULL = 1   # the coupled peer's write buffer is above HIGH_WATER
QUEUED = 2      # a pipelined request waits for the one before it
BUFFERED = 4    # request body held back until a node connection is ready


class FlowControl:
    __slots__ = ("transport", "paused_by", "write_paused", "peer")

    def __init__(self, transport):
        self.transport = transport
        self.paused_by = 0
        self.write_paused = False
        self.peer: FlowControl | None = None
        transport.set_write_buffer_limits(HIGH_WATER, LOW_WATER)

    def pause_reading(self, reason: int) -> None:
        if not self.paused_by and not self.transport.is_closing():
            self.transport.pause_reading()
        self.paused_by |= reason

    def resume_reading(self, reason: int) -> None:
        if self.paused_by & reason:
            self.paused_by &= ~reason
            if not self.paused_by and not self.transport.is_closing():
                self.transport.resume_reading()

    # called by the protocol's pause_writing / resume_writing
    def pause_writing(self) -> None:
        self.write_paused = True
        if self.peer is not None:
            self.peer.pause_reading(PEER_FULL)

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.peer is not None:
            self.peer.resume_reading(PEER_FULL)

    def couple(self, other: FlowControl) -> None:
        self.peer = other
        other.peer = self
        if self.write_paused or other.write_paused:
            if self.write_paused:
                other.pause_reading(PEER_FULL)
            if other.write_paused:
                self.pause_reading(PEER_FULL)

    def decouple(self) -> None:
        other = self.peer
        if other is not None:
            self.peer = other.peer = None
            if other.paused_by & PEER_FULL:
                other.resume_reading(PEER_FULL)
        if self.paused_by & PEER_FULL:
            self.resume_reading(PEER_FULL)

    def release(self) -> None:
        """The connection leaves its exchange: uncoupled, and reading again whatever held
        it (an idle pooled connection must see the node closing it)."""
        self.decouple()
        if self.paused_by:
            self.paused_by = 0
            if not self.transport.is_closing():
                self.transport.resume_reading()
