"""The whole TUI in Korean (issue 18): every built-in scenario's screens, live and replayed,
show none of the app's own English phrases; ``l`` switches every word live; a trace
recorded in English replays in Korean; wide characters never break a cut or a column.

What may stay as it is on a Korean screen: names the user or the scenario chose (processes,
objects, kernel names, the scenario id), system-call and operation names (``read``,
``write``, ``mq_send``, ``wait``, ``post``…), kernel fields as the kernel names them
(``nbytes=0``), data (payload bytes, quoted; what a program printed) and units (``B``,
``fps``).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from collections import deque
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.text import Text

from ipcviz import i18n
from ipcviz.bytefmt import byte_cells
from ipcviz.draw import bigtext, diagram_kit, render
from ipcviz.draw.marks import current_deadlock
from ipcviz.model.state import State
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.screens.help import HelpScreen
from ipcviz.tui.screens.session import SessionScreen
from ipcviz.tui.widgets.diagram import DiagramView
from ipcviz.tui.widgets.panels import EventLog
from tests import leaks
from tests.conftest import ROOT, BuiltinTraces, ipcviz

from .helpers import recorded_app, refreshed, settle
from .screen_text import char_at, screen_rows

#: The app's own English, from its catalog and the scenarios' English texts: labels, keys,
#: event-line words, check words, analysis words. None may show on a Korean screen.
ENGLISH = (
    # panels, tables, status line, footer, banners (ipcviz/tui)
    "processes", "narration", "kernel objects", "checks", "events", "pause view", "freeze",
    "kill proc", "restart", "help", "quit", "step mode", "random", "slower", "faster",
    "diagram/detail", "recorded", "live", "full speed", "PASSED", "FAILED", "exit code",
    "running", "exited", "waiting", "blocked", "sleeping", "at the gate", "asleep",
    "writers:", "readers:", "holders:", "(empty)", "msgs", "cells", "writes", "sent",
    "received", "nobody", "no kernel objects", "objects", "removed", "kernel", "value",
    "held by", "next out", "senders", "receivers", "mapped at", "prio", "DEADLOCK",
    "HOLDER DIED", "LOST UPDATES", "DRIFT", "STRANDED", "timeline", "event", "play",
    "next step", "hide next", "reveal", "prev", "page", "continue", "previous",
    # the event log's words (the narrator), checks and analyses
    "wrote", "reads from", "took", "value now", "creates", "closes", "exits with",
    "check", "every message", "arrived", "result", "waits for", "lost update", "teaches",
    "bytes", "message queue", "shared memory", "semaphore", "pipe:", "parent writes",
    "child reads", "in order", "the kernel", "process", "starts", "opens", "unlinks",
    "maps", "error",
)  # fmt: skip

#: System-call and operation names, units: as they are in every language.
SYSTEM_WORDS = {
    "read", "write", "send", "receive", "wait", "post", "trywait", "fps", "B", "EOF",
    "EPIPE", "SIGSTOP", "SIGCONT", "SIGKILL", "ipcviz", "PID", "CPU", "English",
}  # fmt: skip

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"?|\'(?:[^\'\\]|\\.)*\'?')
#: A program's own output in the log (``name[pid] | what it printed``): its words, not ours.
_OUTPUT = re.compile(r"\]\s+\|\s.*")
_FIELD = re.compile(r"\b[\w.]+ ?= ?\S*")


def _held_data(value: object, depth: int = 0) -> list[str]:
    """The runs of printable bytes an object holds (a pipe's chunks, a queue's messages),
    as a cell strip shows them (``·`` for every other byte): a program's words, not ours
    (fifo-grep's logger writes "ERR   backup failed"). Taken out case by case, so the
    outcome's FAILED is still the app's."""
    if isinstance(value, (bytes, bytearray)):
        return [run for run in "".join(byte_cells(bytes(value))).split("·") if len(run) > 2]
    if depth < 3 and isinstance(value, (list, tuple, deque)):
        return [run for item in value for run in _held_data(item, depth + 1)]
    return []


def english_left(rows: list[str], state: State) -> list[tuple[str, str]]:
    """(phrase, row) for each of the app's English phrases still on the rows, once the
    names the scenario chose, data and kernel fields are taken out."""
    names: set[str] = {str(state.header.get("scenario", {}).get("id", ""))}
    for p in state.procs.values():
        names.add(str(p.name))
    for obj in state.objects.values():
        names.update({str(obj.name), str(obj.kernel_name or ""), str(obj.type)})
    names |= SYSTEM_WORDS
    # words the objects hold, as they are (a strip or box may wrap them anywhere)
    names |= {
        word
        for obj in state.objects.values()
        for v in vars(obj).values()
        for run in _held_data(v)
        for word in run.split()
    }
    names.discard("")
    found = []
    for row in rows:
        text = _FIELD.sub(" ", _QUOTED.sub(" ", _OUTPUT.sub("]", row)))
        for name in sorted(names, key=len, reverse=True):
            text = re.sub(rf"(?<![\w/-]){re.escape(name)}(?![\w-])", " ", text)
        for phrase in ENGLISH:  # a word of a name (shm-semaphore, lock_b) is the name's
            if re.search(rf"(?<![\w/-]){re.escape(phrase)}(?![\w-])", text, re.IGNORECASE):
                found.append((phrase, row.strip()))
    return found


def _listed() -> list[str]:
    out = ipcviz("list", "--json", env={"LANGUAGE": "en"}, check=True)
    import json

    return [s["id"] for s in json.loads(out.stdout)]


def _c_needs_tools(sid: str) -> object:
    from tests.anyprog.test_programs import needs_tools

    return pytest.param(sid, marks=needs_tools) if sid.startswith("c/") else sid


BUILTIN = [_c_needs_tools(s) for s in _listed()]


async def _both_views(pilot, app) -> list[list[str]]:
    """The screen in the detail view and in the diagram view (``v``)."""
    screen = app.screen
    screen.redraw(True)
    await refreshed(screen)
    seen = [screen_rows(app)]
    await pilot.press("v")
    await refreshed(screen)  # the diagram laid out, at its size, and drawn by ``v``'s redraw
    assert screen.query_one(DiagramView).region.area, "the diagram view is not on the screen"
    screen.redraw(True)
    await refreshed(screen)
    seen.append(screen_rows(app))
    await pilot.press("v")
    await refreshed(screen)
    return seen


async def _until(pilot, cond, what: str, timeout: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


#: Live in Korean: every kind of object and the screens only a live run has (a standing
#: deadlock, a traced C program, probe readings). Each costs a whole run (~5 s of CPU);
#: every built-in scenario is checked replayed (below, and headless in tests/test_korean.py).
#: ``IPCVIZ_KOREAN_LIVE=all``: every built-in scenario live too (about a minute more).
LIVE = [
    s
    for s in BUILTIN
    if os.environ.get("IPCVIZ_KOREAN_LIVE") == "all"
    or getattr(s, "values", (s,))[0]
    in {
        "pipe-basic", "fifo-named", "mq-priority", "sysv-mq-typed", "shm-semaphore",
        "sysv-shm", "mmap-file", "deadlock", "speed", "c/two-locks", "c/sysv-shm-semaphore",
    }
]  # fmt: skip


@pytest.mark.parametrize("scenario", LIVE)
async def test_no_english_on_the_korean_screens_live(scenario: str, tmp_path: Path) -> None:
    """Live (``--quick``, in Korean from the start), at the end of the run (or with its
    deadlock standing): the detail and diagram views."""
    from ipcviz.scenario.loader import load_listed
    from ipcviz.tui.app import _c_program

    path = Path(next(s.source for s in load_listed() if s.id == scenario))
    app = IpcvizApp(lang="ko", quick=True, record=tmp_path / "live.jsonl", timeout=30)
    app.feed_factory = app.live_factory(path, _c_program(path))
    left: list[str] = []
    try:
        await _read_live_screens(app, scenario)
    finally:  # q at a deadlock kills a C program before it removes its own semaphores:
        if (tmp_path / "live.jsonl").exists():  # ipcviz removes them (else the test does)
            left = leaks.remove_program_leftovers(tmp_path / "live.jsonl")
    assert not left, f"a program's objects left after ipcviz ended it: {left}"


async def _read_live_screens(app: IpcvizApp, scenario: str) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        # the end of the run, or a deadlock standing (live, the lecturer breaks it: k)
        await _until(
            pilot,
            lambda: screen.result is not None or current_deadlock(screen.state) is not None,
            "the end of the run or a deadlock",
        )
        screen.tick()
        left = [
            hit
            for rows in await _both_views(pilot, app)
            for hit in english_left(rows, screen.state)
        ]
        await pilot.press("q")
    assert not left, f"{scenario} live in Korean shows English: {left[:12]}"


@pytest.mark.parametrize("scenario", BUILTIN)
async def test_no_english_on_the_korean_screens_replayed(
    scenario: str, builtin_traces: BuiltinTraces
) -> None:
    """The replay of the trace the suite recorded in English, in Korean (mid-run and at
    the end: checks, outcome): the detail and diagram views."""
    from ipcviz.tui.launch import replay_app
    from ipcviz.tui.screens.replay import ReplayScreen

    trace = builtin_traces(scenario)
    app = replay_app(trace, lang="ko")
    async with app.run_test(size=(120, 40)) as pilot:
        replay = app.screen
        assert isinstance(replay, ReplayScreen)
        await _until(pilot, lambda: replay.index.done, "the trace indexed")
        left = []
        for key in ("5", "end"):  # the middle of the run, and its end (checks, outcome)
            await pilot.press(key)  # the player moved there as the key was handled
            replay.show_position()
            left += [
                hit
                for rows in await _both_views(pilot, app)
                for hit in english_left(rows, replay.state)
            ]
        await pilot.press("q")
    assert not left, f"{scenario} replayed in Korean shows English: {left[:12]}"


# -- l: the whole screen switches, live ----------------------------------------------------


async def test_l_switches_every_word_of_the_screen_and_back() -> None:
    app = recorded_app("pipe-basic")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        english = screen_rows(app)
        assert any("kernel objects" in r for r in english)
        assert any("wrote 10 B to p" in line for line in screen.query_one(EventLog).plain_lines())
        await pilot.press("l")
        await pilot.pause()
        assert app.lang == "ko" and i18n.get_lang() == "ko"
        korean = screen_rows(app)
        text = "\n".join(korean)
        for word in ("프로세스", "해설", "검사", "이벤트", "커널 객체", "도움말", "종료"):
            assert word in text, word
        assert not english_left(korean, screen.state), english_left(korean, screen.state)
        # the log's lines keep their values and take the new words
        log = screen.query_one(EventLog).plain_lines()
        assert not any("wrote" in line for line in log)
        assert any("p" in line and "10 B" in line for line in log)
        await pilot.press("question_mark")  # the help: every key's words
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        help_rows = screen_rows(app)
        assert "도움말" in "\n".join(help_rows)
        assert not english_left(help_rows, screen.state), english_left(help_rows, screen.state)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        assert app.lang == "en" and screen_rows(app) == english


async def test_korean_from_the_start_and_the_footer_keys_in_korean() -> None:
    app = recorded_app("pipe-basic", lang="ko")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = screen_rows(app)[-1]
        assert "도움말" in footer and "종료" in footer and "help" not in footer


# -- a trace recorded in English replays in Korean ----------------------------------------


async def test_a_trace_recorded_in_english_replays_in_korean(tmp_path: Path) -> None:
    from ipcviz.tui.launch import replay_app
    from ipcviz.tui.screens.replay import ReplayScreen

    trace = tmp_path / "en.jsonl"
    run = ipcviz(
        "run", "pipe-basic", "--headless", "--quick", "--lang", "en", "--record", str(trace)
    )
    assert run.returncode == 0, run.stderr
    assert "wrote 10 B to p" in run.stdout  # recorded in English
    app = replay_app(trace, lang="ko")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await _until(pilot, lambda: screen.index.done, "the trace indexed")
        await pilot.press("end")  # the player moved there as the key was handled
        screen.show_position()
        await refreshed(screen)
        rows = screen_rows(app)
        text = "\n".join(rows)
        assert "커널 객체" in text and "이벤트" in text and "통과" in text
        log = screen.query_one(EventLog).plain_lines()
        assert log and not any("wrote" in line or "reads from" in line for line in log)
        assert not english_left(rows, screen.state), english_left(rows, screen.state)
        await pilot.press("q")


# -- wide characters: counted as two cells wherever the TUI cuts or pads ------------------


def test_a_korean_cut_never_passes_the_last_column() -> None:
    """A 2-cell character that would take the last column and one beyond is left out:
    the line ends in "…" within the width, at every offset (odd and even)."""
    for width in (20, 21, 40, 79, 80):
        for lead in ("", "a", "ab", "abc"):
            text = lead + "가나다라마바사아자차카타파하" * 8
            out = render.Lines(width)
            out.add(text)
            (line,) = out.finish()
            cells = sum(cell_len(seg.text) for seg in line)
            assert cells <= width and line[-1].text.endswith("…"), (width, lead, cells)
            assert cells >= width - 1  # cut at the last character that fits, not before
            cut = diagram_kit.cut(text, width)
            assert cell_len(cut) <= width and cut.endswith("…")
            row = diagram_kit.Row(width).add(text).done()
            assert sum(cell_len(s.text) for s in row) == width
            fitted = render.fit(Text(text), width)
            assert fitted.cell_len <= width and fitted.plain.endswith("…")
            for band in bigtext.bands(text, width):
                assert cell_len(band) <= width


def test_korean_pads_and_columns_count_cells() -> None:
    assert cell_len(render.pad("소비자[12]", 14)) == 14
    assert cell_len(diagram_kit.ljust("버퍼", 8)) == 8
    assert cell_len(diagram_kit.rjust("버퍼", 8)) == 8
    for w in (6, 7, 8, 9):
        assert cell_len(diagram_kit.center("우선순위 3", w + 10, "─")) == w + 10


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
@pytest.mark.parametrize("trace", ["producer-consumer", "sysv-mq-typed", "shm-race", "mq-priority"])
async def test_korean_screens_keep_their_borders(size: tuple[int, int], trace: str) -> None:
    """At 80×24 and 200×60, detail and diagram views in Korean: every row the screen's
    width in cells, and every bordered panel's right border in its column on each of its
    rows (a wide character miscounted would push it right or leave a gap)."""
    app = recorded_app(trace, lang="ko")
    async with app.run_test(size=size) as pilot:
        screen = await settle(pilot)
        for view in range(2):
            screen.redraw(True)
            await refreshed(screen)
            assert bool(screen.query_one(DiagramView).region.area) == bool(view)  # laid out
            rows = screen_rows(app)
            assert len(rows) == size[1]
            assert all(cell_len(row) == size[0] for row in rows)
            assert any(re.search("[가-힣]", row) for row in rows)
            panels = [
                w
                for w in screen.query(".panel, ProcTable, DiagramView")
                if w.display and w.region.width and w.styles.border_right[0]
            ]
            assert panels
            for w in panels:
                geometry = screen.find_widget(w)
                r = geometry.region
                shown = r.intersection(geometry.clip)  # less what a docked footer covers
                if r.right != shown.right:
                    continue
                for y in range(shown.y, shown.bottom):
                    edge = char_at(rows[y], r.right - 1)
                    assert edge in "│╮╯┃┓┛", (w.id, y, rows[y])
            await pilot.press("v")
            await refreshed(screen)  # laid out in the other view


# -- snapshots: the Korean session screen and presenter mode ------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_korean_session_screen_snapshot(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(
        recorded_app("shm-semaphore", lang="ko"), terminal_size=size, run_before=settle
    )


def test_korean_diagram_view_snapshot(snap_compare) -> None:
    async def diagram(pilot) -> None:
        await settle(pilot)
        await pilot.press("v")
        await pilot.pause()

    # mid-run: processes asleep, the queue of sleepers (the fixture's check details are
    # English only: it was recorded before checks gave a Korean one)
    app = recorded_app("producer-consumer", 300, lang="ko")
    assert snap_compare(app, terminal_size=(120, 40), run_before=diagram)


def test_korean_presenter_snapshot(snap_compare) -> None:
    """Presenter mode in Korean at 120×40: the narration in bands, the hints and keys in
    Korean (the 80×24 one is tests/tui/test_diagram.py's)."""
    from ipcviz.tui.launch import present_app

    from .helpers import TRACES
    from .test_diagram import present_at

    async def at_step(pilot) -> None:
        await present_at(pilot, 2)

    app = present_app(TRACES / "producer-consumer.jsonl", lang="ko")
    assert snap_compare(app, terminal_size=(120, 40), run_before=at_step)


# -- the real binary, in a real terminal -----------------------------------------------------


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (CI installs it)")
def test_real_binary_in_korean_at_80x24(tmp_path: Path) -> None:
    """``ipcviz run pipe-basic --lang ko --quick`` in tmux at 80×24: Korean labels."""
    from .test_tmux import Tmux, nothing_left, wait_for

    trace = tmp_path / "ko.jsonl"
    status = tmp_path / "status"
    cmd = (
        f"{shlex.quote(sys.executable)} -m ipcviz run pipe-basic --lang ko --quick"
        f" --record {shlex.quote(str(trace))}; echo $? > {shlex.quote(str(status))}; sleep 60"
    )
    tmux = Tmux(tmp_path, cmd, size=(80, 24))
    try:
        wait_for(lambda: "통과" in tmux.screen(), "the run to end, in Korean", timeout=60)
        screen = tmux.screen()
        for word in ("프로세스", "해설", "커널 객체", "통과"):
            assert word in screen, screen
        for word in ("processes", "narration", "kernel objects", "PASSED", "events"):
            assert word not in screen, screen
        rows = screen.splitlines()
        assert all(cell_len(r) <= 80 for r in rows), rows
        tmux.keys("q")
        wait_for(status.exists, "the exit status")
        assert status.read_text().strip() == "0"
        nothing_left(trace)
    finally:
        tmux.close()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (CI installs it)")
def test_the_picker_asked_for_in_korean_opens_in_korean(tmp_path: Path) -> None:
    """``ipcviz --lang ko`` (no command: the picker) in tmux, in an English locale: the
    option was read from the wrong place and the picker came up in English."""
    from .test_tmux import Tmux, wait_for

    status = tmp_path / "status"
    cmd = (
        f"LANG=C.UTF-8 LC_ALL= LANGUAGE= {shlex.quote(sys.executable)} -m ipcviz --lang ko;"
        f" echo $? > {shlex.quote(str(status))}; sleep 60"
    )
    tmux = Tmux(tmp_path, cmd, size=(100, 30))
    try:
        wait_for(lambda: "pipe-basic" in tmux.screen(), "the picker", timeout=60)
        screen = tmux.screen()
        assert "시나리오를 고르세요" in screen, screen
        assert "choose a scenario" not in screen.lower(), screen
        tmux.keys("q")
        wait_for(status.exists, "the exit status")
        assert status.read_text().strip() == "0"
    finally:
        tmux.close()


def test_no_marked_word_hides_inside_an_f_string() -> None:
    """Babel does not look inside f-strings: ``f" {_('DRIFT')} "`` would never reach the
    catalog and stay English on a Korean screen. Literal words of the TUI and the object
    views are marked outside them."""
    found = []
    for path in [
        *(ROOT / "ipcviz" / "tui").glob("*.py"),
        *(ROOT / "ipcviz").glob("mechanisms/*/*.py"),
    ]:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"""\bf(["'])[^"']*\{(_|N_|ngettext|pgettext)\(["']""", line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, found


async def test_l_on_the_picker_and_the_recent_runs() -> None:
    """The screens before a session switch too, the table's cursor kept."""
    from ipcviz.tui.screens.picker import PickerScreen

    app = IpcvizApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        await pilot.press("down", "down")
        chosen = picker.selected()
        assert "choose a scenario" in "\n".join(screen_rows(app))
        await pilot.press("l")
        await pilot.pause()
        text = "\n".join(screen_rows(app))
        assert "시나리오를 고르세요" in text and "배우는 내용" in text
        assert "choose a scenario" not in text and "teaches" not in text
        assert picker.selected() is chosen
        await pilot.press("R")
        await pilot.pause()
        assert "최근 실행" in "\n".join(screen_rows(app))
        await pilot.press("l")
        await pilot.pause()
        assert "recent runs" in "\n".join(screen_rows(app))
        app.exit(0)


def test_a_sentence_may_have_a_value_named_message() -> None:
    """``lazy("ERROR: {message}", message=…)``: the engine's error line (the hostile-bytes
    snapshot shows it) was told raw when ``message`` clashed with lazy's own argument."""
    assert i18n.lazy("ERROR: {message}", message="boom").render("en") == "ERROR: boom"


def test_words_an_object_holds_are_data_not_english() -> None:
    """A FIFO holding "ERR   backup failed" (fifo-grep), shown in a strip and wrapped in a
    box, is the program's text; the outcome's FAILED beside it is still the app's (the CI
    run that saw step 5 of fifo-grep with that line in the FIFO)."""
    from ipcviz.mechanisms.pipe.state import PipeObj

    state = State()
    fifo = PipeObj(type="fifo", name="log")
    fifo.chunks.append([1, b"INFO  backup\nERR   backup failed\n"])
    state.objects["fifo:log"] = fifo
    strip = "│ ● grep    21787  실행 중  ·  ││INFO  backup·ERR   backup failed·      │"
    boxed = "│ ● shell   21786  실행 중  ·  │┌──────────┐│          │ failed········│"
    assert english_left([strip, boxed], state) == []
    assert [hit for hit, _ in english_left([strip + " FAILED"], state)] == ["FAILED"]
