"""Every line of the event log at its own moment (issue [truth], item 3).

A log line tells the state right after its event (a queue's depth, a semaphore's value),
never the state now. The headless narrator words each event right after applying it, so
``ipcviz replay TRACE --headless`` is the reference: the session screen (live feed and
replay, at the end and after seeking back) and the handouts must show the same lines.

Each built-in scenario is recorded once per test session (``--quick --headless``), on first
use, with its headless replay; the screens are fed those real traces.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from ipcviz.draw.eventfmt import LINE_BREAK
from ipcviz.events.trace import TraceReader
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.narrate.headless import Narrator
from ipcviz.scenario.loader import load_builtins
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import LiveFeed, RecordedFeed
from ipcviz.tui.launch import replay_app
from ipcviz.tui.screens.replay import ReplayScreen
from ipcviz.tui.widgets.panels import EventLog
from tests.conftest import BuiltinTraces, ipcviz

from .helpers import settle

SCENARIOS = {s.id: Path(s.source) for s in load_builtins()}
#: Wide and tall, so most lines fit uncut and the log shows many of them.
SIZE = (300, 80)
#: The first line of an event in the headless log: time with 4 decimals, an "s", 2 spaces.
HEADLESS_FIRST = re.compile(r"^ *\d+\.\d{4}s  \S")
#: A further line of the event above it in the headless log: blank under the time column.
CONTINUED = re.compile(r"^ {11,}\S")


@dataclass
class Recording:
    """One scenario's trace, its events, and its headless replay."""

    trace: Path
    header: dict[str, Any]
    events: list[dict[str, Any]]
    cli: list[str]  # ``ipcviz replay TRACE --headless``, after its intro

    def first_lines(self, upto: int | None = None) -> list[str]:
        """The headless narrator's lines of each told event ``0..upto`` (in-process, the
        same Narrator as the CLI), as one line: the log shows one row per event."""
        narrator = Narrator(self.header)
        out = []
        for i, event in enumerate(self.events):
            if upto is not None and i > upto:
                break
            lines = narrator.feed(event)
            if lines:
                out.append(one_row(lines))
        return out


class Recordings:
    """Records a scenario on first use; later tests of the session reuse it."""

    def __init__(self, traces: BuiltinTraces) -> None:
        self.traces = traces
        self._done: dict[str, Recording] = {}

    def __call__(self, name: str) -> Recording:
        if name not in self._done:
            trace = self.traces(name)
            replay = self.traces.replay(name, "en")
            assert replay.returncode == 0, replay.stderr
            reader = TraceReader.open(trace)
            events = list(reader.events())
            lines = replay.stdout.splitlines()
            start = next(i for i, line in enumerate(lines) if HEADLESS_FIRST.match(line))
            self._done[name] = Recording(trace, reader.header, events, lines[start:])
        return self._done[name]


@pytest.fixture(scope="session")
def recorded(builtin_traces: BuiltinTraces) -> Recordings:
    return Recordings(builtin_traces)


# -- comparing a screen line with a headless line ----------------------------------------


def one_row(lines: list[str]) -> str:
    """One event's headless lines (the first with its time and process, each further one
    indented as far) as the log's one row shows them: its lines joined by ``LINE_BREAK``."""
    text = split_headless(lines[0])[2]
    indent = len(lines[0]) - len(text)
    return LINE_BREAK.join([lines[0], *(line[indent:] for line in lines[1:])])


def headless_rows(lines: list[str]) -> list[str]:
    """``ipcviz replay --headless``'s event lines, each event's on one row (``one_row``):
    a line indented under the time column continues the event above it."""
    rows: list[list[str]] = []
    for line in lines:
        if HEADLESS_FIRST.match(line):
            rows.append([line])
        elif rows and CONTINUED.match(line):
            rows[-1].append(line)
    return [one_row(r) for r in rows]


def split_headless(line: str) -> tuple[float, str, str]:
    """``   0.3108s  producer[7197] sent to …`` → (time, who, text)."""
    stamp, rest = line.split("s  ", 1)
    who = rest.split(" ", 1)[0]
    return float(stamp), who, rest[max(12, len(who)) + 1 :]


