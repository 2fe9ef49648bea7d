"""fnlb: a function-aware load balancer for clusters of Fn-style function servers.

The per-request modules (``COMPILED_MODULES``) are plain Python that setup.py also
compiles with Cython (the ``.pxd`` beside each gives the types). Python imports an
extension module before the ``.py`` of the same name, so the compiled core is used
wherever it was built; with ``FNLB_PURE=1`` in the environment (or where nothing was
built) the same sources run uncompiled. ``core()`` says which one this process runs.
"""

from __future__ import annotations

import os
import sys

__version__ = "0.1.0"

# Keep in step with setup.py (COMPILED).
COMPILED_MODULES = frozenset({
    "fnlb.proxy.flow", "fnlb.proxy.wire", "fnlb.proxy.head", "fnlb.proxy.pool", "fnlb.proxy.upstream",
    "fnlb.proxy.exchange", "fnlb.proxy.client", "fnlb.routing.nodeset", "fnlb.routing.waits",
    "fnlb.routing.inflight", "fnlb.routing.policy", "fnlb.routing.containers", "fnlb.routing.warm", "fnlb.app",
})


STALE_SLACK = 2.0   # seconds: files unpacked by one install are "as old" as each other


def _stale() -> str | None:
    """The first compiled module whose ``.py`` or ``.pxd`` is newer than its build."""
    import importlib.machinery

    root = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(COMPILED_MODULES):
        base = os.path.join(root, *name.split(".")[1:])
        built = [base + s for s in importlib.machinery.EXTENSION_SUFFIXES if os.path.exists(base + s)]
        if not built:
            continue
        sources = [f for f in (base + ".py", base + ".pxd") if os.path.exists(f)]
        if sources and max(map(os.path.getmtime, sources)) > os.path.getmtime(built[0]) + STALE_SLACK:
            return base + ".py"
    return None


class _SourceFirst:
    """A meta-path finder: the compiled modules from their ``.py`` instead of the extension
    modules, all of them (they refer to each other's types), under FNLB_PURE=1 and also
    where a source was edited since the last build (then with a warning: the edit is what
    runs, never a stale build of it; ``make core`` rebuilds)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name not in COMPILED_MODULES or not path:
            return None
        import importlib.machinery
        import importlib.util

        for folder in path:
            source = os.path.join(folder, name.rpartition(".")[2] + ".py")
            if os.path.exists(source):
                return importlib.util.spec_from_file_location(
                    name, source, loader=importlib.machinery.SourceFileLoader(name, source))
        return None


PURE = os.environ.get("FNLB_PURE", "") not in ("", "0")
_edited: str | None = None
if not PURE:
    _edited = _stale()
    if _edited is not None:
        print(f"fnlb: {_edited} changed since the compiled core was built; running it all uncompiled "
              "(make core rebuilds it)", file=sys.stderr)
if PURE or _edited is not None:
    sys.meta_path.insert(0, _SourceFirst())


def core() -> str:
    """"compiled core" when the per-request modules run compiled, else "pure Python"."""
    import importlib.machinery

    from fnlb.proxy import client

    compiled = isinstance(getattr(client, "__loader__", None), importlib.machinery.ExtensionFileLoader)
    return "compiled core" if compiled else "pure Python"
