"""Narration tells a scenario's declared interleaving only when the run follows it.

shm-race, atomicity and deadlock narrate what their declared schedule makes happen ("all
three read before any writes"). Under another schedule (``--schedule``, ``--seed``, stepping
by hand, ``--challenge``, ``explore``) that story is false: they narrate what holds anyway.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ipcviz, read_trace


def _narrated(tmp_path: Path, scenario: str, *extra: str) -> list[str]:
    trace = tmp_path / f"{scenario}-{len(list(tmp_path.iterdir()))}.jsonl"
    r = ipcviz("run", scenario, "--headless", "--quick", "--record", str(trace), *extra)
    assert r.returncode in (0, 1), r.stdout[-2000:] + r.stderr
    _header, events = read_trace(trace)
    return [e["step"] for e in events if e["kind"] == "narrate"]


@pytest.mark.parametrize(
    ("scenario", "declared", "other", "given"),
    [
        ("shm-race", ["race", "lost"], ["race-any", "lost-any"], ["--schedule", "inc1*,inc2*"]),
        ("shm-race", ["race", "lost"], ["race-any", "lost-any"], ["--seed", "1"]),
        ("atomicity", ["naive"], ["naive-any"], ["--schedule", "p1*,p2*"]),
        ("deadlock", ["first", "second", "cycle"], ["first-any", "second-any"],
         ["--schedule", "left*,right*"]),
    ],
)  # fmt: skip
def test_declared_narration_only_under_the_declared_schedule(
    tmp_path: Path, scenario: str, declared: list[str], other: list[str], given: list[str]
) -> None:
    own = _narrated(tmp_path, scenario)
    assert set(declared) <= set(own) and not set(other) & set(own), own
    chosen = _narrated(tmp_path, scenario, *given)
    assert set(other) <= set(chosen) and not set(declared) & set(chosen), chosen
