"""Semantic versions (https://semver.org) as reported by a node's ``/version``.

``parse("0.3.700")`` gives a key that compares like the versions do: numerically per field,
a pre-release (``1.0.0-rc.1``) below its release, build metadata (``+abc``) ignored. A
leading ``v`` is tolerated because some builds report one.
"""

from __future__ import annotations

import re

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


def parse(text: str) -> tuple:
    """A comparable key for ``text``; ValueError if it is not ``x.y.z[-pre][+build]``."""
    m = _SEMVER.match(text.strip()) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{text!r} is not a semantic version (x.y.z)")
    major, minor, patch, pre = m.groups()
    if pre is None:
        release = (1, ())            # a release sorts after all of its pre-releases
    else:
        # Numeric identifiers compare as numbers and below alphanumeric ones; a shorter
        # list of equal identifiers is lower: exactly tuple comparison of these pairs.
        release = (0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    return (int(major), int(minor), int(patch), release)


def at_least(version: str, minimum: str) -> bool:
    return parse(version) >= parse(minimum)
