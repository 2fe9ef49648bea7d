"""Configuration: the flag machinery and the typed, frozen configs it produces.

Theory of operation
-------------------
Settings come in as flags, ``FNLB_<NAME>`` environment variables and a TOML ``--config``
file (precedence in that order, then the default), are parsed into a flat namespace, and
are turned once into frozen dataclasses, one per concern, which is all the runtime sees:

  flags.py       Flag, parse, the value converters, help_text, UsageError, CONFIG_FLAG
  goduration.py  Go duration strings (duration flags and the nodes' XXX-FXLB-WAIT header)
  typed.py       Config and from_namespace: namespace -> typed config (defaults defined once)
  serve.py       ServeConfig, the concerns of ``fnlb serve`` composed, and its flag list

Each concern's dataclass lives next to its flags, in the concern's ``options.py``:
``ProxyConfig`` (proxy), ``RoutingConfig`` (routing: the policy name, ``policy.Params``
and the wait-header switch), ``NodesConfig`` (nodes), ``ObservabilityConfig``
(observability) and ``SimNodeConfig`` (sim). They live there rather than here because a
concern's flags validate with the concern's own code (node addresses, API versions, the
node model's ``ON_BUSY``, the policy names), and a default is best read beside its help
text and its validator. This package therefore depends on no concern, except
``serve.py``, which only composes them; imports run one way::

    flags, goduration, typed  <-  <concern>/options.py  <-  serve.py  <-  fnlb.cli commands

No module outside ``fnlb.cli`` imports ``fnlb.cli``. This file imports nothing, so that a
quick command (``fnlb route``) loads only the machinery and the flags it uses.
"""
