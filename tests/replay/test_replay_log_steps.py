"""What a replay's log shows after a jump and a step (Textual Pilot, a real recorded trace).

A run's kernel probes are events the log does not tell: 59 of pipe-basic's 99, and 928 of a
presenter's producer-consumer's 1226. The log after a jump held the lines of the last 300
*events* (two lines at 40% of that recording), and ``→`` / ``←`` onto a probe changed no
line: the log must hold the last lines a user stepping there would see, and a step must go
from one told event to the next.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ipcviz.narrate.headless import Narrator
from ipcviz.tui.launch import replay_app
from ipcviz.tui.screens import replay
from ipcviz.tui.screens.replay import ReplayScreen
from ipcviz.tui.widgets.panels import EventLog
from tests.conftest import BuiltinTraces

SIZE = (120, 40)


async def _until(pilot: Any, cond: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.02)


def _told(header: dict[str, Any], events: list[dict[str, Any]]) -> list[int]:
    """The events the headless log tells (the reference for every log of ipcviz)."""
    narrator = Narrator(header)
    return [i for i, e in enumerate(events) if narrator.entry(e) is not None]


async def _opened(pilot: Any) -> ReplayScreen:
    app = pilot.app
    await _until(pilot, lambda: isinstance(app.screen, ReplayScreen))
    screen = app.screen
    assert isinstance(screen, ReplayScreen)
    await _until(pilot, lambda: screen.first_frame_at is not None and screen.index.done)
    return screen


def _logged(screen: ReplayScreen) -> list[int]:
    """The events of the lines the log holds now (it draws the newest that fit)."""
    return [line.index for line in screen.query_one(EventLog).entries]


async def test_a_jump_shows_the_last_lines_not_the_last_events(
    builtin_traces: BuiltinTraces, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After ``end`` and ``4`` (40%), the log holds its last ``LOG_LINES`` told lines, as
    many as a user stepping there would see. pipe-basic is ten times shorter than the
    presenter's recording, so the window is 8 lines here (300 on the screen): the lines
    of the last 8 events were 4 at the end, the probes between them taking the rest."""
    monkeypatch.setattr(replay, "LOG_LINES", 8)
    result, header, events = builtin_traces.copy("pipe-basic", tmp_path)
    assert result.returncode == 0
    told = _told(header, events)
    app = replay_app(tmp_path / "pipe-basic.jsonl", lang="en")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _opened(pilot)
        for key in ("end", "4", "9", "1"):
            await pilot.press(key)
            pos = screen.player.pos
            await _until(pilot, lambda p=pos: screen._shown is not None and screen._shown[0] == p)
            want = [i for i in told if i <= pos][-8:]
            assert len(want) == 8, f"{key}: pick a moment with 8 lines before it"
            assert _logged(screen) == want, key
        await pilot.press("q")
