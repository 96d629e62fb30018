"""Reproducible interleavings (--seed, --schedule) and lost updates, on real processes."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from ipcviz.events.codec import payload
from ipcviz.model.analysis.races import lost_updates
from tests.conftest import ipcviz, run_scenario

OPS = ("shm.read", "shm.write", "sem.wait", "sem.post", "sem.trywait")


def _names(events):
    return {e["pid"]: e["name"] for e in events if e["kind"] == "proc.start"}


def _op_order(events):
    """The order of operations by process name and kind (pids differ between runs).

    In stream order: the engine publishes a legal history (engine/linearize.py), so a
    wake-up (sem.wait) always follows the post that caused it, whatever their stamps say.
    """
    names = _names(events)
    ops = [e for e in events if e["kind"] in OPS]
    return [(names[e["pid"]], e["kind"], e.get("value")) for e in ops]


def _final_counter(events) -> int:
    writes = [e for e in events if e["kind"] == "shm.write"]
    return struct.unpack("<q", payload(writes[-1]))[0]


@pytest.mark.parametrize("scenario", ["shm-race", "shm-semaphore"])
def test_same_seed_gives_the_same_order_of_operations(tmp_path: Path, scenario: str):
    runs = []
    for i, seed in enumerate(("11", "11", "12")):
        result, header, events = run_scenario(scenario, tmp_path / str(i), "--seed", seed)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr
        assert header["seed"] == int(seed)
        runs.append(events)
    first, second, other = (_op_order(e) for e in runs)
    n_ops = len(first)
    assert n_ops > 100
    assert first == second  # same seed: same operations, same values, same order
    assert _final_counter(runs[0]) == _final_counter(runs[1])
    # every operation went through the gate, chosen by the seeded generator
    steps = [e for e in runs[0] if e["kind"] == "gate.step"]
    assert len(steps) == n_ops and {e["by"] for e in steps} == {"seed 11"}
    assert len(other) == len(first)  # another seed: a valid run (its order may differ)


@pytest.mark.parametrize("scenario", ["mq-full", "mq-priority", "pipe-full-closed", "fifo-named"])
def test_a_seeded_run_goes_on_while_a_process_waits_for_another_to_sleep(
    tmp_path: Path, scenario: str
):
    """These scenarios prove a block with ``ctx.wait_for_wchan``. Seeded, the gate waited
    for that sleeping process to reach its gate, while it waited for a step of the other
    that the gate held back: mq-full ended FAILED after 22 s, mq-priority at its 60 s
    timeout, fifo-named failed. Now the waiter is not waited for until the other has slept.
    The gate's choices (its ``gate.step`` events) are still a function of the seed where
    the scenario's own code does not count time (the two queue scenarios: pipe-full-closed
    writes until a deadline, and whether a begin is told apart from its end is a matter
    of when the engine reads it, so neither is compared)."""
    steps = []
    for i in range(2 if scenario.startswith("mq-") else 1):
        result, _header, events = run_scenario(scenario, tmp_path / str(i), "--seed", "1")
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr
        names = _names(events)
        steps.append(
            [(names.get(e["pid"]), e.get("op"), e.get("obj")) for e in events
             if e["kind"] == "gate.step"]
        )  # fmt: skip
    assert len(steps[0]) > 10 and all(s == steps[0] for s in steps)


def test_schedule_for_shm_race_loses_exactly_one_update(tmp_path: Path):
    # inc1 reads 0, inc2 reads 0, inc1 writes 1, inc2 writes 1 (inc1's update is lost);
    # then each runs alone to its end: no other overlap.
    schedule = "inc1,inc2,inc1,inc2,inc1*,inc2*,inc3*"
    result, header, events = run_scenario("shm-race", tmp_path, "--schedule", schedule)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    p = header["scenario"]["params"]
    total = p["workers"] * p["increments"]
    assert _final_counter(events) == total - 1
    lost = [e for e in events if e["kind"] == "race.lost_update"]
    assert len(lost) == 1
    (u,) = lost
    assert u["lost"]["proc"] == "inc1" and u["by"]["proc"] == "inc2"
    assert u["lost"]["read"] == u["by"]["read"] == 0 and u["by"]["wrote"] == 1
    assert u["missing"] == 1
    assert (
        "LOST UPDATE" in result.stdout and "inc2 (read 0, wrote 1) overwrote inc1" in result.stdout
    )
    # the trace alone gives the same answer (replay needs no engine)
    assert len(lost_updates(events)) == 1
    chosen = [e for e in events if e["kind"] == "gate.step" and e["by"] == "schedule"]
    names = _names(events)
    assert [names[e["pid"]] for e in chosen[:4]] == ["inc1", "inc2", "inc1", "inc2"]


def test_a_schedule_decides_between_deadlock_and_none(tmp_path: Path):
    # each takes its first lock, then each asks for the other's: deadlock, every time
    result, _, events = run_scenario(
        "deadlock", tmp_path / "a", "--schedule", "left,right,left,right"
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert any(e["kind"] == "deadlock" for e in events)
    # left runs alone to its end first: no deadlock, so the scenario's check fails (exit 1)
    result, _, events = run_scenario("deadlock", tmp_path / "b", "--schedule", "left*,right*")
    assert result.returncode == 1, result.stdout[-2000:]
    assert not any(e["kind"] == "deadlock" for e in events)
    assert "left, right got both after nobody was killed" in result.stdout


def test_bad_schedule_is_a_one_line_usage_error(tmp_path: Path):
    r = ipcviz("run", "shm-race", "--headless", "--schedule", "inc1,,inc9**")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--schedule: bad item 'inc9**'" in r.stderr
    trace = tmp_path / "runs" / "t.jsonl"
    r = ipcviz(
        "run", "shm-race", "--headless", "--quick", "--schedule", "inc1,nobody",
        "--record", str(trace),
    )  # fmt: skip
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "ipcviz: --schedule: no process named nobody in scenario shm-race "
        "(its processes: inc1, inc2, inc3)"
    ]
    assert r.stdout == "" and not trace.parent.exists()  # refused before anything is made


def test_an_operation_never_comes_before_the_gate_step_that_let_it_go(tmp_path: Path):
    """A process at its gate moves only when the gate lets it: in the stream, each of its
    operations follows the ``gate.step`` that released it, also where one process's last
    step hands over to another's first (the step is the engine's, the operation the
    worker's: the step joins the worker's program order)."""
    schedule = "inc1,inc2*4,inc1*3,inc3*4"
    for _ in range(3):
        _result, _header, events = run_scenario(
            "shm-race", tmp_path, "--set", "increments=2", "--schedule", schedule
        )
        at_gate: dict[int, int] = {}  # pid → seq of its gate.wait not yet stepped
        for e in events:
            kind, pid = e["kind"], e.get("pid")
            if kind == "gate.wait":
                at_gate[pid] = e["seq"]
            elif kind == "gate.step":
                at_gate.pop(pid, None)
            elif kind.startswith("shm."):
                assert pid not in at_gate, f"seq {e['seq']} {kind} before its gate.step"
