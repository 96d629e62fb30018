"""The diagram view (issue 16): the lecture's figure, drawn from recorded runs.

Deterministic: each case replays a real recorded run (``traces/``) to a fixed event, chosen
where the object holds something worth seeing (bytes in the pipe, messages queued, a
sleeper on the semaphore); the lighting follows the events, not a clock. Update after a
deliberate visual change with ``pytest tests/tui/test_diagram.py --snapshot-update`` and
look at the SVGs before committing them.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from textual.app import App, ComposeResult

from ipcviz.draw.diagram_layout import diagram_lines
from ipcviz.mechanisms import registry
from ipcviz.model.state import State
from ipcviz.replay import TraceIndex
from ipcviz.tui.launch import present_app
from ipcviz.tui.widgets.diagram import DiagramView
from ipcviz.tui.widgets.panels import ObjectsPanel

from .helpers import TRACES, load, recorded_app, settle

#: object type → (recorded run, event index, terminal size): one per type, sizes from the
#: compact 80×24 to the roomy 200×40.
CASES: dict[str, tuple[str, int, tuple[int, int]]] = {
    "pipe": ("pipe-basic", 5, (100, 12)),
    "fifo": ("fifo-named", 18, (80, 12)),
    "posix_mq": ("mq-priority", 49, (120, 14)),
    "sysv_mq": ("sysv-mq-typed", 20, (100, 24)),
    "posix_shm": ("producer-consumer", 238, (200, 40)),
    "posix_sem": ("producer-consumer", 238, (80, 24)),
    "sysv_shm": ("sysv-shm", 35, (120, 24)),
    "sysv_sem": ("sysv-shm", 35, (80, 14)),
    "mmap_file": ("mmap-file", 37, (100, 20)),
}


def state_at(trace: str, i: int) -> State:
    return TraceIndex.open(TRACES / f"{trace}.jsonl").build().state_at(i)


class DiagramApp(App[None]):
    """The diagram view alone, filling the terminal, showing one fixed state."""

    CSS = "Screen { background: #000000; }"

    def __init__(self, state: State) -> None:
        super().__init__()
        self.state = state

    def compose(self) -> ComposeResult:
        yield DiagramView()

    def on_mount(self) -> None:
        self.call_after_refresh(self.query_one(DiagramView).sync, self.state)


def test_every_type_has_a_case_and_a_drawing() -> None:
    """A new mechanism needs a drawing (its ``diagram.py``) and a snapshot here."""
    assert sorted(CASES) == sorted(registry.TYPES)
    for t in registry.TYPES:
        view = registry.diagram(t)
        assert view is not None, t
        for fn in ("draw", "caption", "rows_wanted", "rows_least", "signature"):
            assert callable(getattr(view, fn, None)), (t, fn)


@pytest.mark.parametrize("type_", list(CASES))
def test_diagram_snapshot(snap_compare, type_: str) -> None:
    trace, i, size = CASES[type_]
    state = state_at(trace, i)
    assert any(o.type == type_ for o in state.objects.values())
    text = "\n".join("".join(s.text for s in line) for line in diagram_lines(state, *size))
    assert f" {type_} " in text  # its box is drawn, whatever the size

    async def settle_view(pilot) -> None:
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(DiagramApp(state), terminal_size=size, run_before=settle_view)


def plain(state: State, width: int, height: int) -> list[str]:
    return ["".join(s.text for s in line) for line in diagram_lines(state, width, height)]


def test_the_lecture_figure_writer_pipe_reader() -> None:
    """pipe-basic: parent on the left, the tube with its bytes, child on the right, each
    edge labelled; the child is drawn (it holds the read end) before its first read."""
    lines = plain(state_at("pipe-basic", 5), 100, 12)
    row = next(line for line in lines if "parent" in line and "child" in line and "▶" in line)
    assert row.index("parent") < row.index("write") < row.index("read") < row.index("child")
    assert any("message 1" in line for line in lines)


def test_named_cells_sleepers_and_delivery_order() -> None:
    pc = plain(state_at("producer-consumer", 238), 200, 40)
    assert any("slots[0]" in line and "in" in line and "count" in line for line in pc)
    assert any("asleep:" in line and "producer1" in line for line in pc)
    mq = plain(state_at("sysv-mq-typed", 20), 100, 24)
    order = next(line for line in mq if "type 3" in line)
    assert order.index("type 3") < order.index("type 1") < order.index("type 2")  # arrival
    pq = plain(state_at("mq-priority", 49), 120, 14)
    assert any("prio 5" in line for line in pq)


def test_the_newest_operation_lights_its_edge() -> None:
    """Driven by the events: after each operation exactly its process's edge on its object
    is lit (drawn on the process's colour, its label the verb, entering the object's box);
    one event later it is the next one's."""
    from rich.color import Color

    from ipcviz.draw import render as r

    index = TraceIndex.open(TRACES / "producer-consumer.jsonl").build()
    verbs = registry.verbs()
    checked = 0
    for i in range(200, 240):
        event = index.event(i)
        if event["kind"] not in verbs:
            continue
        state = index.state_at(i)
        name = state.proc_name(event["pid"])
        lines = diagram_lines(state, 200, 60)
        lit = [
            (s, "".join(x.text for x in line))
            for line in lines
            for s in line
            if s.style is not None and s.style.bgcolor is not None and "─" in s.text
        ]
        proc = state.procs[event["pid"]]
        if proc.state == "waiting" and proc.on == event["obj"]:  # it went to sleep there:
            assert lit == [], (i, lit)  # its edge says so instead ("zz wait", amber)
            assert any("zz" in line for line in plain(state, 200, 60))
            continue
        assert lit, (i, name)
        colour = Color.parse(r.color_of(state, event["pid"]))
        assert {s.style.bgcolor for s, _ in lit} == {colour}, (i, name)  # one process's edge
        label = [line for s, line in lit if verbs[event["kind"]] in s.text]
        assert len(label) == 1 and " │" in label[0], (i, name, lit)  # into the object's box
        checked += 1
    assert checked > 10


