"""Key hashing: which node is a key's home, and in which order its traffic spills.

Theory of operation
-------------------
Every balancer that has the same healthy node list must send a key (a URL path) to the
same node, so that a function stays hot on one node no matter which balancer a request
went through. Three pure functions provide that, with no state and no clock:

* ``key_hash(key)``: SipHash-2-4 of the key's bytes under the reference's fixed 128-bit
  key (k0 = 0, k1 = 0x4c617279426f6174), a 64-bit integer. Same as the Go fnlb. Keys are
  the URL path as the proxy passes it: its raw bytes decoded as Latin-1, one character per
  byte, so any byte sequence hashes exactly as Go hashed it (``wire_key`` turns a path
  typed as ordinary text into that form).
* ``jump(h, n)``: Jump Consistent Hash (Lamping & Veach 2014) of that hash into
  ``0 .. n-1``, the index of the key's *primary* in the **sorted** node list. Growing the
  list from n to n+1 nodes moves about 1/(n+1) of the keys, all of them to the new node.
  (The Go original divided integers and misplaced ``+1``; this is the paper's formula.)
* ``spill_score(h, node_hash)``: a well-mixed 64-bit score per (key, node). Ordering the
  non-primary nodes by descending score gives each key its own spill order (rendezvous
  hashing), so a hot node's overflow spreads over many neighbours instead of piling onto
  the next node in sorted order, and every balancer computes the same order.

``HashCache`` remembers key hashes for the data path: paths repeat, and SipHash through
the C extension still costs about a microsecond per call. It is bounded: when full it is
emptied and refills with the keys still in use (cheaper than LRU bookkeeping on every hit).
"""

from __future__ import annotations

from siphash24 import siphash24

SIP_KEY = bytes(8) + (0x4C617279426F6174).to_bytes(8, "little")
_MASK64 = (1 << 64) - 1
_JUMP_MUL = 2862933555777941757
_TWO_31 = float(1 << 31)


def wire_key(text: str) -> str:
    """The routing key for a path typed by a person (``fnlb route``, ``/1/lb/route``):
    its UTF-8 bytes, one character per byte, the form in which the proxy passes keys."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def key_hash(key: str | bytes) -> int:
    """The reference's 64-bit SipHash-2-4 of a routing key: of its bytes as received.

    A ``str`` key is the proxy's form, the path's bytes decoded as Latin-1 (lossless: one
    character per byte), so encoding it back gives the bytes the Go balancer hashed, which
    are the path's UTF-8 when the client sent UTF-8. A ``str`` with characters beyond
    U+00FF cannot be that form and is hashed as UTF-8.
    """
    if isinstance(key, str):
        try:
            data = key.encode("latin-1")
        except UnicodeEncodeError:
            data = key.encode("utf-8", "surrogateescape")
    else:
        data = key
    # intdigest() is signed; the reference's hash is the unsigned 64-bit value.
    return siphash24(data, key=SIP_KEY).intdigest() & _MASK64


def jump(h: int, n: int) -> int:
    """Jump Consistent Hash: bucket in 0..n-1 for the 64-bit hash h (n >= 1)."""
    b, j = -1, 0
    while j < n:
        b = j
        h = (h * _JUMP_MUL + 1) & _MASK64
        # The paper: j = (b + 1) * (double(1 << 31) / double((h >> 33) + 1)), in floating point.
        j = int((b + 1) * (_TWO_31 / ((h >> 33) + 1)))
    return b


def spill_score(h: int, node_hash: int) -> int:
    """A 64-bit score for (key, node): the splitmix64 finaliser of their xor."""
    z = (h ^ node_hash) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


class HashCache:
    """key -> key_hash(key), holding at most ``capacity`` keys."""

    __slots__ = ("capacity", "_hashes")

    def __init__(self, capacity: int = 65536):
        self.capacity = capacity
        self._hashes: dict[str, int] = {}

    def __call__(self, key: str) -> int:
        h = self._hashes.get(key)
        if h is None:
            if len(self._hashes) >= self.capacity:
                self._hashes.clear()  # keys still in use come straight back
            h = self._hashes[key] = key_hash(key)
        return h

    def __len__(self) -> int:
        return len(self._hashes)
