"""Every kernel reading on the screen says how old it is at the moment the screen shows.

A reading younger than 50 ms said "kernel:" / "(kernel)" with no age, as if it were of this
very moment; the diagram's semaphore said "(kernel)" at any age; the process row said
"blocked on OBJ" from a probe with no age; a reading stamped after the moment shown (the
stream is a legal history, not a sort by time: a step back can land there) read as current;
and a detail panel kept the age it had when its object last changed. The ages here come
from the events' stamps (constructed, or recorded from real processes), never from waiting.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import RecordedFeed
from ipcviz.tui.launch import replay_app
from ipcviz.tui.screens.replay import ReplayScreen
from ipcviz.tui.screens.session import SessionScreen
from ipcviz.tui.widgets.diagram import DiagramView
from ipcviz.tui.widgets.panels import Checks, ObjectView
from tests.anyprog import programs
from tests.anyprog.test_programs import compile_c, needs_tools, watch

from .helpers import settle
from .screen_text import screen_rows
from .test_log_moment import until

HEADER = {
    "format": "ipcviz-trace",
    "version": 1,
    "scenario": {"id": "program", "title": "a program under strace", "steps": [], "checks": []},
    "session": "00000000",
    "program": ["./prog"],
    "source": "strace",
}
MS = 1_000_000


def _cells(*values: int) -> str:
    return base64.b64encode(b"".join(v.to_bytes(8, "little", signed=True) for v in values)).decode()


def _events(last_t: int | None = 112 * MS) -> list[dict[str, Any]]:
    """A program's probed segment and semaphore, read at 100 ms (the child asleep in the
    semaphore's futex), then, at ``last_t``, a pipe made (it changes neither of them)."""
    out: list[dict[str, Any]] = [
        {"t": 0, "seq": 0, "pid": 10, "kind": "proc.start", "name": "prog"},
        {"t": 1 * MS, "seq": 1, "pid": 11, "kind": "proc.start", "name": "prog/1"},
        {"t": 2 * MS, "seq": 2, "pid": 10, "kind": "obj.declare", "obj": "shm:/seg",
         "type": "posix_shm", "kernel_name": "/dev/shm/seg", "size": 16, "cell_size": 8,
         "cells": 2, "probed": True},
        {"t": 3 * MS, "seq": 3, "pid": 10, "kind": "obj.declare", "obj": "sem:/s",
         "type": "posix_sem", "kernel_name": "/dev/shm/sem.s", "value": 0, "probed": True},
        {"t": 100 * MS, "seq": 4, "pid": 0, "kind": "probe.shm", "obj": "shm:/seg",
         "data": _cells(42, -7), "size": 16, "addresses": {}},
        {"t": 100 * MS, "seq": 5, "pid": 0, "kind": "probe.sem", "obj": "sem:/s",
         "value": 0, "waiters": 1},
        {"t": 100 * MS, "seq": 6, "pid": 11, "kind": "probe.proc", "state": "sleeping",
         "cpu_percent": 0.0, "cpu_num": 1, "rss": 4096, "wchan": "futex_wait_queue",
         "blocked_on": "sem:/s"},
    ]  # fmt: skip
    if last_t is not None:
        out.append(
            {"t": last_t, "seq": 7, "pid": 10, "kind": "obj.declare", "obj": "pipe:[5]",
             "type": "pipe", "kernel_name": "pipe:[5]", "capacity": 65536}
        )  # fmt: skip
    return out


def _objects(screen: Any) -> dict[str, str]:
    """Each detail panel's text, whole (not cut by the screen's width)."""
    return {v.obj_name: "\n".join(v.plain_lines()) for v in screen.query(ObjectView)}


async def _diagram(pilot: Pilot) -> str:
    await pilot.press("v")
    await pilot.pause()
    view = pilot.app.screen.query_one(DiagramView)
    return "\n".join("".join(seg.text for seg in line) for line in view.lines)


