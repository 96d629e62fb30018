"""The step keys of the session screen (t, s, 1..9, n) against a real engine, via Pilot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from ipcviz.draw.render import proc_state_text
from ipcviz.scenario.loader import resolve
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import LiveFeed
from ipcviz.tui.screens.session import SessionScreen
from ipcviz.tui.screens.stepping import numbered


async def _until(pilot: Pilot, cond: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def test_step_keys_move_exactly_the_chosen_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # as `ipcviz run shm-race --quick` would, but starting in step mode (engine --step)
    app = IpcvizApp(
        lambda: LiveFeed(resolve("shm-race"), tmp_path / "t.jsonl", quick=True, step=True)
    )

    async def scenario() -> None:
        async with app.run_test(size=(140, 45)) as pilot:
            screen = app.screen
            assert isinstance(screen, SessionScreen)
            state = lambda: screen.state  # noqa: E731 - the screen replaces it on start

            def gated() -> list[str]:
                return [p.name for p in state().procs.values() if p.gated_op]

            await _until(pilot, lambda: len(gated()) == 3, "all three at their gates")
            inc1 = numbered(state())[0]
            assert inc1.name == "inc1"
            assert "at gate → shm.read counter" in proc_state_text(state(), inc1).plain
            reads = state().kinds["shm.read"]
            await pilot.press("1")
            await _until(pilot, lambda: state().gate_steps == 1, "one step")
            await _until(pilot, lambda: "inc1" in gated(), "inc1 back at its gate")
            assert state().kinds["shm.read"] == reads + 1
            assert inc1.gated_op == "shm.write"  # it read; next it writes
            await pilot.press("n")
            await _until(pilot, lambda: state().gate_steps == 2, "a random step")
            # Whatever the random step was, these four leave a stale read behind that is
            # written over a newer value: an update is lost (the scenario's check) for sure.
            for n, key in enumerate("2323", start=3):
                await _until(pilot, lambda: len(gated()) == 3, "all three at their gates")
                await pilot.press(key)
                await _until(pilot, lambda n=n: state().gate_steps == n, f"step {n}")
            await pilot.press("t")  # free-running again: the run completes
            await _until(pilot, lambda: state().outcome is not None, "the end of the run")
            assert state().outcome == "passed" and not gated()
            await pilot.press("q")

    asyncio.run(scenario())


async def test_the_deadlock_banner_goes_once_a_victim_is_killed(tmp_path: Path) -> None:
    from ipcviz.tui.screens.stepping import DeadlockBanner
    from ipcviz.tui.widgets.panels import ProcTable
    from tests.control.test_deadlock import FORCED

    # the deadlock forced through the step gate, then free: as the TUI runs it (no end)
    app = IpcvizApp(
        lambda: LiveFeed(resolve("deadlock"), tmp_path / "t.jsonl", quick=True, schedule=FORCED)
    )
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        banner = screen.query_one(DeadlockBanner)
        # (the schedule forms the deadlock at once: the banner may be up before we look)
        await _until(pilot, lambda: banner.display, "the DEADLOCK banner")
        text = str(banner.render())
        assert "DEADLOCK: left waits for lock_b, held by right" in text
        assert "press k to break it" in text
        table = screen.query_one(ProcTable)
        table.focus()
        left = numbered(screen.state)[0]
        assert left.name == "left"
        await pilot.press("k")  # the first row (left) is selected
        await _until(pilot, lambda: screen.state.outcome is not None, "the end of the run")
        await _until(pilot, lambda: not banner.display, "the banner gone")
        assert screen.state.procs[left.pid].exit_signal == 9
        assert [c.ok for c in screen.state.checks] == [True, True]
        assert screen.state.outcome == "passed"
        await pilot.press("q")


async def test_an_app_ended_by_an_exception_stops_its_deadlocked_engine(tmp_path: Path) -> None:
    """Whatever ends the app, its engines stop with it (IpcvizApp.on_unmount): before, an
    exception inside Pilot left a deadlocked engine running and its reader thread waiting,
    and the test hung until pytest-timeout instead of failing."""
    from ipcviz.tui.screens.stepping import DeadlockBanner
    from tests.control.test_deadlock import FORCED

    trace = tmp_path / "t.jsonl"
    app = IpcvizApp(lambda: LiveFeed(resolve("deadlock"), trace, quick=True, schedule=FORCED))
    with pytest.raises(RuntimeError, match="a test fails here"):
        async with app.run_test(size=(140, 45)) as pilot:
            banner = app.screen.query_one(DeadlockBanner)
            await _until(pilot, lambda: banner.display, "the DEADLOCK banner")
            raise RuntimeError("a test fails here")
    assert '"session.end"' in trace.read_text().splitlines()[-1].replace(" ", "")
