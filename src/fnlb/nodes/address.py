"""Validation of node addresses: ``host:port``.

``host`` is a DNS name (letters, digits, ``-`` and ``_`` in dot-separated labels), an IPv4
address in dotted decimal, or an IPv6 address in brackets (``[::1]:8080``); ``port`` is a
decimal number 1-65535 without sign or leading zeros. The address is kept exactly as given
(no lower-casing or other normalisation): it is the node's name in the shared store and the
string every balancer sorts to hash keys alike, so two spellings of one node would be two
nodes. Rejecting non-canonical ports ("080") keeps that from happening by accident.
"""

from __future__ import annotations

import ipaddress
import re

_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
_DIGITS_AND_DOTS = re.compile(r"^[0-9.]+$")


class AddressError(ValueError):
    """The message says what is wrong with the address."""


def validate(addr: str) -> str:
    """Return ``addr`` unchanged if it is a valid ``host:port``; raise AddressError otherwise."""
    if not isinstance(addr, str):
        raise AddressError("node address must be a string")
    if addr == "":
        raise AddressError("node address is empty (expected host:port)")
    if addr != addr.strip() or any(c.isspace() for c in addr):
        raise AddressError(f"node address {addr!r} contains whitespace")
    if "://" in addr:
        raise AddressError(f"node address {addr!r} must be host:port, not a URL with a scheme")
    if "/" in addr or "?" in addr or "#" in addr or "@" in addr:
        raise AddressError(f"node address {addr!r} must be host:port without a path or user part")
    host, sep, port = addr.rpartition(":")
    if not sep:
        raise AddressError(f"node address {addr!r} has no port (expected host:port)")
    _check_port(addr, port)
    _check_host(addr, host)
    return addr


def split(addr: str) -> tuple[str, int]:
    """(host, port) of a validated address, IPv6 brackets removed, for connecting (the
    health checker's and the proxy pool's connections both split addresses here)."""
    host, _, port = addr.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def _check_port(addr: str, port: str) -> None:
    if not port:
        raise AddressError(f"node address {addr!r} has no port (expected host:port)")
    if not port.isascii() or not port.isdigit():
        raise AddressError(f"node address {addr!r}: port {port!r} is not a number")
    if port != "0" and port.startswith("0"):
        raise AddressError(f"node address {addr!r}: port {port!r} has leading zeros")
    if not 1 <= int(port) <= 65535:
        raise AddressError(f"node address {addr!r}: port {port} is out of range (1-65535)")


def _check_host(addr: str, host: str) -> None:
    if not host:
        raise AddressError(f"node address {addr!r} has no host (expected host:port)")
    if host.startswith("["):
        if not host.endswith("]"):
            raise AddressError(f"node address {addr!r}: unclosed '[' around an IPv6 address")
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise AddressError(f"node address {addr!r}: {host[1:-1]!r} is not an IPv6 address") from None
        return
    if ":" in host:
        raise AddressError(f"node address {addr!r}: put an IPv6 address in brackets, e.g. [::1]:8080")
    if _DIGITS_AND_DOTS.match(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise AddressError(f"node address {addr!r}: {host!r} is not an IPv4 address") from None
        return
    name = host[:-1] if host.endswith(".") else host  # a fully qualified "name." is fine
    if len(name) > 253 or not all(_LABEL.match(label) for label in name.split(".")):
        raise AddressError(f"node address {addr!r}: {host!r} is not a valid host name")