@pytest.mark.parametrize(
    ("last_t", "age"),
    [
        (112 * MS, "12ms ago"),  # younger than 50 ms: said "kernel:" and "(kernel)"
        (100 * MS + 400_000, "<1ms ago"),
        (2_600 * MS, "2.5s ago"),
        (None, "at this moment"),  # the reading is the last event: exactly of this moment
        (95 * MS, "5ms later"),  # stamped before the reading, published after
    ],
)
async def test_every_view_of_a_reading_says_its_age(last_t: int | None, age: str) -> None:
    app = IpcvizApp(lambda: RecordedFeed(HEADER, _events(last_t)), lang="en")
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await settle(pilot)
        objects = _objects(screen)
        assert f"as the kernel probe read them (kernel {age})" in objects["shm:/seg"], objects
        assert f"value (kernel {age})  0" in objects["sem:/s"], objects
        assert "kernel:" not in "\n".join(objects.values())  # no reading without its age
        rows = "\n".join(screen_rows(app))
        assert f"blocked on sem:/s (kernel {age}, futex_wait_queue)" in rows, rows
        drawn = await _diagram(pilot)
        assert f"2 cells · as read (kernel {age})" in drawn, drawn
        assert f"value 0 (kernel {age})" in drawn, drawn
        assert f"1 asleep (kernel {age})" in drawn, drawn
        assert "(kernel)" not in drawn


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_a_narrow_process_row_gives_up_words_before_the_age(size: tuple[int, int]) -> None:
    """The state column is cut at its end: the wait channel, then the word "kernel" go
    first, so the row still says how old its "blocked on" is."""
    app = IpcvizApp(lambda: RecordedFeed(HEADER, _events()), lang="en")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        row = next(r for r in screen_rows(app) if "prog/1" in r)
        assert re.search(r"blocked on sem:/s \((kernel )?12ms ago", row), row


def test_the_diagram_boxes_say_the_age_inside_too() -> None:
    """At 80x24 a box is 32 cells wide and its caption (where the age is) is cut after the
    object's name and type: the reading's age is said inside the box as well, the word
    "kernel" giving way first ("1 asleep (kernel at this moment)" was cut before the age)."""
    from ipcviz.mechanisms.posix_sem import diagram as sem_diagram
    from ipcviz.mechanisms.posix_shm import diagram as shm_diagram
    from ipcviz.model.reducer import apply_all
    from ipcviz.model.state import State

    def text(lines: list) -> str:
        return "\n".join("".join(seg.text for seg in line) for line in lines)

    state = apply_all(State(header=HEADER), _events())
    sem, shm = state.objects["sem:/s"], state.objects["shm:/seg"]
    assert "1 asleep (kernel 12ms ago)" in text(sem_diagram.draw(state, sem, 60, 2, False))
    assert "1 asleep (12ms ago)" in text(sem_diagram.draw(state, sem, 24, 2, False))
    rows = shm_diagram.rows_wanted(state, shm, 30)
    assert rows == 3 and "kernel 12ms ago" in text(shm_diagram.draw(state, shm, 30, rows, False))
    # nobody asleep: the tokens alone were the reading, with no age beside them
    events = _events()
    events[5] = {**events[5], "value": 2, "waiters": 0}
    state = apply_all(State(header=HEADER), events)
    sem = state.objects["sem:/s"]
    assert "● ● (kernel 12ms ago)" in text(sem_diagram.draw(state, sem, 60, 2, False))


async def test_a_drift_says_when_the_kernel_was_seen_so() -> None:
    """The checks panel's "DRIFT p: nbytes model=1 kernel=2" stays until a probe agrees
    again: its kernel value is a reading, and says how old it is."""
    events = _events()
    events.insert(7, {"t": 100 * MS, "seq": 7, "pid": 0, "kind": "drift", "obj": "shm:/seg",
                      "field": "nattch", "model": 1, "kernel": 2})  # fmt: skip
    events[-1] = {**events[-1], "seq": 8}
    app = IpcvizApp(lambda: RecordedFeed(HEADER, events), lang="en")
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await settle(pilot)
        said = screen.query_one(Checks)._full.plain
        assert "shm:/seg: nattch model=1 kernel=2 (seen 12ms ago)" in said, said


