"""Every control of the session screen, driven through Pilot.

Live controls run a real engine (a slow pipe scenario) and check the kernel's side: freeze
really stops the workers (state T in /proc/PID/stat), kill ends one with SIGKILL, restart
starts a new engine, q and Ctrl-C stop the engine and leave nothing (the autouse leak check).
"""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Static

from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import LiveFeed, RecordedFeed
from ipcviz.tui.screens.help import HelpScreen
from ipcviz.tui.screens.session import FPS_MAX, FPS_MIN, SessionScreen
from ipcviz.tui.widgets.panels import EventLog, Narration, ProcTable

from .helpers import _tables_pending, load, recorded_app, settle
from .screen_text import screen_rows

SLOW = Path(__file__).parent / "scenarios" / "slow_pipe.py"


def live_app(tmp_path: Path) -> IpcvizApp:
    n = iter(range(100))
    return IpcvizApp(
        lambda: LiveFeed(SLOW, tmp_path / f"run{next(n)}.jsonl", quick=False),
        lang="en",
    )


async def until(pilot: Pilot, cond: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def workers(screen: SessionScreen) -> list[int]:
    return [p.pid for p in screen.state.procs.values() if p.alive]


def probed_stopped(screen: SessionScreen, pids: list[int]) -> int:
    """How many of ``pids`` the engine's last probe saw stopped (psutil "stopped": state T)."""
    procs = screen.state.procs
    return sum(1 for pid in pids if (procs[pid].kernel or {}).get("state") == "stopped")


def more_probes(screen: SessionScreen, n: int) -> Callable[[], bool]:
    """A condition: ``n`` more probe.proc events than now have been applied."""
    target = screen.state.kinds["probe.proc"] + n
    return lambda: screen.state.kinds["probe.proc"] >= target


def palette_offers(app: IpcvizApp, title: str) -> bool:
    """The command palette is open and lists a command containing ``title``."""
    from textual.command import CommandList

    lists = app.screen.query(CommandList)
    return any(
        title in str(opt.prompt)
        for lst in lists
        for opt in (lst.get_option_at_index(i) for i in range(lst.option_count))
    )


# -- view controls (recorded feed: deterministic) ---------------------------------------


async def test_space_pauses_the_view_not_the_model() -> None:
    header, events = load("pipe-basic")
    gate: queue.Queue[dict | None] = queue.Queue()

    def stream() -> Iterator[dict]:
        while (e := gate.get()) is not None:
            yield e

    for e in events[:10]:
        gate.put(e)
    app = IpcvizApp(lambda: RecordedFeed(header, stream()))
    async with app.run_test(size=(120, 40)) as pilot:
        try:
            await _pause_and_resume(pilot, app, gate, events)
        finally:
            gate.put(None)


async def _pause_and_resume(
    pilot: Pilot, app: IpcvizApp, gate: queue.Queue[dict | None], events: list[dict]
) -> None:
    screen = app.screen
    assert isinstance(screen, SessionScreen)
    log = screen.query_one(EventLog)
    await until(pilot, lambda: screen.state.count == 10, "first events")
    await until(pilot, lambda: len(log.plain_lines()) > 0, "the first events drawn")
    await pilot.press("space")
    assert screen.paused
    before = log.plain_lines()
    for e in events[10:]:
        gate.put(e)
    gate.put(None)
    await until(pilot, lambda: screen.state.count == len(events), "all events applied")
    frames = len(screen.frame_times)  # frames that would have redrawn, were it not paused
    await until(pilot, lambda: len(screen.frame_times) >= frames + 3, "three more frames")
    assert log.plain_lines() == before  # the model kept up, the view did not
    await pilot.press("space")
    await until(pilot, lambda: log.plain_lines() != before, "redraw after resume")
    assert not screen.paused and "result: PASSED" in log.plain_lines()[-1]


@pytest.mark.parametrize(
    "keys, present",
    [
        (["v", "v"], False),
        (["p", "p"], False),
        (["o", "o"], False),
        (["l", "l"], False),
        (["v", "v"], True),  # presenter mode: its narration and hint too
        (["l", "l"], True),
    ],
)
async def test_a_paused_view_holds_its_moment_through_the_view_keys(
    keys: list[str], present: bool
) -> None:
    """Paused means the picture holds still: ``v`` (diagram/detail), ``p``/``o`` (the log's
    filters) and ``l`` redrew from the model, which had gone on: the paused screen jumped to
    the newest events (the log, the counts, the end). A toggle may draw the same moment
    differently; toggled back, the screen is the one paused, cell for cell."""
    header, events = load("pipe-basic")
    gate: queue.Queue[dict | None] = queue.Queue()

    def stream() -> Iterator[dict]:
        while (e := gate.get()) is not None:
            yield e

    for e in events[:12]:
        gate.put(e)
    app = IpcvizApp(lambda: RecordedFeed(header, stream()))
    if present:
        from ipcviz.tui.screens.present import PresentScreen

        app.session_class = PresentScreen
    async with app.run_test(size=(120, 40)) as pilot:
        try:
            screen = app.screen
            assert isinstance(screen, SessionScreen)
            await until(pilot, lambda: screen.state.count == 12, "first events")
            screen.query_one(ProcTable).focus()
            await settle_frames(pilot, screen)
            await pilot.press("space")
            await until(pilot, lambda: "VIEW PAUSED" in screen_rows(app)[0], "paused")
            await settle_frames(pilot, screen)  # (the paused moment, its columns measured)
            paused = screen_rows(app)
            for e in events[12:]:
                gate.put(e)
            gate.put(None)
            await until(pilot, lambda: screen.state.count == len(events), "all applied")
            assert screen_rows(app) == paused
            for key in keys[:-1]:
                await pilot.press(key)
                await until(pilot, lambda: screen_rows(app) != paused, f"{key} redrawn")
                status = screen_rows(app)[0]  # the count of the paused moment, not the end's
                assert " 12" in status and "34" not in status, status
            await pilot.press(keys[-1])
            await until(pilot, lambda: screen_rows(app) == paused, "the paused moment again")
            await pilot.press("space")
            await until(pilot, lambda: "34" in screen_rows(app)[0], "resumed: the newest")
        finally:
            gate.put(None)


async def settle_frames(pilot: Pilot, screen: SessionScreen) -> None:
    """Redraw until two frames agree and no table still owes its columns their widths (a
    table measures them when next idle: two frames drawn before that agree too, and a
    paused screen captured then was narrower than the same moment drawn again)."""
    previous = None
    for _ in range(40):
        screen.redraw(True)
        await pilot.pause()
        await pilot.pause()
        rows = screen_rows(pilot.app)
        if rows == previous and not _tables_pending(pilot):
            return
        previous = rows


async def test_plus_minus_change_the_redraw_rate_within_bounds() -> None:
    app = recorded_app("pipe-basic")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        start = screen.fps
        await pilot.press("plus")
        assert screen.fps == start + 5
        for _ in range(10):
            await pilot.press("plus")
        assert screen.fps == FPS_MAX
        for _ in range(10):
            await pilot.press("minus")
        assert screen.fps == FPS_MIN
        assert screen._timer is not None and screen._timer._interval == pytest.approx(1 / FPS_MIN)


async def test_l_switches_narration_language() -> None:
    app = recorded_app("pipe-basic")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        english = str(screen.query_one(Narration).render())
        assert "end of file" in english
        await pilot.press("l")
        korean = str(screen.query_one(Narration).render())
        assert "EOF" in korean and "부모가" in korean
        await pilot.press("l")
        assert str(screen.query_one(Narration).render()) == english


def _help_lines(app: IpcvizApp) -> list[str]:
    """The help screen's text, line by line, as drawn."""
    return str(app.screen.query_one("#help-keys", Static).render()).splitlines()


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
async def test_help_lists_every_key_of_the_screen(size: tuple[int, int]) -> None:
    app = recorded_app("pipe-basic")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        lines = _help_lines(app)
        text = "\n".join(lines)
        # every key of the session screen (its own, step mode's, dead holder's, the app's)
        wanted = [
            b for b in [*SessionScreen.BINDINGS, *IpcvizApp.BINDINGS] if isinstance(b, Binding)
        ]
        for b in wanted:
            assert b.tooltip, f"{b.key}: no tooltip, so ? cannot say what it does"
            assert b.tooltip in text, b.key
        for key in ("space", "f", "k", "+", "?", "q", "t", "1–9", "g", "^c", "^p"):
            assert any(line.split()[0] == key for line in lines), key
        # drawn, not an empty box: the text is on the screen, whole
        box = app.screen.query_one(VerticalScroll)
        assert box.size.height >= min(len(lines), size[1] - 6)
        assert box.size.width >= max(len(line) for line in lines)
        await pilot.press("escape")
        assert isinstance(app.screen, SessionScreen)


async def test_log_filters_by_process_and_object() -> None:
    app = recorded_app("sysv-mq-typed")
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await settle(pilot)
        log = screen.query_one(EventLog)
        table = screen.query_one(ProcTable)
        table.move_cursor(row=1)  # the consumer
        consumer = table.selected_pid()
        await pilot.press("p")
        screen.redraw()
        assert log.only_pid == consumer
        lines = log.plain_lines()
        assert lines and all(f"[{consumer}]" in line for line in lines)
        await pilot.press("p")
        assert log.only_pid is None
        await pilot.press("o")  # first object: the queue
        screen.redraw()
        assert log.only_obj == "mq"
        assert all(" mq" in line or "mq " in line for line in log.plain_lines())
        await pilot.press("o", "o")
        assert log.only_obj is None


def toasts(app: IpcvizApp) -> str:
    """The text of the notifications the screen shows now."""
    from textual.widgets._toast import Toast

    return "\n".join(str(t.render()) for t in app.screen.query(Toast))


async def test_recorded_session_refuses_live_controls() -> None:
    # stop before the end: the model still has both processes alive, so a kill would have
    # a target; the recorded session must refuse it and say why, on the screen
    app = recorded_app("pipe-basic", upto=12)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = await settle(pilot)
        table = screen.query_one(ProcTable)
        table.focus()
        await until(pilot, lambda: table.row_count == 2, "rows")
        victim = table.selected_pid()
        assert victim is not None and screen.state.procs[victim].alive
        await pilot.press("f")
        await until(pilot, lambda: "freeze: only in a live run" in toasts(app), "freeze refusal")
        await pilot.press("k")
        await until(pilot, lambda: "kill: only in a live run" in toasts(app), "kill refusal")
        assert not screen.state.frozen and screen.state.procs[victim].alive
        assert screen.state.count == 12  # nothing reached a model or a process
        await pilot.press("q")
    assert app.return_value is None


async def test_a_refusal_pressed_again_is_one_toast_not_a_stack() -> None:
    """``f`` pressed ten times on a recording: one "only in a live run" toast while it is
    shown, where ten stacked down the screen (on a projector, → after the run ended covered
    half the figure with "continue: the run has ended")."""
    app = recorded_app("pipe-basic", upto=12)
    # a toast is shown (and the same one not shown again) for this long: past the ten
    # presses and the checks, however slow the machine (by default 5 s, after which a press
    # is rightly told again)
    app.NOTIFICATION_TIMEOUT = 600
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        refused = "freeze: only in a live run"
        asked: list[str] = []
        notify = app.notify

        def counted(message: str, **kwargs: Any) -> None:
            asked.append(message)
            notify(message, **kwargs)

        app.notify = counted  # type: ignore[method-assign]
        for _ in range(10):
            await pilot.press("f")
        await until(pilot, lambda: asked.count(refused) == 10, "every f refused")
        # each toast asked for was posted to the app as it was asked: once the app has
        # handled what was posted before this, every one of them is among its notifications
        handled = asyncio.Event()
        app.call_later(handled.set)
        await asyncio.wait_for(handled.wait(), 30)
        assert [n.message for n in app._notifications].count(refused) == 1
        await until(pilot, lambda: refused in toasts(app), "the refusal")
        assert toasts(app).count(refused) == 1
        await pilot.press("k")  # another message is shown beside it
        await until(pilot, lambda: "kill: only in a live run" in toasts(app), "kill refusal")
        await pilot.press("q")


async def test_picker_lists_builtins_and_enter_runs_one(tmp_path: Path) -> None:
    """q in a run started from the picker goes back to the picker, the run stopped (its
    engine reaped, its processes gone; its objects: the autouse leak check); a second run
    from there starts afresh, and q on the picker ends the app."""
    from ipcviz.scenario.loader import load
    from ipcviz.tui.screens.picker import PickerScreen

    slow = load(SLOW)
    app = IpcvizApp(scenarios=[slow], record=tmp_path / "picked.jsonl")
    async with app.run_test(size=(100, 30)) as pilot:
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        feeds = []
        for _ in range(2):
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, SessionScreen), "session")
            screen = app.screen
            assert isinstance(screen, SessionScreen)
            await until(pilot, lambda s=screen: len(workers(s)) == 2, "workers")
            pids = workers(screen)
            feeds.append(screen.feed)
            await pilot.press("q")
            await until(pilot, lambda: app.screen is picker, "back on the picker")
            feed = feeds[-1]
            assert isinstance(feed, LiveFeed) and feed.engine.proc.poll() is not None
            assert all(proc_state(p) is None for p in pids)
            assert screen not in app.sessions
        assert feeds[0] is not feeds[1]
        await pilot.press("q")
    assert app.return_value == 0
    traces = sorted(p.name for p in tmp_path.glob("picked*.jsonl"))
    assert len(traces) == 2 and "picked.jsonl" in traces