def test_an_edge_that_sends_and_receives_says_both() -> None:
    """Two processes each send to and receive from one queue. ``send/receive`` does not
    fit beside the box, and the label fell back to its first verb: ``◀───send────▶``, as
    if neither process ever received. It is cut instead, so the second verb shows."""
    import base64

    from ipcviz.model.reducer import apply_all

    x = base64.b64encode(b"x").decode()
    one = {"obj": "q", "size": 1, "data": x}
    events = [
        {"seq": 0, "t": 0, "pid": 0, "kind": "obj.declare", "obj": "q", "type": "sysv_mq",
         "max_bytes": 16384, "max_message_size": 8192},
        {"seq": 1, "t": 1, "pid": 10, "kind": "proc.start", "name": "client"},
        {"seq": 2, "t": 2, "pid": 11, "kind": "proc.start", "name": "server"},
        {"seq": 3, "t": 3, "pid": 10, "kind": "mq.send", "mtype": 1, **one},
        {"seq": 4, "t": 4, "pid": 11, "kind": "mq.recv", "mtype": 1, **one},
        {"seq": 5, "t": 5, "pid": 11, "kind": "mq.send", "mtype": 2, **one},
        {"seq": 6, "t": 6, "pid": 10, "kind": "mq.recv", "mtype": 2, **one},
    ]  # fmt: skip
    state = apply_all(State(), events)
    for width, height in ((80, 24), (120, 40), (200, 60)):
        edges = [line for line in plain(state, width, height) if "▶" in line]
        assert edges, (width, height)
        for line in edges:
            assert line.count("send/rec") == 2, (width, line)


