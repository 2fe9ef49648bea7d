"""The compiled core and its uncompiled twin: which one runs, and how to tell."""

from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys

import pytest

import fnlb
from fnlb.proxy import client


def run(code: str, **env: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                          env={**os.environ, **env}).stdout.strip()


def test_the_core_in_use_is_reported():
    compiled = isinstance(client.__loader__, importlib.machinery.ExtensionFileLoader)
    assert fnlb.core() == ("compiled core" if compiled else "pure Python")
    if os.environ.get("FNLB_PURE"):
        assert not compiled


def test_fnlb_pure_runs_the_sources():
    assert run("import fnlb; print(fnlb.core())", FNLB_PURE="1") == "pure Python"
    assert run("import fnlb.proxy.upstream as m; print(m.__file__)", FNLB_PURE="1").endswith("upstream.py")


def test_version_names_the_core():
    out = run("from fnlb.cli import main; main(['--version'])")
    assert out == f"fnlb {fnlb.__version__} ({fnlb.core()})"


@pytest.mark.skipif(fnlb.PURE or fnlb.core() != "compiled core", reason="the compiled core is not built here")
def test_every_listed_module_is_built():
    for name in fnlb.COMPILED_MODULES:
        module = __import__(name, fromlist=["_"])
        assert isinstance(module.__loader__, importlib.machinery.ExtensionFileLoader), name


def test_setup_py_compiles_exactly_the_listed_modules():
    """The compiled core is named twice (setup.py builds it, fnlb/__init__.py finds its
    sources; the Makefile reads setup.py): the two lists must not drift apart."""
    import ast

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tree = ast.parse(open(os.path.join(root, "setup.py")).read())
    listed = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                  and getattr(node.targets[0], "id", "") == "COMPILED")
    built = {ast.literal_eval(item).removesuffix(".py").replace("/", ".") for item in listed.elts}
    assert built == set(fnlb.COMPILED_MODULES)
    for name in built:   # and each names a source that exists
        base = os.path.join(root, "src", *name.split("."))
        assert os.path.exists(base + ".py"), name
