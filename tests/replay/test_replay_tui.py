"""The replay screen's keys (Textual Pilot), and the recent-runs screen from the picker."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from ipcviz.narrate.headless import Narrator
from ipcviz.replay import state_fingerprint
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.launch import replay_app
from ipcviz.tui.screens.replay import ReplayScreen, Timeline
from ipcviz.tui.screens.runs import RunsScreen
from tests.conftest import BuiltinTraces


async def _until(pilot, cond, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.02)


def _shows(screen: ReplayScreen, i: int) -> bool:
    """The screen's state is exactly the replayed state after event ``i``."""
    return screen.player.pos == i and state_fingerprint(screen.state) == state_fingerprint(
        screen.index.state_at(i)
    )


async def test_replay_keys(builtin_traces: BuiltinTraces, tmp_path: Path) -> None:
    result, _header, events = builtin_traces.copy("pipe-basic", tmp_path)
    assert result.returncode == 0
    app = replay_app(tmp_path / "pipe-basic.jsonl")
    async with app.run_test(size=(160, 50)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await _until(pilot, lambda: screen.first_frame_at is not None and screen.index.done)
        # → / ←: from one told event to the next (the kernel's readings between are not told)
        narrator = Narrator(_header)
        told = [i for i, e in enumerate(events) if narrator.entry(e) is not None]
        for _ in range(10):
            await pilot.press("right")
        await _until(pilot, lambda: _shows(screen, told[9]))
        for _ in range(3):
            await pilot.press("left")
        await _until(pilot, lambda: _shows(screen, told[6]))
        # narration steps
        steps = [i for i, e in enumerate(events) if e["kind"] == "narrate"]
        await pilot.press("home", "n")
        await _until(pilot, lambda: _shows(screen, steps[0]))
        await pilot.press("N")  # no step before the first one: stays
        await pilot.press("n", "n")
        await _until(pilot, lambda: _shows(screen, steps[2]))
        # next/previous event of the object under the cursor
        await pilot.press("home", "right")  # event 0 declares the pipe "p"
        await pilot.press("right_square_bracket")
        on_p = [i for i, e in enumerate(events) if e.get("obj") == "p"]
        await _until(pilot, lambda: _shows(screen, on_p[1]))
        await pilot.press("left_square_bracket")
        await _until(pilot, lambda: _shows(screen, on_p[0]))
        # seek with digits and end; the timeline shows where we are
        await pilot.press("5")
        assert 0 < screen.player.pos < len(events) - 1
        await pilot.press("end")
        await _until(pilot, lambda: _shows(screen, len(events) - 1))
        assert f"event {len(events)}/{len(events)}" in str(screen.query_one(Timeline).border_title)
        # a click on the timeline seeks there (by time)
        timeline = screen.query_one(Timeline)
        await pilot.click(Timeline, offset=(1, 1))  # first column of the sparkline
        await _until(pilot, lambda: screen.player.pos <= 1)
        await pilot.click(Timeline, offset=(timeline.size.width, 1))  # last column
        await _until(pilot, lambda: _shows(screen, len(events) - 1))
        # speed and play
        await pilot.press("greater_than_sign", "greater_than_sign")
        assert screen.player.speed == 5.0
        await pilot.press("less_than_sign")
        assert screen.player.speed == 2.0
        for _ in range(6):
            await pilot.press("less_than_sign")
        assert screen.player.speed == 0.1  # the ~0.1 s run now plays for ~1 s
        await pilot.press("home", "space")
        assert screen.player.playing
        await _until(pilot, lambda: screen.player.pos > 0)  # the timer moves it
        await _until(pilot, lambda: not screen.player.playing)  # played to the end
        await _until(pilot, lambda: _shows(screen, len(events) - 1))
        # predict-then-reveal on the pipe
        writes = [i for i, e in enumerate(events) if e["kind"] == "pipe.write"]
        screen.player.seek(writes[0] - 1)
        await pilot.press("o")  # select the first object (the pipe) for the log and jumps
        assert screen.selected_obj() == "p"
        await pilot.press("h", "right")
        await _until(pilot, lambda: screen.player.pos == writes[0])
        # drawn there (``show_position``): what the screen shows is the write's moment
        await _until(pilot, lambda: (screen._shown or (None,))[0] == writes[0])
        assert screen.state.objects["p"].written == 0  # hidden: the write is not shown
        assert screen.player.state().objects["p"].written > 0
        await pilot.press("enter")
        await _until(pilot, lambda: screen.state.objects["p"].written > 0)
        await pilot.press("q")


async def test_recent_runs_from_the_picker(
    builtin_traces: BuiltinTraces, tmp_path: Path, private_data_home: Path
) -> None:
    result, _header, _events = builtin_traces.copy("pipe-basic", tmp_path)
    assert result.returncode == 0
    traces = private_data_home / "ipcviz" / "traces"
    traces.mkdir(parents=True)
    shutil.copy(tmp_path / "pipe-basic.jsonl", traces / "20260101-000000-pipe-basic.jsonl")
    (traces / "junk.jsonl").write_bytes(b"\x1b[31mnot a trace\n")  # skipped, not shown
    app = IpcvizApp(scenarios=[])
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("R")
        await _until(pilot, lambda: isinstance(app.screen, RunsScreen))
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        assert [r.scenario for r in runs.runs.values()] == ["pipe-basic"]
        run = next(iter(runs.runs.values()))
        assert run.outcome == "passed" and run.events == len(_events)
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        replay = app.screen
        assert isinstance(replay, ReplayScreen)
        await _until(pilot, lambda: replay.index.done and replay.first_frame_at is not None)
        await pilot.press("q")  # back to the list, not out of the app
        await _until(pilot, lambda: isinstance(app.screen, RunsScreen))
        await pilot.press("q")


async def test_replay_offers_only_replay_keys() -> None:
    """Footer, ``?`` and the command palette of a replay offer no live-only key (freeze,
    kill, restart, redraw rate, step mode, dead holder), and those keys do nothing here."""
    from textual.binding import Binding
    from textual.widgets import Static
    from textual.widgets._footer import FooterKey

    from ipcviz.tui.screens.help import HelpScreen
    from ipcviz.tui.screens.session import SessionScreen
    from tests.tui.helpers import TRACES

    app = replay_app(TRACES / "sysv-mq-typed.jsonl")
    async with app.run_test(size=(200, 60)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await _until(pilot, lambda: screen.first_frame_at is not None and screen.index.done)
        own = {b.action for b in ReplayScreen.BINDINGS if isinstance(b, Binding)}
        live_only = {
            b.action.split("(")[0]
            for b in SessionScreen.BINDINGS
            if isinstance(b, Binding) and b.action not in own
        }
        assert live_only == set(ReplayScreen.LIVE_ONLY)  # each live key is either replay's or off
        await pilot.pause()
        footer = [k.action for k in screen.query(FooterKey)]
        assert footer and all(a in own or a == "command_palette" for a in footer), footer
        active = {ab.binding.action.split("(")[0] for ab in screen.active_bindings.values()}
        assert not active & live_only, active & live_only
        titles = {c.title for c in app.get_system_commands(screen)}
        assert "Keys help" in titles and not {t for t in titles if "Freeze" in t or "Kill" in t}
        # the live keys do nothing: the position, speed, redraw rate and the model stay
        before = (
            screen.player.pos,
            screen.player.speed,
            screen.fps,
            state_fingerprint(screen.state),
        )
        await pilot.press("f", "k", "r", "plus", "minus", "t", "s", "g")
        await pilot.pause()
        assert app.screen is screen
        after = (
            screen.player.pos,
            screen.player.speed,
            screen.fps,
            state_fingerprint(screen.state),
        )
        assert after == before
        # ? lists the replay keys, none of the live ones
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        text = str(app.screen.query_one("#help-keys", Static).render())
        for b in ReplayScreen.BINDINGS:
            assert isinstance(b, Binding) and b.tooltip in text, b.key
        for b in SessionScreen.BINDINGS:
            if isinstance(b, Binding) and b.action.split("(")[0] in live_only:
                assert b.tooltip not in text, b.key
        await pilot.press("escape")
        assert app.screen is screen