def test_a_process_asleep_in_a_fifos_open_has_its_edge() -> None:
    """fifo-named, event 11: the writer sleeps in open() of ``f`` until a reader opens it.
    Its node said ``zz pipe.op…`` (the event kind, cut) and no edge led to ``f``: an
    open is no use of the data, so it had no edge verb. Now both say ``zz open``."""
    for width, height in ((80, 24), (120, 40)):
        lines = plain(state_at("fifo-named", 11), width, height)
        assert not any("pipe." in line for line in lines), lines
        edge = next(line for line in lines if "writer" in line)
        assert "◀zz open─" in edge and "════" in edge, lines  # to the FIFO's box
        assert any("└ zz open" in line for line in lines), lines


def test_fits_80x24_and_uses_200x60() -> None:
    state = state_at("producer-consumer", 238)
    small, big = plain(state, 80, 20), plain(state, 200, 60)
    assert len(small) <= 20 and all(len(line) == 80 for line in small)
    assert all(len(line) == 200 for line in big)

    def box(lines: list[str]) -> int:  # the buffer's box: its width
        top = next(line for line in lines if "buffer" in line)
        return top.rindex("╮") - top.index("╭")

    assert box(big) > box(small) + 40  # the objects use the room
    index = TraceIndex.open(TRACES / "producer-consumer.jsonl").build()
    end = index.state_at(index.count - 1)  # nobody asleep: names only on their nodes
    for lines in (plain(end, 80, 20), plain(end, 200, 60)):  # one node per process, once
        for proc in end.procs.values():
            assert sum(proc.name in line for line in lines) == 1, (proc.name, lines)
    tiny = plain(state, 80, 5)
    assert len(tiny) <= 5 and "more object" in tiny[-1]


def test_hostile_bytes_and_names_are_drawn_inert() -> None:
    """Bytes and names from a trace go through the byte formatter: no control character
    reaches the terminal."""
    index = TraceIndex.open(TRACES / "hostile.jsonl").build()
    for i in (index.count // 2, index.count - 1):
        for line in plain(index.state_at(i), 120, 40):
            assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in line), line


def test_the_drawing_knows_no_textual() -> None:
    """The layout and every mechanism's drawing load without Textual (model → lines)."""
    mods = ", ".join(repr(registry.BY_TYPE[t].family.diagram) for t in registry.TYPES)
    code = (
        "import sys, importlib, ipcviz.draw.diagram_layout;"
        f"[importlib.import_module(m) for m in ({mods},)];"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'textual'];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


# -- v, and presenter mode ----------------------------------------------------------------


async def test_v_switches_diagram_and_detail_in_the_session_screen() -> None:
    app = recorded_app("sysv-mq-typed")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        diagram, objects = screen.query_one(DiagramView), screen.query_one(ObjectsPanel)
        assert not diagram.display or not diagram.region.height
        assert objects.region.height > 0
        await pilot.press("v")
        await pilot.pause()
        await pilot.pause()
        assert diagram.region.height > 10 and objects.region.height == 0
        text = "\n".join(diagram.plain_lines())
        assert "producer" in text and "consumer" in text and "send" in text
        await pilot.press("v")
        await pilot.pause()
        assert diagram.region.height == 0 and objects.region.height > 0


async def test_v_in_replay_and_listed_in_help() -> None:
    from ipcviz.tui.launch import replay_app

    app = replay_app(TRACES / "pipe-basic.jsonl")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        await pilot.pause()
        assert app.screen.query_one(DiagramView).region.height > 0
        await pilot.press("question_mark")
        await pilot.pause()
        from ipcviz.tui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        shown = "\n".join(str(w.render()) for w in app.screen.query("*"))
        assert "diagram" in shown


async def present_at(pilot, step: int) -> None:
    """→ (past the pages of each narration) until narration number ``step`` is shown."""
    await pilot.pause()
    screen = pilot.app.screen
    for _ in range(40):
        if screen.shown_number() == step:
            break
        await pilot.press("right")
        await pilot.pause()
    assert screen.shown_number() == step
    await pilot.pause()
    await pilot.pause()


