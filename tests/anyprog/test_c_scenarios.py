"""The lecture's C examples as scenarios of their own (scenarios/c/NAME.py beside NAME.c):
run under strace, each narration step is said once strace has shown what it tells, every
check passes over the recorded trace, and ``ipcviz list`` shows them in lecture order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ipcviz.scenario.lecture import number
from ipcviz.scenario.loader import c_scenario_files, load
from ipcviz.sources import cbuild
from tests.anyprog.test_programs import NO_GCC, NO_STRACE, needs_tools
from tests.conftest import ipcviz, read_trace

C_SCENARIOS = {load(p).id: load(p) for p in c_scenario_files()}


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The examples are compiled into a cache of the test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_every_c_example_has_its_scenario() -> None:
    assert sorted(C_SCENARIOS) == cbuild.examples()
    for sid, s in C_SCENARIOS.items():
        assert s.example == sid and s.teaches and s.checks
        assert all(step.en and step.ko and step.id in s.when for step in s.steps)


@needs_tools
@pytest.mark.parametrize("sid", sorted(C_SCENARIOS))
def test_c_scenario_passes_headless(sid: str, tmp_path: Path) -> None:
    trace = tmp_path / "run.jsonl"
    done = ipcviz("run", sid, "--headless", "--quick", "--record", str(trace), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    header, events = read_trace(trace)
    scenario = C_SCENARIOS[sid]
    assert header["scenario"]["id"] == sid and header["source"] == "strace"
    # every step said once, in the declared order, after the event that makes it true
    said = [e["step"] for e in events if e["kind"] == "narrate"]
    assert said == [s.id for s in scenario.steps]
    checks = [e for e in events if e["kind"] == "check"]
    # the scenario's checks, then the engine's own: the program exited with status 0
    assert [c["description"] for c in checks] == [c.description for c in scenario.checks] + [
        f"{sid[2:].replace('-', '_')} exited with status 0"
    ]
    assert checks and all(c["ok"] for c in checks), checks
    assert events[-1]["kind"] == "session.end" and events[-1]["outcome"] == "passed"
    # the deadlock analysis accuses only the example that deadlocks (proven from the kernel
    # on strace-sourced semaphore waits), and every example removes what it made itself
    deadlocks = [e for e in events if e["kind"] == "deadlock"]
    assert len(deadlocks) == (sid == "c/two-locks"), deadlocks
    assert not [e for e in events if e["kind"] == "program.leftover"]
    # the headless log tells the steps and the checks
    for step in scenario.steps:
        assert step.en.split(":")[0][:40] in " ".join(done.stdout.split())
    assert done.stdout.count("check ✓") == len(checks)
    verify = ipcviz("verify", str(trace))
    assert verify.returncode == 0 and "legal history" in verify.stdout, verify.stdout
    # Korean narration from the same trace
    ko = ipcviz("replay", str(trace), "--headless", "--lang", "ko")
    assert ko.returncode == 0, ko.stderr
    assert scenario.steps[0].ko.split(".")[0] in ko.stdout


def test_list_shows_the_c_examples_in_lecture_order() -> None:
    done = ipcviz("list", check=True)
    rows = [ln.split()[0] for ln in done.stdout.splitlines() if ln and not ln.startswith("#")]
    for sid, s in C_SCENARIOS.items():
        line = next(ln for ln in done.stdout.splitlines() if ln.startswith(sid + " "))
        assert all(t in line for t in s.teaches)
    listed = json.loads(ipcviz("list", "--json", check=True).stdout)
    assert [s["id"] for s in listed] == rows
    firsts = [number(s["teaches"][0]) for s in listed]
    assert firsts == sorted(firsts)
    by_id = {s["id"]: s for s in listed}
    assert by_id["c/pipe-parent-child"]["section"] == "1.1a"
    assert by_id["c/sysv-mq-typed"]["teaches"] == ["T18", "T20", "T21", "T22"]
    for sid in ("c/fifo-unrelated", "c/sysv-shm-semaphore", "c/two-locks"):
        assert sid in by_id  # the lecture's C examples, in the list and the picker


@pytest.mark.skipif(not (NO_GCC or NO_STRACE), reason="the tools are here")
def test_without_tools_one_line() -> None:
    done = ipcviz("run", "c/pipe-parent-child", "--headless")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


@needs_tools
async def test_the_picker_runs_a_c_example(tmp_path: Path) -> None:
    """Enter on a C example in the picker: compiled, run under strace, narrated, checked."""
    from ipcviz.tui.app import IpcvizApp
    from ipcviz.tui.screens.session import SessionScreen
    from tests.tui.test_controls import until

    scenario = C_SCENARIOS["c/pipe-parent-child"]
    app = IpcvizApp(scenarios=[load(Path(scenario.source))], record=tmp_path / "picked.jsonl")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SessionScreen), "session")
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await until(pilot, lambda: screen.state.outcome is not None, "the end", timeout=60)
        assert screen.state.outcome == "passed"
        assert len(screen.state.checks) == len(scenario.checks) + 1  # + the exit status
        assert all(c.ok for c in screen.state.checks)
        await pilot.press("q")
    header, events = read_trace(tmp_path / "picked.jsonl")
    assert header["scenario"]["id"] == "c/pipe-parent-child"
    assert [e["step"] for e in events if e["kind"] == "narrate"] == [s.id for s in scenario.steps]


def test_a_step_said_after_an_event_spans_that_event(tmp_path: Path) -> None:
    """A C example's step is published right after the event that makes it true. Stamped
    at that event's end alone, it claimed an instant after a receive that overlapped the
    event, ended sooner and comes after it: CI's rehearsal found c/posix-mq-priority's trace
    illegal that way. With ``since`` = the event's begin (ProgramEngine._narrate_steps) the
    step is as legal as its event."""
    header = {"format": "ipcviz-trace", "version": 1, "scenario": {"id": "x"}}
    for since, verdict in ((None, 1), (10, 0)):
        step = {"t": 30, "pid": 7, "kind": "narrate", "step": "full", "step_index": 0}
        if since is not None:
            step["since"] = since
        events = [
            {"t": 0, "pid": 0, "kind": "obj.declare", "obj": "q", "type": "posix_mq",
             "max_messages": 2, "max_size": 8},
            {"t": 0, "pid": 7, "kind": "proc.start", "name": "a"},
            {"t": 0, "pid": 8, "kind": "proc.start", "name": "b"},
            {"t": 5, "pid": 8, "kind": "mq.send", "obj": "q", "prio": 0, "n": 1, "data": "eA=="},
            {"t": 30, "pid": 7, "kind": "mq.send", "obj": "q", "prio": 0, "n": 1,
             "data": "eQ==", "since": 10},  # began at 10, ended at 30 ...
            step,
            {"t": 20, "pid": 8, "kind": "mq.recv", "obj": "q", "prio": 0, "n": 1,
             "data": "eA==", "since": 15},  # ... and overlapped this receive (15–20)
        ]  # fmt: skip
        for seq, e in enumerate(events):
            e["seq"] = seq
        path = tmp_path / f"t{verdict}.jsonl"
        path.write_text("".join(json.dumps(x) + "\n" for x in [header, *events]))
        result = ipcviz("verify", str(path))
        assert result.returncode == verdict, result.stdout


@needs_tools
def test_two_locks_deadlock_is_proven_broken_and_leaves_nothing(tmp_path: Path) -> None:
    """c/two-locks deadlocks on every run (a handshake, not timing). ipcviz proves it from
    the kernel, names the cycle through the two semaphores of the program's set, kills one
    victim; SEM_UNDO gives its lock back (shown: sem.undo, legal), the survivor finishes and
    the program removes its set: no semaphore set of it is left."""
    trace = tmp_path / "run.jsonl"
    done = ipcviz("run", "c/two-locks", "--headless", "--record", str(trace), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    _, events = read_trace(trace)
    (deadlock,) = [e for e in events if e["kind"] == "deadlock"]
    locks = sorted(c["waits_for"] for c in deadlock["cycle"])
    ident = locks[0].split("[")[0]
    assert locks == [f"{ident}[0]", f"{ident}[1]"]
    (kill,) = [e for e in events if e["kind"] == "control" and e.get("action") == "kill"]
    assert kill["reason"] == "deadlock" and kill["target"] in {c["pid"] for c in deadlock["cycle"]}
    undo = [e for e in events if e["kind"] == "sem.undo"]
    assert [(e["pid"], e["n"]) for e in undo] == [(kill["target"], 1)]
    assert any(e["kind"] == "deadlock.resolved" for e in events)
    rows = Path("/proc/sysvipc/sem").read_text().splitlines()[1:]
    assert ident.split(":")[1] not in [row.split()[1] for row in rows]
