"""Builds fnlb's compiled core: the per-request modules, compiled by Cython from their
plain-Python sources (pure-Python mode: each ``.py`` runs as it is where nothing is
compiled, and the ``.pxd`` beside it gives the compiler the types). Everything else is in
pyproject.toml. A module that does not compile fails the build: there is no silent
fallback to a slower install. ``FNLB_PURE=1`` at run time imports the ``.py`` sources
even where the extensions are built (see ``fnlb/__init__.py``).
"""

from Cython.Build import cythonize
from setuptools import setup

# The compiled core, also listed in fnlb/__init__.py (COMPILED_MODULES).
COMPILED = [
    "fnlb/proxy/flow.py",
    "fnlb/proxy/wire.py",
    "fnlb/proxy/head.py",
    "fnlb/proxy/pool.py",
    "fnlb/proxy/upstream.py",
    "fnlb/proxy/exchange.py",
    "fnlb/proxy/client.py",
    "fnlb/routing/nodeset.py",
    "fnlb/routing/waits.py",
    "fnlb/routing/inflight.py",
    "fnlb/routing/policy.py",
    "fnlb/routing/containers.py",
    "fnlb/routing/warm.py",
    "fnlb/app.py",
]

setup(
    ext_modules=cythonize(
        [f"src/{path}" for path in COMPILED],
        language_level=3,
        compiler_directives={
            "annotation_typing": False,     # the .pxd files give the types; annotations stay Python's
            "embedsignature": False,
        },
        quiet=True,
    ),
)