async def test_the_age_is_said_in_korean() -> None:
    app = IpcvizApp(lambda: RecordedFeed(HEADER, _events()), lang="ko")
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await settle(pilot)
        objects = _objects(screen)
        assert "커널 12ms 전" in objects["sem:/s"], objects
        drawn = await _diagram(pilot)
        assert "값 0 (커널 12ms 전)" in drawn and "잠든 프로세스 1개 (커널 12ms 전)" in drawn, drawn
    app = IpcvizApp(lambda: RecordedFeed(HEADER, _events(95 * MS)), lang="ko")
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await settle(pilot)
        assert "커널 5ms 뒤" in _objects(screen)["sem:/s"]


async def test_a_live_panel_ages_while_its_object_stays_the_same() -> None:
    """Live: the reading is drawn at its own moment, then the run goes on (an event of no
    object) and the semaphore's panel, whose object did not change, must say 12 ms, not
    "at this moment". The feed holds its last event until a frame showed the reading."""
    events = _events(None)
    events.append({"t": 112 * MS, "seq": 7, "pid": 0, "kind": "probe.snapshot", "why": "tick"})
    drawn = threading.Event()

    def feed() -> Iterator[dict[str, Any]]:
        yield from events[:-1]
        drawn.wait(60)  # released by the test below, not by time
        yield events[-1]

    app = IpcvizApp(lambda: RecordedFeed(HEADER, feed()), lang="en")
    async with app.run_test(size=(200, 60)) as pilot:

        def shows(seq: int, said: str) -> bool:
            screen = app.screen
            return (
                isinstance(screen, SessionScreen)
                and screen.state.seq == seq
                and said in _objects(screen).get("sem:/s", "")
            )

        try:
            await until(pilot, lambda: shows(6, "kernel at this moment"), "the reading")
        finally:
            drawn.set()
        await until(pilot, lambda: shows(7, "value (kernel 12ms ago)  0"), "its age 12 ms on")


def _trace(tmp_path: Path) -> Path:
    """The events above, then a second reading (value 1, nobody asleep) at 150 ms and the
    pipe's removal at 160 ms."""
    events = _events()
    events += [
        {"t": 150 * MS, "seq": 8, "pid": 0, "kind": "probe.sem", "obj": "sem:/s",
         "value": 1, "waiters": 0},
        {"t": 160 * MS, "seq": 9, "pid": 10, "kind": "obj.remove", "obj": "pipe:[5]"},
    ]  # fmt: skip
    path = tmp_path / "run.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in [HEADER, *events]))
    return path


async def _at(pilot: Pilot, pos: int) -> dict[str, str]:
    screen = pilot.app.screen
    assert isinstance(screen, ReplayScreen)
    screen.player.seek(pos)
    await until(pilot, lambda: screen._shown is not None and screen._shown[0] == pos, "the seek")
    await pilot.pause()
    return _objects(screen)


async def _indexed(pilot: Any, app: Any) -> ReplayScreen:
    """The replay screen, its index built (every step can be shown)."""
    await until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the replay screen")
    screen = app.screen
    assert isinstance(screen, ReplayScreen)
    screen.index.start()
    await until(pilot, lambda: screen.index.done, "the index")
    return screen


async def test_stepping_says_each_readings_age_at_the_moment_shown(tmp_path: Path) -> None:
    """Replay: the panel's age follows the moment (its object did not change, the moment
    did), and a step back shows the reading of that moment, never a later one."""
    app = replay_app(_trace(tmp_path))
    async with app.run_test(size=(200, 60)) as pilot:
        await _indexed(pilot, app)
        assert "value (kernel at this moment)  0" in (await _at(pilot, 5))["sem:/s"]
        # one step on: the pipe is made, the semaphore's panel is the same but 12 ms older
        assert "value (kernel 12ms ago)  0" in (await _at(pilot, 7))["sem:/s"]
        assert "value (kernel 10ms ago)  1" in (await _at(pilot, 9))["sem:/s"]
        # back: the reading of 100 ms, not the later one, with its age at 112 ms
        shown = (await _at(pilot, 7))["sem:/s"]
        assert "value (kernel 12ms ago)  0" in shown and "sleeping in sem_wait: 1" in shown
        assert "not read yet" in (await _at(pilot, 3))["sem:/s"]  # before any reading