@pytest.mark.parametrize(("size", "lang"), [((80, 24), "en"), ((200, 60), "en"), ((80, 24), "ko")])
def test_presenter_snapshot(snap_compare, size: tuple[int, int], lang: str) -> None:
    """Narration large and first (80 columns: the narrow font, paged; 200: the square one;
    Korean: bands), the diagram below."""

    async def at_fill(pilot) -> None:
        await present_at(pilot, 3)

    app = present_app(TRACES / "producer-consumer.jsonl", lang=lang)
    assert snap_compare(app, terminal_size=size, run_before=at_fill)


async def test_presenter_at_80x24_pages_the_large_narration_above_the_diagram() -> None:
    """80×24: the narration in the narrow large font, read back page by page (→ pages,
    then goes on to the next step; ← pages back) is the whole step text; the diagram
    keeps the rows below."""
    from tests.lecture.bigread import read_lines, same_words

    app = present_app(TRACES / "producer-consumer.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        await present_at(pilot, 3)
        screen = app.screen
        step = screen.state.step_info()
        assert step is not None
        assert screen.kind == "quad" and len(screen.pages) >= 2
        pages = []
        for n in range(len(screen.pages)):
            assert screen.page == n and f"page {n + 1} of {len(screen.pages)}" in (
                screen.narration_text.plain
            )
            pages.append(read_lines(screen.narration_text.plain.splitlines()))
            narration = screen.query_one("#narration")
            assert narration.region.bottom <= 24
            diagram = screen.query_one(DiagramView)
            assert diagram.region.height >= 6 and diagram.region.y >= narration.region.bottom
            await pilot.press("right")
            await pilot.pause()
        assert same_words(" ".join(pages), str(step["en"]))
        assert screen.shown_number() == 4 and screen.page == 0  # the last page went on
        await pilot.press("right")
        await pilot.pause()
        assert screen.page == (1 if screen.page_count() > 1 else 0)
        await pilot.press("left")  # a page back (if step 4 has two), then step 3, page 1
        if screen.shown_number() == 4:
            await pilot.press("left")
        await pilot.pause()
        assert screen.shown_number() == 3 and screen.page == 0
        # the narration is the dominant text: bold, bright white
        assert any(span.style and "bold" in str(span.style) for span in screen.narration_text.spans)


async def test_presenter_in_korean_at_80x24_sets_each_clause_on_a_band() -> None:
    """No Hangul font to draw it large: one clause a line, bold dark on a bright band, a
    blank row between lines; the whole step text is on the page(s), in order."""
    app = present_app(TRACES / "producer-consumer.jsonl", lang="ko")
    async with app.run_test(size=(80, 24)) as pilot:
        await present_at(pilot, 3)
        screen = app.screen
        step = screen.state.step_info()
        assert step is not None and screen.kind == "bands"
        seen = []
        for _ in range(len(screen.pages)):
            text = screen.narration_text
            banded = [
                s for s in text.spans if "on #ffd700" in str(s.style) and s.end - s.start > 20
            ]
            assert banded, "the clauses are drawn on a band"
            seen += [line.strip() for line in screen.pages[screen.page] if line.strip()]
            await pilot.press("right")
            await pilot.pause()
        assert " ".join(seen) == " ".join(str(step["ko"]).split())


def test_trace_files_are_real_runs() -> None:
    """The fixtures are recordings (``ipcviz run X --quick --record``), legal histories."""
    from ipcviz.model.verify import check

    for trace in ("producer-consumer", "sysv-shm", "mmap-file"):  # recorded for these tests
        header, events = load(trace)
        assert header["scenario"]["id"] == trace
        assert [v.line() for v in check(header, events)] == [], trace


def test_large_type_for_the_projector() -> None:
    """At 200×60 the narration is drawn in large type (3 rows a line); text the font
    cannot draw (Korean) stays ordinary text; the letters are the font's, whole."""
    from ipcviz.draw.bigtext import HALF, QUAD, ROWS, big_lines, fit, normalize
    from tests.lecture.bigread import read_lines, same_words

    text = "Moving an index is read-modify-write: without mutex two producers could collide."
    lines = big_lines(text, 196)
    assert lines is not None and len(lines) % ROWS == 0 and all(len(x) <= 196 for x in lines)
    assert set("".join(lines)) <= set("▀▄█ ")
    assert same_words(read_lines(lines), text)
    narrow = big_lines(text, 76, QUAD)  # 80 columns: 2 cells a letter
    assert narrow is not None and all(len(x) <= 76 for x in narrow)
    assert set("".join(narrow)) <= set("▘▝▀▖▌▞▛▗▚▐▜▄▙▟█ ")
    assert max(len(x) for x in narrow) > 60 and len(narrow) == 3 * ROWS  # 38 letters a line
    assert same_words(read_lines(narrow), text)
    assert big_lines("인덱스를 옮기는 것은", 196) is None
    assert normalize("a—b → c") == "A-B -> C"
    # the largest that fits: square pixels when the whole text fits the rows, else narrow
    assert fit(text, 196, 9) == (HALF, lines)
    assert fit(text, 196, 3)[0] == QUAD


async def test_presenter_at_200x60_draws_the_narration_large() -> None:
    app = present_app(TRACES / "producer-consumer.jsonl")
    async with app.run_test(size=(200, 60)) as pilot:
        await present_at(pilot, 3)
        screen = app.screen
        assert "█" in screen.narration_text.plain
        narration, diagram = screen.query_one("#narration"), screen.query_one(DiagramView)
        assert narration.region.height >= 12 and diagram.region.height >= 25


NAMED = """
from ipcviz.scenario import Scenario
scenario = Scenario("named-cells", "named cells")
m = scenario.shared_memory("m", cells={"slots": 3, "in": 1})

@scenario.process("p")
def p(ctx):
    m["in"] = 7
    m[m.cell("slots", 2)] = 5

@scenario.check("in is 7, slots[2] is 5")
def ok(run):
    data = run.state.objects["m"].data
    return data[24] == 7 and data[16] == 5
"""


def test_a_scenario_names_its_cells_and_reaches_them_by_name(tmp_path) -> None:
    """``cells={"slots": 3, "in": 1}``: four cells, declared with their names (drawn above
    them), reached by name in the workers; a count below 1 is bad input (exit 2)."""
    import json

    from tests.conftest import ipcviz

    src, trace = tmp_path / "named.py", tmp_path / "t.jsonl"
    src.write_text(NAMED)
    result = ipcviz("run", str(src), "--headless", "--quick", "--record", str(trace))
    assert result.returncode == 0, result.stdout[-1500:] + result.stderr
    declare = next(
        e for e in map(json.loads, trace.read_text().splitlines()[1:]) if e["kind"] == "obj.declare"
    )
    assert declare["cells"] == 4 and declare["names"] == [["slots", 0, 3], ["in", 3, 1]]
    index = TraceIndex.open(trace).build()
    lines = plain(index.state_at(index.count - 1), 100, 20)
    assert any("slots[0]" in line and "in" in line for line in lines)
    assert any(" 5" in line and " 7" in line for line in lines)
    bad = tmp_path / "bad.py"
    bad.write_text(NAMED.replace('"in": 1}', '"in": 0}'))
    result = ipcviz("run", str(bad), "--headless", "--quick", "--record", str(tmp_path / "b"))
    assert result.returncode == 2
    assert "count of at least 1" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "scenario", ["shm-race", "producer-consumer", "pipe-mesh", "mq-two-way", "sysv-mq-typed"]
)
def test_every_process_is_one_node_at_80x24_and_200x60(builtin_traces, scenario: str) -> None:
    """Several workers are never grouped or cut: at every moment of a real run each process
    is drawn once (a box, a one-row node or a table column, with its state), and each
    object it has used is joined to it by an edge (or a verb in its column)."""
    import re

    from ipcviz.draw.diagram_layout import MODES, _Graph

    index = TraceIndex.open(builtin_traces(scenario)).build()
    for i in sorted({index.count // 4, index.count // 2, index.count - 1}):
        state = index.state_at(i)
        for width, height in ((80, 22), (200, 58)):
            lines = plain(state, width, height)
            assert len(lines) <= height and all(len(x) == width for x in lines)
            graph = _Graph.of(state, width)
            plans = [graph.plan(m) for m in MODES]
            fitting = next((p for p in plans if p.height <= height), None)
            if fitting is not None:  # the figure: a node per process, an edge per use
                assert sorted(fitting.proc_top) == sorted(state.procs), (scenario, i)
                used = {(pid, o) for o, u in state.uses.items() for pid in u}
                assert used <= {(e.pid, e.obj) for e in fitting.edges}, (scenario, i)
            else:  # the table: a column per process, named on its first row
                assert width == 80, (scenario, i, "200×58 has room for the figure")
            for proc in state.procs.values():
                node = re.compile(rf"(│| ){re.escape(proc.name)} ")
                at = [n for n, line in enumerate(lines) if node.search(line)]
                assert at, (scenario, i, width, proc.name, lines)


def test_a_long_process_name_is_cut_once_to_its_box() -> None:
    """A name cut to a node's width has one ``…`` (safe_text's ``…(+N)`` was cut again
    to ``producer……`` at 120×40), and an untrusted name stays inert. The cut keeps the
    name's end: ``produce…`` for both producer1 and producer2 told them apart by colour
    alone (a helper's bounded buffer, in the TUI's diagram at 120 columns)."""
    from rich.cells import cell_len

    from ipcviz.draw import diagram_kit as k
    from ipcviz.model.reducer import apply
    from ipcviz.model.state import State

    s = State(header={})
    apply(s, {"t": 0, "seq": 0, "pid": 7, "kind": "proc.start", "name": "producer1"})
    apply(s, {"t": 0, "seq": 1, "pid": 8, "kind": "proc.start", "name": "\x1b[2Jx" * 20})
    assert k.proc_name(s, 7, 8)[0] == "produ…r1"
    assert k.proc_name(s, 7, 9)[0] == "producer1"
    hostile = k.proc_name(s, 8, 12)[0]
    assert cell_len(hostile) <= 12 and hostile.count("…") == 1 and "\x1b" not in hostile


def test_fifo_bytes_that_may_be_gone_snapshot(snap_compare) -> None:
    """A FIFO after its last close with bytes in it, reopened, two more bytes written: the
    ten old bytes are drawn faint and the caption says they may be gone."""
    from tests.mechanisms.test_fifo_last_close import _closed_with_bytes, _state

    state = _state(_closed_with_bytes())
    text = "\n".join(plain(state, 80, 12))
    assert "10 B may be gone" in text

    async def settle_view(pilot) -> None:
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(DiagramApp(state), terminal_size=(80, 12), run_before=settle_view)


@pytest.mark.parametrize("size", [(80, 24), (80, 20), (120, 18)])
async def test_presenter_detail_view_on_a_short_screen_never_cuts_its_hint(size) -> None:
    """The detail view (v) on a short screen: what → does (the hint row: PAUSED, "more: →
    next page") is on screen at every step and page, and every page's words are whole (the
    end of a live run: tests/lecture/test_present_tui.py). Under 24 rows the view gives
    the processes' table up (the diagram and the objects still show each process): with
    it, the narration panel was clipped below its big type at 80×20. The badge row and the
    hint are one row each, cut to the panel: the scenario's title wrapped to a second row
    on a 56-column panel and pushed the hint out at 120×18."""
    from tests.tui.screen_text import screen_rows

    app = present_app(TRACES / "producer-consumer.jsonl")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        screen = app.screen
        for _ in range(60):
            await pilot.pause()
            shown = "\n".join(screen_rows(app))
            hint = screen.narration_text.plain.splitlines()[-1].strip()
            assert hint and hint.split("  ")[0] in shown, (hint, shown)
            assert "…" not in "".join(screen.pages[screen.page]), screen.pages[screen.page]
            if screen.pos + 1 >= len(screen.index.narrations) and (
                screen.page + 1 >= len(screen.pages)
            ):
                break
            await pilot.press("right")
        assert screen.pos + 1 == len(screen.index.narrations)