async def test_a_run_from_the_picker_says_q_goes_back_when_it_ends(tmp_path: Path) -> None:
    """The end's toast names what q does there: back to the list (from the picker), or
    quit (a run started directly: test_scenario_end_leaves_final_state_and_checks)."""
    from ipcviz.scenario.loader import load, resolve

    app = IpcvizApp(
        scenarios=[load(resolve("pipe-basic"))], quick=True, record=tmp_path / "p.jsonl"
    )
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SessionScreen), "session")
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await until(pilot, lambda: "run ended" in toasts(app), "the end's toast")
        assert "r restarts, q goes back" in toasts(app)
        await pilot.press("q")
        await until(pilot, lambda: not isinstance(app.screen, SessionScreen), "the picker")


# -- live controls (real engine, real processes) ----------------------------------------


async def test_f_freezes_and_unfreezes_the_real_processes(tmp_path: Path) -> None:
    app = live_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await until(pilot, lambda: len(workers(screen)) == 2, "both workers")
        pids = workers(screen)
        await pilot.press("f")
        await until(pilot, lambda: screen.state.frozen, "freeze event")
        await until(pilot, lambda: all(proc_state(p) == "T" for p in pids), "state T")
        # a record written just before SIGSTOP may still be drained: once the engine's probe
        # saw both stopped, let two more probe sweeps (drains) pass; after that nothing may
        # be written any more, for as many sweeps again
        await until(pilot, lambda: probed_stopped(screen, pids) == 2, "probes saw state T")
        await until(pilot, more_probes(screen, 4), "two more sweeps")
        count = screen.state.kinds["pipe.write"]
        await until(pilot, more_probes(screen, 4), "two more sweeps")
        assert screen.state.kinds["pipe.write"] == count  # really stopped: nothing written
        await pilot.press("f")
        await until(pilot, lambda: not screen.state.frozen, "resume event")
        await until(pilot, lambda: all(proc_state(p) in "RS" for p in pids), "running again")
        await until(pilot, lambda: screen.state.kinds["pipe.write"] > count, "writes again")
        await pilot.press("q")


