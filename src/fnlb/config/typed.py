"""Typed configuration: one frozen dataclass per concern, built from parsed flags.

Theory of operation
-------------------
A concern's settings are a frozen dataclass (``ProxyConfig``, ``NodesConfig``, ...) whose
field names are its flags' attribute names (``--hc-interval`` is ``hc_interval``) and
whose field defaults are the only definition of the defaults: the concern's ``FLAGS``
read theirs from an instance (``_D = NodesConfig()``), so ``--help``, the README tables
and the runtime agree by construction.

:func:`from_namespace` is the single bridge from the parser's flat namespace to those
objects, called once per command (``Balancer`` also calls it for a namespace it is given):

* a field whose default is itself a dataclass (``RoutingConfig.params``, each concern of
  ``ServeConfig``) is filled from the same namespace: flag names are unique across
  concerns, so the nesting costs nothing on the command line;
* any other field takes the namespace's attribute of the same name; one the namespace
  lacks keeps its default, because a command may offer only some of a concern's flags
  (``fnlb route`` has no ``--expose-wait-header``);
* lists (what ``csv_list`` flags produce) become tuples, so configs stay immutable.

Runtime modules take these objects and read plain attributes: nothing else reads a
namespace with ``getattr`` and a default, so no default exists twice.
"""

from __future__ import annotations

from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def from_namespace(cls: type[T], ns: Any) -> T:
    """An instance of the dataclass ``cls`` from a namespace of parsed flags (rules above)."""
    values = {}
    for f in fields(cls):
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        if is_dataclass(default):
            values[f.name] = from_namespace(type(default), ns)
        elif hasattr(ns, f.name):
            value = getattr(ns, f.name)
            values[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


class Config:
    """Base of the per-concern config dataclasses, for ``SomeConfig.from_namespace(ns)``."""

    @classmethod
    def from_namespace(cls, ns: Any):
        return from_namespace(cls, ns)
