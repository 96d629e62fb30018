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


async def _until(pilot: Any, cond: Any, what: str = "", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"{what or 'condition'}: not reached in time"
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


def _said(app: Any) -> list[str]:
    """The notifications on screen now."""
    return [str(n.message) for n in app._notifications]


def _logged(screen: ReplayScreen) -> list[int]:
    """The events of the lines the log holds now (it draws the newest that fit)."""
    return [line.index for line in screen.query_one(EventLog).entries]


async def test_a_jump_shows_the_last_lines_not_the_last_events(
    builtin_traces: BuiltinTraces, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After ``end`` and ``4`` (40%), the log holds its last ``LOG_LINES`` told lines, as
    many as a user stepping there would see. pipe-basic is ten times shorter than the
    presenter's recording, so the window is 8 lines here (300 on the screen): the lines
    of the last 8 events were 5 at the end, the probes between them taking the rest."""
    monkeypatch.setattr(replay, "LOG_LINES", 8)
    result, header, events = builtin_traces.copy("pipe-basic", tmp_path)
    assert result.returncode == 0
    told = _told(header, events)
    app = replay_app(tmp_path / "pipe-basic.jsonl", lang="en")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _opened(pilot)
        for key in ("end", "4", "9", "1"):  # each a new position
            before = screen.player.pos
            await pilot.press(key)
            await _until(
                pilot,
                lambda b=before: (
                    screen.player.pos != b
                    and screen._shown is not None
                    and screen._shown[0] == screen.player.pos
                ),
                key,
            )
            pos = screen.player.pos
            want = [i for i in told if i <= pos][-8:]
            assert len(want) == 8, f"{key}: pick a moment with 8 lines before it"
            assert _logged(screen) == want, key
        await pilot.press("q")


async def test_a_step_goes_to_the_next_line_and_says_where_it_ends(
    builtin_traces: BuiltinTraces, tmp_path: Path
) -> None:
    """From the start, each ``→`` lands on the next told event (a new line at the log's
    bottom, never a probe that changes no line), the last one then says it is the end;
    each ``←`` goes back one line, and at the start says so."""
    result, header, events = builtin_traces.copy("pipe-basic", tmp_path)
    assert result.returncode == 0
    told = _told(header, events)
    assert len(told) < len(events)  # the kernel's readings between are not told
    app = replay_app(tmp_path / "pipe-basic.jsonl", lang="en")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await _opened(pilot)

        async def press(key: str, want: int) -> None:
            await pilot.press(key)
            await _until(pilot, lambda: screen._shown is not None and screen._shown[0] == want)
            assert screen.player.pos == want, key
            # the newest line is the told event landed on (or the last one before the end)
            assert _logged(screen)[-1:] == [i for i in told if i <= want][-1:], key

        await pilot.press("home")
        for i in told:
            await press("right", i)
        last = len(events) - 1
        if told[-1] != last:  # untold events after the last line: → goes to the end
            await press("right", last)
        await press("right", last)
        await _until(pilot, lambda: "the end of the recording" in _said(app), "the end")
        if told[-1] != last:
            await press("left", told[-1])
        for i in reversed([-1, *told[:-1]]):
            await press("left", i)
        await press("left", -1)
        await _until(pilot, lambda: "the start, before the first event" in _said(app), "start")
        await pilot.press("q")