async def test_k_kills_the_selected_process(tmp_path: Path) -> None:
    app = live_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await until(pilot, lambda: len(workers(screen)) == 2, "both workers")
        table = screen.query_one(ProcTable)
        table.focus()
        await until(pilot, lambda: table.row_count == 2, "rows")
        await pilot.press("down")
        victim = table.selected_pid()
        assert victim is not None and screen.state.procs[victim].name == "child"
        await pilot.press("k")
        await until(pilot, lambda: not screen.state.procs[victim].alive, "proc.exit")
        assert screen.state.procs[victim].exit_signal == 9
        assert proc_state(victim) is None
        screen.redraw()
        assert "killed by SIGKILL" in str(table.get_cell(str(victim), "state"))
        await pilot.press("q")


async def test_r_restarts_with_a_new_engine(tmp_path: Path) -> None:
    app = live_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await until(pilot, lambda: len(workers(screen)) == 2, "both workers")
        first = screen.feed
        old = set(workers(screen))
        await pilot.press("r")
        assert isinstance(first, LiveFeed) and first.engine.proc.poll() is not None
        assert all(proc_state(p) is None for p in old)
        await until(pilot, lambda: len(workers(screen)) == 2, "new workers")
        assert screen.feed is not first and not old & set(workers(screen))
        assert screen.query_one(ProcTable).row_count == 2
        await pilot.press("q")
    assert (tmp_path / "run0.jsonl").exists() and (tmp_path / "run1.jsonl").exists()


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_quit_stops_the_engine_and_returns_its_status(tmp_path: Path, key: str) -> None:
    app = live_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await until(pilot, lambda: len(workers(screen)) == 2, "both workers")
        pids = workers(screen)
        feed = screen.feed
        await pilot.press(key)
        # q stops the engine in a thread (the screen takes keys meanwhile), then ends
        await until(pilot, lambda: app.return_value is not None, "the app's end")
    assert app.return_value == 0
    assert isinstance(feed, LiveFeed) and feed.engine.proc.poll() is not None
    assert all(proc_state(p) is None for p in pids)
    last = (tmp_path / "run0.jsonl").read_text().splitlines()[-1]
    assert '"session.end"' in last and '"stopped"' in last


