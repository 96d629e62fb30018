"""A worker's threads at the step gate: each thread waits at a gate of its own, so a
seeded or scheduled run of a multi-threaded worker finishes, lets exactly the chosen
thread go, and records a legal history (``ipcviz verify``, its gate rule per thread)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ipcviz, read_trace

HERE = Path(__file__).parent
SCENARIO = str(HERE / "threads_gated.py")
#: A hang must fail the test, not block the suite: the engine gives up after this (s),
#: and the CLI is killed well after that.
LIMIT = 120
OPS = ("pipe.write", "pipe.read", "mq.send", "mq.recv")


def _run(tmp_path: Path, *extra: str) -> list[dict]:
    tmp_path.mkdir(exist_ok=True)
    trace = tmp_path / "t.jsonl"
    run = ipcviz(
        "run", SCENARIO, "--headless", "--quick", "--record", str(trace),
        "--timeout", str(LIMIT), *extra, timeout=LIMIT + 60,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "result: PASSED" in run.stdout
    result = ipcviz("verify", str(trace))
    assert result.returncode == 0, result.stdout[:2000] + result.stderr
    assert "legal history" in result.stdout
    return read_trace(trace)[1]


def _released_threads(events: list[dict]) -> set[int]:
    """Threads of the worker its gate.steps let go (0: its first thread)."""
    w = next(e["pid"] for e in events if e["kind"] == "proc.start" and e.get("name") == "w")
    return {e.get("thread", 0) for e in events if e["kind"] == "gate.step" and e["pid"] == w}


def _one_step_per_operation(events: list[dict]) -> None:
    """Each operation of a thread comes after a gate.step of that very thread, one step
    for one operation (a blocking call: its ``.begin``; its completion needs none)."""
    released: dict[tuple[int, int], str] = {}  # stepped, its operation not seen yet
    begun: set[tuple[int, int]] = set()  # in a blocking call: its completion comes next
    for e in events:
        key, kind = (e["pid"], e.get("thread", 0)), e["kind"]
        if kind == "gate.step":
            assert key not in released, f"seq {e['seq']}: stepped twice before it moved"
            released[key] = e["op"]
        elif kind.removesuffix(".begin") in OPS:
            if key in begun and not kind.endswith(".begin"):
                begun.discard(key)  # the end of the call its step let begin
                continue
            op = released.pop(key, None)
            assert op == kind.removesuffix(".begin"), f"seq {e['seq']}: {kind} after {op}"
            if kind.endswith(".begin"):
                begun.add(key)
    assert not begun


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_seeded_run_of_a_threaded_worker_finishes_legal(tmp_path: Path, seed: int) -> None:
    events = _run(tmp_path, "--seed", str(seed))
    assert _released_threads(events) == {1, 2, 3}  # every thread, each through its own gate
    _one_step_per_operation(events)


@pytest.mark.parametrize("schedule", ["w*3,r,w*2,r*,w*", "r*,w*4"])
def test_a_scheduled_run_of_a_threaded_worker_finishes_legal(tmp_path: Path, schedule: str) -> None:
    events = _run(tmp_path, "--schedule", schedule, "--seed", "7")
    by = {e["by"] for e in events if e["kind"] == "gate.step"}
    assert by == {"schedule", "seed 7"}
    _one_step_per_operation(events)


def test_a_paced_run_of_a_threaded_worker_finishes_legal(tmp_path: Path) -> None:
    events = _run(tmp_path, "--pace", "5000")
    assert _released_threads(events) == {1, 2, 3}


def _order(events: list[dict]) -> list[tuple[str, str | None]]:
    """Operations and their bytes, in stream order (pids and thread numbers differ)."""
    return [(e["kind"], e.get("data")) for e in events if e["kind"] in OPS]


def test_the_same_seed_gives_the_same_order_with_threads(tmp_path: Path) -> None:
    """Threads race to their first gate, so their thread numbers may differ from run to
    run; the seed chooses among them in the order they were made (their kernel thread
    ids, in creation order), so the same seed gives the same operations in the same order."""
    first = _run(tmp_path / "a", "--seed", "2")
    second = _run(tmp_path / "b", "--seed", "2")
    assert len(_order(first)) >= 4 * 5 and _order(first) == _order(second)
