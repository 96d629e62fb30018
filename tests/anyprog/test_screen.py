"""The live session screen of ``ipcviz run -- PROG``: the same screen as a scenario's, fed by
an engine that watches a C program through strace."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import LiveFeed
from ipcviz.tui.screens.session import SessionScreen
from ipcviz.tui.widgets.panels import EventLog, ObjectView
from tests.anyprog import programs
from tests.anyprog.test_programs import compile_c, needs_tools
from tests.conftest import read_trace


async def until(pilot: Pilot, cond: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


async def ended(app: IpcvizApp, pilot: Pilot) -> SessionScreen:
    """The session screen once the program's run has ended, drawn with all of it."""
    await until(pilot, lambda: isinstance(app.screen, SessionScreen), "the session")
    screen = app.screen
    assert isinstance(screen, SessionScreen)
    await until(pilot, lambda: screen.feed is not None and screen.feed.finished, "the end")
    screen.tick()
    screen.redraw(True)
    await pilot.pause()
    return screen


@needs_tools
async def test_a_c_program_on_the_session_screen(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "pipe", programs.PIPE)
    app = IpcvizApp(
        lambda: LiveFeed(Path("pipe"), tmp_path / "run.jsonl", program=(str(binary),)),
        lang="en",
    )
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await ended(app, pilot)
        state = screen.state
        assert [p.name for p in state.procs.values()] == ["pipe", "pipe/1"]
        (name,) = state.objects
        assert name.startswith("pipe:[")
        assert state.objects[name].written == state.objects[name].read == 25
        shown = "\n".join(
            line for v in screen.query(ObjectView) for line in v.plain_lines()
        ) + "\n".join(screen.query_one(EventLog).plain_lines())
        assert name in shown
        # the payload's escape code and markup are shown as text, never acted on
        assert "\x1b" not in shown
        assert "wrote 15 B to " + name + ': "\\x1b[2J[b]b' in shown  # (the log cuts it)
        # a program's processes never pass the step gate: no step or pace key is offered
        keys = {b.binding.action.split("(")[0] for b in screen.active_bindings.values()}
        assert not keys & {"toggle_step", "step_selected", "step_random", "pace"}, keys
        assert "quit_session" in keys


#: One write of three lines: a C program's stdout into a pipe is one buffer, flushed at exit
#: (as a lecture example's consumer prints every item it took, all at the end).
THREE_LINES = r"""
#include <stdio.h>
int main(void) { printf("took 101\ntook 102\ntook 103\n"); return 0; }
"""


@needs_tools
async def test_every_line_of_one_output_event_is_in_the_log(tmp_path: Path) -> None:
    """An event of several lines (a program's output, a traceback) keeps one row of the log,
    but every line is on it: the log showed only the first ("took 101") and dropped the
    rest without a mark, as if the program had printed one line."""
    binary = compile_c(tmp_path, "three", THREE_LINES)
    trace = tmp_path / "run.jsonl"
    app = IpcvizApp(lambda: LiveFeed(Path("three"), trace, program=(str(binary),)), lang="en")
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await ended(app, pilot)
        log = screen.query_one(EventLog).plain_lines()
        screen.stop()
    outputs = [e for e in read_trace(trace)[1] if e["kind"] == "proc.output"]
    assert len(outputs) == 1, outputs  # the premise: one event holds all three lines
    (row,) = [line for line in log if "took 101" in line]
    assert "| took 101 ⏎ | took 102 ⏎ | took 103" in row, log