async def test_command_palette_runs_session_actions() -> None:
    app = recorded_app("pipe-basic")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        titles = [c.title for c in app.get_system_commands(screen)]
        for title in ("Freeze / unfreeze processes", "Kill selected process", "Restart scenario",
                      "Pause / resume view", "Faster redraw", "Quit session"):  # fmt: skip
            assert title in titles
        await pilot.press("ctrl+p")
        await pilot.press(*"Language")
        await until(pilot, lambda: palette_offers(app, "Language"), "the match")
        await pilot.press("enter")
        await until(pilot, lambda: screen.lang == "ko", "the palette's command to run")


async def test_scenario_end_leaves_final_state_and_checks(tmp_path: Path) -> None:
    from ipcviz.scenario.loader import resolve

    app = IpcvizApp(lambda: LiveFeed(resolve("pipe-basic"), tmp_path / "t.jsonl", quick=True))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await until(pilot, lambda: screen.result is not None, "the end of the run")
        await until(pilot, lambda: "run ended" in toasts(app), "the end's toast")
        assert "r restarts, q quits" in toasts(app)  # (started directly: q leaves)
        checks_text = lambda: str(screen.query_one("#checks").render())  # noqa: E731
        await until(pilot, lambda: "PASSED" in checks_text(), "the checks drawn")
        assert screen.state.outcome == "passed" and screen.result == 0
        checks = checks_text()
        assert "✓" in checks and "PASSED" in checks
        assert len(screen.query_one(ProcTable).rows) == 2  # still on screen
        await pilot.press("q")
        await until(pilot, lambda: app.return_value is not None, "the app's end")
    assert app.return_value == 0