#: A reading's label with its age: what every "kernel" label on a screen must carry.
AMOUNT = r"(?:(?:<1|\d+)ms|\d+\.\ds)"
AGED = re.compile(
    rf"kernel(?: \(before the last change,)? (?:at this moment|{AMOUNT} ago|{AMOUNT} later)"
)
BARE = re.compile(r"kernel(?: \(before the last change\))?[:)]")


@needs_tools
async def test_a_real_programs_readings_say_their_age_at_every_step(tmp_path: Path) -> None:
    """A real program (a segment and two semaphores under strace), replayed step by step:
    wherever a reading is shown, it says its age; at the reading's own event, "at this
    moment"."""
    binary = compile_c(tmp_path, "shm", programs.POSIX_SHM)
    name = f"ipcviz-age-{tmp_path.name[-12:]}"
    try:
        _done, events = watch(tmp_path, binary, name, "keep")
    finally:
        for f in (Path(f"/dev/shm/{name}"), Path(f"/dev/shm/sem.{name}.s")):
            f.unlink(missing_ok=True)
    readings = [i for i, e in enumerate(events) if e["kind"] in ("probe.shm", "probe.sem")]
    assert readings, "no kernel reading in the trace"
    app = replay_app(tmp_path / "run.jsonl")
    async with app.run_test(size=(200, 60)) as pilot:
        await _indexed(pilot, app)
        seen = 0
        for pos in sorted({*readings, *(i + 1 for i in readings if i + 1 < len(events))}):
            objects = await _at(pilot, pos)
            obj = events[pos].get("obj")
            if pos in readings and isinstance(obj, str) and obj in objects:
                assert "kernel at this moment" in objects[obj], objects[obj]
            for text in objects.values():
                assert not BARE.search(text), text
                seen += len(AGED.findall(text))
        assert seen


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
@pytest.mark.parametrize(
    ("last_t", "age"),
    [(112 * MS, "kernel 12ms ago"), (None, "kernel at this moment"), (95 * MS, "kernel 5ms later")],
)
async def test_the_process_tables_cpu_says_how_old_it_is(
    size: tuple[int, int], last_t: int | None, age: str
) -> None:
    """The ``cpu`` and ``cpu#`` cells are a probe's reading of /proc, yet they stood with no
    age, as if of this moment. The table's bottom border says how old they are at every
    size (a reading stamped after the moment shown: "later", never current)."""
    app = IpcvizApp(lambda: RecordedFeed(HEADER, _events(last_t)), lang="en")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        rows = screen_rows(app)
        row = next(r for r in rows if "prog/1" in r)
        assert re.search(r"\b0%\s+1\b", row), row  # the reading: 0% on cpu 1
        below = rows[rows.index(row) + 1 :]
        assert any(f"cpu, cpu#: {age} ─" in r for r in below[:2]), rows


def test_the_cpu_age_of_rows_read_apart_gives_the_newest_and_the_oldest() -> None:
    """Rows read at different moments: both ends are said, each worded as the others."""
    from ipcviz.draw import render
    from ipcviz.model.reducer import apply_all
    from ipcviz.model.state import State

    events = _events(None)
    events.append({**events[6], "seq": 7, "t": 108 * MS, "pid": 10, "blocked_on": None})
    events.append({"t": 112 * MS, "seq": 8, "pid": 0, "kind": "probe.snapshot", "why": "x"})
    state = apply_all(State(header=HEADER), events)
    assert render.cpu_age(state) == "cpu, cpu#: kernel 4ms ago – 12ms ago"
    state = apply_all(State(header=HEADER), events[:2])  # nobody read yet: no age, no "·" aged
    assert render.cpu_age(state) is None


async def test_the_cpu_age_is_said_in_korean() -> None:
    app = IpcvizApp(lambda: RecordedFeed(HEADER, _events()), lang="ko")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert any("CPU, CPU#: 커널 12ms 전" in r for r in screen_rows(app)), screen_rows(app)
