"""``--pace OPS``: the step gate opened by a clock, on real processes and real queues.

Nothing here measures wall-clock time: every claim is read from the trace's own stamps
(the engine stamps each ``gate.step`` with the clock the pace is kept by), so a loaded
machine makes a run slower, never a test red.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.conftest import ipcviz, run_scenario
from tests.control.test_interleaving import _op_order


def _legal(trace: Path) -> None:
    r = ipcviz("verify", str(trace))
    assert r.returncode == 0 and "legal history" in r.stdout, r.stdout + r.stderr


def _first_op_after(events: list[dict], i: int) -> dict | None:
    """The operation the ``gate.step`` at index ``i`` let go: that process's next event of
    the same family (``mq.send`` → ``mq.*``)."""
    step = events[i]
    family = str(step.get("op", "")).split(".")[0]
    for e in events[i + 1 :]:
        if e.get("pid") == step["pid"] and e["kind"].split(".")[0] == family:
            return e
    return None


def test_pace_10_spreads_sysv_mq_typed_over_seconds_and_it_still_passes(tmp_path: Path):
    result, header, events = run_scenario("sysv-mq-typed", tmp_path, "--pace", "10")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "result: PASSED" in result.stdout
    assert header["pace"] == 10.0
    steps = [(i, e) for i, e in enumerate(events) if e["kind"] == "gate.step"]
    # every operation was let go by the clock: 5 sends, a post, a wait, 5+1 receives, a send
    assert len(steps) >= 14 and {e["by"] for _, e in steps} == {"pace"}
    stamps = [e["t"] for _, e in steps]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 100_000_000  # never two releases within 1/10 s, as stamped
    assert stamps[-1] - stamps[0] >= (len(stamps) - 1) * 100_000_000  # > 1.3 s of operations
    for i, step in steps:  # and no operation began before the release that let it go
        op = _first_op_after(events, i)
        assert op is not None, step
        assert op.get("since", op["t"]) >= step["t"], (step, op)
    # the queue filled over the four releases between its first and fifth message (counted
    # in the trace's order: a send's own stamp is taken when it returns, after its release,
    # by a variable delay, so two sends' stamps may be closer than the releases' 1/10 s)
    sends = [i for i, e in enumerate(events) if e["kind"] == "mq.send" and e.get("obj") == "mq"]
    assert len([i for i, _ in steps if sends[0] < i < sends[4]]) >= 4
    _legal(tmp_path / "sysv-mq-typed.jsonl")


def test_pace_keeps_the_seeded_order(tmp_path: Path):
    """Pace decides when, the seed decides who: the same seed, paced or not, gives the
    same operations in the same order (the choice is made on a settled world either way)."""
    args = ("--seed", "11", "--set", "increments=4")
    runs = []
    for i, pace in enumerate((None, "400")):
        extra = args if pace is None else (*args, "--pace", pace)
        result, _header, events = run_scenario("shm-race", tmp_path / str(i), *extra)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr
        runs.append(events)
    plain, paced = (_op_order(e) for e in runs)
    assert len(plain) > 20 and paced == plain
    steps = [e for e in runs[1] if e["kind"] == "gate.step"]
    assert {e["by"] for e in steps} == {"seed 11"}
    gaps = [b["t"] - a["t"] for a, b in itertools.pairwise(steps)]
    assert min(gaps) >= 1e9 / 400
    _legal(tmp_path / "1" / "shm-race.jsonl")


def test_pace_after_a_declared_schedule(tmp_path: Path):
    """producer-consumer declares a schedule (its waits happen on every run); paced, the
    schedule runs first, then the clock releases the rest, and the run passes."""
    result, _header, events = run_scenario("producer-consumer", tmp_path, "--pace", "2000")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    by = [e["by"] for e in events if e["kind"] == "gate.step"]
    first_paced = by.index("pace")
    assert set(by[:first_paced]) == {"schedule"} and set(by[first_paced:]) == {"pace"}
    _legal(tmp_path / "producer-consumer.jsonl")


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf", "1e9", ""])
def test_a_bad_pace_is_one_line_and_exit_2(tmp_path: Path, value: str):
    r = ipcviz("run", "pipe-basic", "--headless", "--quick", "--pace", value)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith("ipcviz: --pace:")


# -- the keys (Pilot, a real engine) ------------------------------------------------------


async def _until(pilot, cond, what: str, timeout: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


@pytest.mark.parametrize("present", [False, True])
async def test_pace_keys_slow_down_speed_up_and_unpace(tmp_path: Path, present: bool) -> None:
    """< and > walk the pace ladder, u lets the processes run free; the status line shows
    the pace the engine recorded; the run passes. Also in presenter mode (--present).

    The run starts in step mode, so no operation goes while the keys are pressed: at 2–3
    operations a second a slow machine could otherwise end the run before ``u`` (seen: a
    60 s wait for a pace the finished engine could no longer record). ``t`` then ends
    step mode and the paced-then-free run goes on."""
    import time

    from ipcviz.scenario.loader import resolve
    from ipcviz.tui.app import IpcvizApp
    from ipcviz.tui.feed import LiveFeed
    from ipcviz.tui.widgets.panels import StatusLine

    trace = tmp_path / "t.jsonl"
    app = IpcvizApp(
        lambda: LiveFeed(
            resolve("sysv-mq-typed"), trace, quick=True, pace=2.0, present=present, step=True
        )
    )
    if present:
        from ipcviz.tui.screens.present import PresentScreen

        app.session_class = PresentScreen
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        state = lambda: screen.state  # noqa: E731 - the screen replaces it on start
        status = lambda: str(screen.query_one(StatusLine).render())  # noqa: E731
        await _until(pilot, lambda: state().pace == 2.0, "the pace of --pace 2")
        await _until(pilot, lambda: "PACE 2 ops/s" in status(), "the pace in the status line")
        await pilot.press("greater_than_sign")
        await _until(pilot, lambda: state().pace == 3.0, "> : 3 ops/s")
        await pilot.press("less_than_sign")
        await _until(pilot, lambda: state().pace == 2.0, "< : 2 ops/s")
        await pilot.press("less_than_sign")
        await _until(pilot, lambda: state().pace == 1.0, "< : 1 ops/s")
        await _until(pilot, lambda: "PACE 1 ops/s" in status(), "1 ops/s in the status line")
        await pilot.press("u")
        await _until(pilot, lambda: state().pace is None, "u: full speed")
        await pilot.press("t")
        await _until(pilot, lambda: not state().step_mode, "t: step mode off")
        deadline = time.monotonic() + 120  # (a deadline: 600 tries said nothing of time)
        while state().outcome is None:  # (presenter mode: → through the narration steps)
            assert time.monotonic() < deadline, "the run never ended"
            if present:
                await pilot.press("right")
            await pilot.pause(0.1)
        assert state().outcome == "passed"
        assert "PACE" not in status()
        await pilot.press("q")
    _legal(trace)
    import json

    events = [json.loads(line) for line in trace.read_text().splitlines()[1:]]
    paces = [
        i for i, e in enumerate(events) if e["kind"] == "control" and e.get("action") == "pace"
    ]
    steps = [i for i, e in enumerate(events) if e["kind"] == "gate.step"]
    assert [events[i]["ops"] for i in paces] == [2.0, 3.0, 2.0, 1.0, None]
    assert steps and paces[-1] < steps[0], "step mode held every operation during the keys"


@pytest.mark.parametrize("scenario", ["mq-async", "mmap-file"])
def test_paced_runs_that_once_failed_pass(tmp_path: Path, scenario: str) -> None:
    """mq-async's receiver spins between its operations (it never waits at a gate nor in
    the kernel): the clock does not wait for it to settle. mmap-file checks the kernel's
    view of the file: the last probe is taken after the last store, paced or not."""
    result, _header, events = run_scenario(scenario, tmp_path, "--pace", "200")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert any(e["kind"] == "gate.step" and e["by"] == "pace" for e in events)
    _legal(tmp_path / f"{scenario}.jsonl")
