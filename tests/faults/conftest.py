"""Fixtures of the fault suite: the matrix of measured outcomes, and a recorder per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.faults.matrix import Matrix, write_requested


@pytest.fixture(scope="session")
def matrix() -> Iterator[Matrix]:
    """Rows measured in this session; merged into docs/reliability.md at the end, but only
    when asked (``python -m tests.faults.matrix --write``): a plain run leaves it alone."""
    m = Matrix()
    yield m
    if write_requested():
        m.write()


@pytest.fixture
def record(matrix: Matrix, request: pytest.FixtureRequest) -> Callable[..., None]:
    """``record(fault_id, outcome, leaks, replays)`` for the current test."""
    nodeid = request.node.nodeid.removeprefix("tests/faults/")

    def rec(fault_id: str, outcome: str, leaks: list[str], replays: str = "—") -> None:
        matrix.record(fault_id, nodeid, outcome, leaks, replays)

    return rec
