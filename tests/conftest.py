"""Fixtures shared by every test folder, and the ``process`` marker.

A test is marked ``process`` when it starts real processes (``fnlb serve``, sim nodes,
``fnlb`` commands, PostgreSQL clients of a running server): its module imports
``subprocess`` or the process helpers of ``tests.support.procs``, or it uses the
``start_fnlb`` fixture. ``make test-fast`` runs the others (``-m "not process"``), which
need nothing but the interpreter: pure objects, and in-process servers on 127.0.0.1.
"""


import pytest

from tests.support.procs import Fnlb

_PROCESS_HELPERS = {"subprocess", "Proc", "Fnlb", "fnlb_argv"}


def _starts_processes(item) -> bool:
    module = getattr(item, "module", None)
    names = set(vars(module)) if module is not None else set()
    return bool(names & _PROCESS_HELPERS) or "start_fnlb" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _starts_processes(item):
            item.add_marker(pytest.mark.process)


@pytest.fixture
def start_fnlb():
    """Start `fnlb serve` processes; all are stopped (and killed if stuck) after the test."""
    started: list[Fnlb] = []

    def start(*args: str, **kw) -> Fnlb:
        proc = Fnlb(*args, **kw)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