async def test_an_idle_screen_does_not_redraw_until_something_happens(monkeypatch) -> None:
    """Nothing new (no event, key or message): frames skip the redraw, so a finished
    session costs no CPU; a key makes the next frame redraw."""
    import ipcviz.tui.screens.session as session

    monkeypatch.setattr(session, "IDLE_REDRAW_S", 1e9)  # no age refresh during the test
    app = recorded_app("pipe-basic")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        drawn: list[bool] = []
        real = screen.redraw
        monkeypatch.setattr(
            screen, "redraw", lambda force=False: (drawn.append(force), real(force))
        )
        screen.tick()  # settle's own redraw already showed the finished model
        drawn.clear()
        for _ in range(5):
            screen.tick()
        assert drawn == []
        await pilot.press("l")  # narration language: a key reaches the screen
        screen.tick()
        assert drawn, "the frame after a key redraws"


def _long_title_app(tmp_path: Path) -> IpcvizApp:
    """The slow pipe under a title as long as the built-ins' (pipe-unrelated's is 58 cells)."""
    source = tmp_path / "long_title.py"
    source.write_text(
        SLOW.read_text().replace(
            '"A slow pipe, for control tests"',
            '"A slow pipe, for control tests, under a lecture-length title"',
        )
    )
    return IpcvizApp(lambda: LiveFeed(source, tmp_path / "run.jsonl", quick=False), lang="en")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_paused_or_frozen_view_says_so_on_a_lecture_sized_screen(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    """The status line put VIEW PAUSED and FROZEN after the scenario's title and the event
    count: at 80 and at 120 columns the line was cut before them, and a paused view (the
    processes running on) looked exactly like a live one."""
    from .screen_text import screen_rows

    app = _long_title_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await until(pilot, lambda: len(workers(screen)) == 2, "both workers")
        await pilot.press("space")
        assert screen.paused
        screen.redraw(True)
        await pilot.pause()
        assert "VIEW PAUSED" in screen_rows(app)[0], screen_rows(app)[0]
        await pilot.press("space")
        await pilot.press("f")
        await until(pilot, lambda: screen.state.frozen, "freeze event")
        screen.redraw(True)
        await pilot.pause()
        assert "FROZEN" in screen_rows(app)[0], screen_rows(app)[0]
        await pilot.press("f")
        await until(pilot, lambda: not screen.state.frozen, "resume event")
        await pilot.press("q")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_status_line_says_step_mode_and_keeps_the_counts_word(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    """After ``t`` the status line still said "full speed · live": the mode the run was in
    was nowhere on it. And at 80 columns a long title cut it to "…EPIPE  29", a number
    without its word: the title gives way, "N events" stays whole."""
    import re

    from .screen_text import screen_rows

    app = _long_title_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await until(pilot, lambda: len(workers(screen)) == 2, "both workers")
        screen.redraw(True)
        await pilot.pause()
        assert re.search(r"\d+ events", screen_rows(app)[0]), screen_rows(app)[0]
        await pilot.press("t")
        await until(pilot, lambda: screen.state.step_mode, "step mode event")
        screen.redraw(True)
        await pilot.pause()
        top = screen_rows(app)[0]
        assert "STEP MODE" in top and "full speed" not in top, top
        assert re.search(r"\d+ events", top), top
        await pilot.press("t")
        await until(pilot, lambda: not screen.state.step_mode, "step mode off")
        screen.redraw(True)
        await pilot.pause()
        assert "STEP MODE" not in screen_rows(app)[0], screen_rows(app)[0]
        await pilot.press("q")


class HeldFeed(LiveFeed):
    """A real engine whose stopping waits until the test lets it (``release``), as a busy
    run's can take seconds: what the screen does meanwhile is then a condition, not a race.
    (Never longer than ``HOLD_S``: without the fix the wait blocks the event loop itself.)"""

    HOLD_S = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        import threading

        super().__init__(*args, **kwargs)
        self.release = threading.Event()
        self.closing = threading.Event()

    def close(self) -> int | None:
        self.closing.set()
        self.release.wait(self.HOLD_S)
        return super().close()


async def test_q_says_stopping_and_keeps_taking_view_keys_until_the_engine_stopped(
    tmp_path: Path,
) -> None:
    """``q`` stopped the engine inside the event loop: the screen froze, keys included, for
    as long as the engine took to stop, with nothing saying why. Now the status line says
    STOPPING… at once, view keys still work (``l``), keys that act on the run do not
    (``f``), and the app ends with the run's status once the engine has stopped."""
    feeds: list[HeldFeed] = []

    def make() -> HeldFeed:
        feeds.append(HeldFeed(SLOW, tmp_path / "run.jsonl", quick=False))
        return feeds[-1]

    app = IpcvizApp(make, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await until(pilot, lambda: len(workers(screen)) == 2, "both workers")
        pids, feed = workers(screen), feeds[0]
        try:
            await pilot.press("q")
            await until(pilot, feed.closing.is_set, "the engine asked to stop")
            await until(pilot, lambda: "STOPPING…" in screen_rows(app)[0], "STOPPING…")
            await pilot.press("f")  # acts on the run: off while it stops
            await pilot.press("l")  # how it is shown: still taken
            await until(pilot, lambda: screen.lang == "ko", "l taken while stopping")
            await until(pilot, lambda: "멈추는 중…" in screen_rows(app)[0], "worded again")
            assert not screen.state.frozen and app.screen is screen
            assert feed.engine.proc.poll() is None  # (still being stopped)
        finally:
            feed.release.set()
        await until(pilot, lambda: app.return_value is not None, "the app's end")
    assert app.return_value == 0
    assert feed.engine.proc.poll() is not None
    assert all(proc_state(p) is None for p in pids)
