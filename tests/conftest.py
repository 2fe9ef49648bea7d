import pytest

from tests.support.procs import Fnlb


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
