"""``R`` on a live run's end screen: the replay of the run just recorded, at its start.

A C example's run is over in ~60 ms: what a student sees live is its end. The end offers
``R`` (the toast says so), which opens the run's own trace in the replay screen before its
first event; ``q`` there comes back to the ended run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ipcviz.scenario.loader import resolve
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import LiveFeed
from ipcviz.tui.screens.replay import ReplayScreen
from ipcviz.tui.screens.session import SessionScreen


async def _until(pilot: Any, cond: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"{what}: not reached in time"
        await pilot.pause(0.02)


def _toasts(app: IpcvizApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def test_R_at_the_end_replays_the_run_from_its_start(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    app = IpcvizApp(lambda: LiveFeed(resolve("pipe-basic"), trace, quick=True), lang="en")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        live = app.screen
        assert isinstance(live, SessionScreen)
        await pilot.press("R")  # while it runs: nothing (no trace to replay yet)
        assert app.screen is live
        await _until(pilot, lambda: live.result is not None, "the end of the run")
        await _until(pilot, lambda: "R replays it" in _toasts(app), "the end's toast")
        await pilot.press("R")
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the replay")
        replay = app.screen
        assert isinstance(replay, ReplayScreen)
        assert replay.index.path == trace
        assert replay.player.pos == -1  # the start: before the first event
        await _until(pilot, lambda: replay.index.done, "the trace indexed")
        assert replay.index.count == live.state.count  # the whole run, as recorded
        await pilot.press("q")
        await _until(pilot, lambda: app.screen is live, "back to the ended run")
        await pilot.press("q")
    assert app.return_value == 0