def split_screen(line: str) -> tuple[float, str, str]:
    """``   0.311 producer[7197] sent to …`` (the TUI's columns) → (time, who, text)."""
    stamp, rest = line[:8], line[9:]
    who = rest.split(" ", 1)[0]
    return float(stamp), who, rest[max(14, len(who)) + 1 :]


def same_line(screen: str, headless: str) -> bool:
    """The same event told the same way; the screen rounds time to ms and may cut the end."""
    t1, who1, text1 = split_screen(screen)
    t2, who2, text2 = split_headless(headless)
    if abs(t1 - t2) > 0.0006 or who1 != who2:
        return False
    return text1 == text2 or (text1.endswith("…") and text2.startswith(text1[:-1]))


def assert_tail(shown: list[str], expected: list[str], what: str) -> None:
    """``shown`` is the tail of ``expected``, line for line."""
    assert shown, f"{what}: the log is empty"
    assert len(shown) >= min(len(expected), 10), f"{what}: only {len(shown)} lines shown"
    tail = expected[-len(shown) :]
    for i, (got, want) in enumerate(zip(shown, tail, strict=True)):
        assert same_line(got, want), f"{what}: line {i} of the log\n  shown: {got}\n  want:  {want}"


async def until(pilot: Pilot, cond: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


async def replay_at(pilot: Pilot, pos: int | None) -> ReplayScreen:
    """The replay screen with the whole trace indexed, drawn at event ``pos`` (None: end)."""
    await until(pilot, lambda: isinstance(pilot.app.screen, ReplayScreen), "the replay screen")
    screen = pilot.app.screen
    assert isinstance(screen, ReplayScreen)
    screen.index.start()
    await until(pilot, lambda: screen.index.done, "the index")
    if pos is None:
        await pilot.press("end")
        pos = screen.index.count - 1
    else:
        screen.player.seek(pos)
    await until(pilot, lambda: screen._shown is not None and screen._shown[0] == pos, "the seek")
    await pilot.pause()
    return screen


# -- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_replay_log_is_the_headless_log(recorded: Recordings, name: str) -> None:
    """At the end of the trace, then in the middle (seek), then one line back (←: the
    told event before, past untold probes): the log is the headless narrator's, line for
    line, for the events up to the position."""
    rec = recorded(name)
    narrator = Narrator(rec.header)
    told = [i for i, e in enumerate(rec.events) if narrator.entry(e) is not None]
    firsts = headless_rows(rec.cli)
    assert firsts == rec.first_lines(), "the CLI and the narrator in-process disagree"
    app = replay_app(rec.trace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await replay_at(pilot, None)
        log = screen.query_one(EventLog)
        assert_tail(log.plain_lines(), firsts, f"{name} at the end")
        middle = len(rec.events) // 2
        back = max((i for i in told if i < middle), default=-1)
        for pos, how in ((middle, "seek"), (back, "left")):
            if how == "left":
                await pilot.press("left")
                await until(pilot, lambda p=pos: screen._shown[0] == p, "one step back")
                await pilot.pause()
            else:
                await replay_at(pilot, pos)
            assert_tail(log.plain_lines(), rec.first_lines(pos), f"{name} at {pos} ({how})")
        screen.stop()
        await pilot.press("q")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_session_log_is_the_headless_log(recorded: Recordings, name: str) -> None:
    """The session screen fed the trace's events (the live path: a feed, batches per
    frame) ends with the headless narrator's lines."""
    rec = recorded(name)
    app = IpcvizApp(lambda: RecordedFeed(rec.header, list(rec.events)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert_tail(screen.query_one(EventLog).plain_lines(), rec.first_lines(), name)
        screen.stop()


async def test_live_run_log_is_its_headless_replay(tmp_path: Path) -> None:
    """A real live run on the session screen: its log is the headless replay of its trace."""
    trace = tmp_path / "live.jsonl"
    app = IpcvizApp(lambda: LiveFeed(SCENARIOS["sysv-mq-typed"], trace, quick=True))
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, timeout=60)
        shown = screen.query_one(EventLog).plain_lines()
        screen.stop()
    replay = ipcviz("replay", str(trace), "--headless", check=True)
    assert_tail(shown, headless_rows(replay.stdout.splitlines()), "live")


def depth(line: str) -> int:
    return int(re.search(r"\[(\d+) queued\]", line).group(1))  # type: ignore[union-attr]


async def test_old_lines_keep_their_queue_depth(recorded: Recordings) -> None:
    """At the last send before the first receive, the earlier sends to the System V queue
    still say how deep the queue was then (1, 2, …), not the depth now."""
    rec = recorded("sysv-mq-typed")
    first_recv = next(i for i, e in enumerate(rec.events) if e["kind"] == "mq.recv")
    last = max(i for i, e in enumerate(rec.events[:first_recv]) if e["kind"] == "mq.send")
    app = replay_app(rec.trace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await replay_at(pilot, last)
        sends = [x for x in screen.query_one(EventLog).plain_lines() if "sent to mq" in x]
        now = len(screen.state.objects["mq"].messages)
        screen.stop()
    depths = [depth(x) for x in sends]
    assert len(depths) >= 3, sends
    assert depths == list(range(now - len(depths) + 1, now + 1)), sends
    assert depths[0] != now


async def test_old_lines_keep_their_semaphore_value(recorded: Recordings) -> None:
    """After the mutex's value moved on (its holder posted), the last "took mutex" line
    still says the value of its own moment."""
    rec = recorded("shm-semaphore")
    state = State(header=rec.header)
    values = []  # the mutex's value after each event, from the model
    for event in rec.events:
        apply(state, event)
        sem = state.objects.get("mutex")
        values.append(getattr(sem, "value", None))
    took = pos = -1
    for i, event in enumerate(rec.events):  # a take, then the first change that is no take
        if event["kind"] != "sem.wait" or event.get("obj") != "mutex":
            continue
        j = next((j for j in range(i + 1, len(values)) if values[j] != values[i]), None)
        if j is not None and rec.events[j]["kind"] != "sem.wait":
            took, pos = i, j
            break
    assert pos > 0, "no take of the mutex followed by a post"
    app = replay_app(rec.trace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await replay_at(pilot, pos)
        lines = [x for x in screen.query_one(EventLog).plain_lines() if "took mutex" in x]
        now = screen.state.objects["mutex"].value
        screen.stop()
    assert now == values[pos] != values[took]
    assert lines and lines[-1].endswith(f"took mutex (value now {values[took]})"), lines


def test_handout_logs_are_the_headless_log(recorded: Recordings) -> None:
    """Each handout picture's log is the headless log up to the end of its step (the
    event the picture was taken at, just before the next narration)."""
    from ipcviz.export.svg import screenshots

    rec = recorded("sysv-mq-typed")
    _header, shots = screenshots(rec.trace)
    marks = [i for i, e in enumerate(rec.events) if e["kind"] == "narrate"]
    assert len(shots) == len(marks) >= 2
    for shot, i in zip(shots, marks, strict=True):
        assert shot.at >= i
        assert_tail(shot.log, rec.first_lines(shot.at), f"handout step {shot.n}")


async def test_flood_log_is_still_the_headless_log(recorded: Recordings) -> None:
    """A flood (more waiting at the first frame than the log words): the first chunk is
    applied unworded, the rest worded from the states they made, so the log is still the
    headless narrator's, line for line."""
    from ipcviz.tui.screens.session import CHUNK, FLOOD_TAIL

    rec = recorded("shm-race")
    n = FLOOD_TAIL + CHUNK + 10
    assert len(rec.events) > n

    def feed() -> RecordedFeed:
        f = RecordedFeed(rec.header, iter(rec.events[:n]))
        f.pump()  # all of it waits before the first frame (the screen's own pump adds none)
        return f

    app = IpcvizApp(feed)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert screen.unworded == CHUNK
        assert screen.state.count == n
        assert_tail(screen.query_one(EventLog).plain_lines(), rec.first_lines(n - 1), "flood")
        screen.stop()


@pytest.mark.parametrize("name", ["shm-race", "pipe-basic"])
def test_replay_window_anywhere_is_the_headless_log(recorded: Recordings, name: str) -> None:
    """Replay's log window over a walk of a real trace (play on, step back, seek back and
    far ahead): at every position, the last ``size`` lines the headless narrator tells up
    to it, however many untold kernel probes lie between them (pipe-basic: 59 events of
    99), and the told events just after and before it (where → and ← go)."""
    import random

    from ipcviz.draw.eventfmt import LogWindow
    from ipcviz.replay import TraceIndex

    rec = recorded(name)
    narrator = Narrator(rec.header)
    told = {i: e for i, ev in enumerate(rec.events) if (e := narrator.entry(ev)) is not None}
    order = sorted(told)
    index = TraceIndex.open(rec.trace).build()
    size = 50 if name == "shm-race" else 6
    window = LogWindow(index.header, index.state_at, index.events, size)
    rnd = random.Random(3)
    pos, n = -1, len(rec.events)
    for _ in range(400):
        move = rnd.random()
        if move < 0.5:
            pos += rnd.randint(1, 20)  # playing
        elif move < 0.8:
            pos -= rnd.randint(1, 3) if rnd.random() < 0.7 else rnd.randint(10, 120)  # back
        else:
            pos = rnd.randrange(n)  # seeking
        pos = max(-1, min(n - 1, pos))
        lines = window.at(pos)
        want = [i for i in order if i <= pos][-size:]
        assert [ln.index for ln in lines] == want, pos
        assert [ln.entry for ln in lines] == [told[i] for i in want], pos
        after = next((i for i in order if i > pos), None)
        before = next((i for i in reversed(order) if i < pos), None)
        assert window.next_line(pos, n - 1) == after, pos
        assert window.prev_line(pos) == before, pos


def test_hostile_names_are_inert_in_the_headless_log() -> None:
    """Process names from a trace file pass through bytefmt in the headless log too (the
    one formatter of every log): no escape sequence reaches the terminal."""
    trace = Path(__file__).parent / "traces" / "hostile.jsonl"
    out = ipcviz("replay", str(trace), "--headless", check=True).stdout
    assert "[bold]w\\x1b[2J[101] starts" in out
    assert not [c for c in out if not c.isprintable() and c != "\n"]


async def test_stepping_back_before_a_process_started_drops_its_row(
    builtin_traces: BuiltinTraces, tmp_path: Path
) -> None:
    """The process table kept every row it had ever shown: after ← back to an event
    before the workers' ``proc.start``, the replay still listed them as "running" while
    the kernel objects panel had rightly lost the objects not yet declared."""
    from ipcviz.tui.widgets.panels import ProcTable

    builtin_traces.copy("pipe-basic", tmp_path)
    trace = tmp_path / "pipe-basic.jsonl"
    events = list(TraceReader.open(trace).events())
    first_start = next(i for i, e in enumerate(events) if e["kind"] == "proc.start")
    app = replay_app(trace)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay_at(pilot, None)
        table = screen.query_one(ProcTable)
        assert table.row_count == len({e["pid"] for e in events if e["kind"] == "proc.start"})
        await replay_at(pilot, first_start)  # the first process started, not the others
        assert table.row_count == 1
        for pos in range(first_start - 1, first_start - 3, -1):  # ← back
            await pilot.press("left")
            await until(pilot, lambda p=pos: screen._shown[0] == p, "one step back")
            await pilot.pause()
        assert table.row_count == 0, "processes shown before they started"
        screen.stop()
        await pilot.press("q")


async def test_the_replays_last_line_is_on_screen_at_its_end() -> None:
    """At the end of a replay the log's bottom row on screen is the trace's last event: the
    checks panel appears with the end's state and shortens the log after its lines were
    picked, and a replay standing still draws no other frame (it used to show the 11 lines
    before the last 11: "producer2 reports put", not "result: PASSED")."""
    from .helpers import TRACES
    from .screen_text import screen_rows

    app = replay_app(TRACES / "producer-consumer.jsonl")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay_at(pilot, None)
        log = screen.query_one(EventLog)
        await until(pilot, lambda: log.size.height > 0, "the log laid out")
        await pilot.pause()
        region = log.content_region
        shown = screen_rows(app)[region.y : region.bottom]
        assert "result: PASSED, exit code 0" in shown[-1], shown
        assert log.plain_lines()[-1].strip() in shown[-1]
        screen.stop()
        await pilot.press("q")
