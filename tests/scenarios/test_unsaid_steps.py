"""A lecturer's own scenario that declares a narration step no process says: the headless
run ends with a note naming it (a ``ctx.step`` missing or never reached), once per step,
and says nothing of the steps that were said. Built-in scenarios get no such note: some
of their steps belong to branches a run may not take."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ipcviz

SCENARIO = """
from ipcviz.scenario import Scenario

scenario = Scenario("two-steps", "a step said, a step forgotten")
scenario.step("said", "the first step, said by the worker")
scenario.step("forgotten", "a step no process says")


@scenario.process("worker")
def worker(ctx):
    ctx.step("said")


@scenario.check("it ran")
def ran(run):
    return True
"""


def test_a_declared_step_no_process_said_is_noted(tmp_path: Path) -> None:
    path = tmp_path / "two_steps.py"
    path.write_text(SCENARIO)
    res = ipcviz("run", str(path), "--headless", "--record", str(tmp_path / "t.jsonl"))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    notes = [ln for ln in res.stdout.splitlines() if "was not said" in ln]
    assert notes == ["# note: narration step forgotten is declared but was not said in this run"], (
        res.stdout[-2000:]
    )
    ko = ipcviz("run", str(path), "--headless", "--lang", "ko", "--record", str(tmp_path / "k"))
    assert "설명 단계 forgotten" in ko.stdout, ko.stdout[-2000:]


def test_a_built_in_scenario_gets_no_such_note(tmp_path: Path) -> None:
    res = ipcviz("run", "shm-race", "--headless", "--quick", "--record", str(tmp_path / "t"))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert "was not said" not in res.stdout


COMMAND_STEP = """
from ipcviz.scenario import Scenario

scenario = Scenario("command-step", "a program's step, said for it")
scenario.step("run", "the program runs: it cannot say this itself")
scenario.command("prog", ["sh", "-c", "exit 0"], trace=False, step="run")
"""


def test_a_commands_step_is_said_for_it_as_it_starts(tmp_path: Path) -> None:
    """A program cannot call ``ctx.step``: ``scenario.command(..., step=)`` has the engine
    say it, right after the program's start (shell-pipeline's only step was never said)."""
    from tests.conftest import read_trace

    path = tmp_path / "command_step.py"
    path.write_text(COMMAND_STEP)
    trace = tmp_path / "t.jsonl"
    res = ipcviz("run", str(path), "--headless", "--record", str(trace))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert "the program runs: it cannot say this itself" in res.stdout
    assert "was not said" not in res.stdout
    _, events = read_trace(trace)
    start = next(e for e in events if e["kind"] == "proc.start")
    said = next(e for e in events if e["kind"] == "narrate")
    assert said["pid"] == start["pid"] and said["seq"] > start["seq"] and said["step"] == "run"
    assert ipcviz("verify", str(trace)).returncode == 0
    bad = tmp_path / "bad.py"
    bad.write_text(COMMAND_STEP.replace('step="run"', 'step="nope"'))
    res = ipcviz("run", str(bad), "--headless", "--record", str(tmp_path / "b.jsonl"))
    assert res.returncode == 2 and "nope" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_a_traced_commands_step_is_said_for_it_too(tmp_path: Path) -> None:
    """Traced (strace), the command's ``proc.start`` is strace's, not the engine's: its step
    is said right after it (it was never said, and the run ended with the unsaid note)."""
    import pytest

    from tests.anyprog.test_programs import NO_STRACE
    from tests.conftest import read_trace

    if NO_STRACE:
        pytest.skip("strace cannot run here")
    path = tmp_path / "command_step.py"
    path.write_text(COMMAND_STEP.replace("trace=False", "trace=True"))
    trace = tmp_path / "t.jsonl"
    res = ipcviz("run", str(path), "--headless", "--record", str(trace))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert "the program runs: it cannot say this itself" in res.stdout, res.stdout[-2000:]
    assert "was not said" not in res.stdout
    _, events = read_trace(trace)
    start = next(e for e in events if e["kind"] == "proc.start")
    said = [e for e in events if e["kind"] == "narrate"]
    assert [e["step"] for e in said] == ["run"], said
    assert said[0]["pid"] == start["pid"] and said[0]["seq"] > start["seq"]
    assert ipcviz("verify", str(trace)).returncode == 0
