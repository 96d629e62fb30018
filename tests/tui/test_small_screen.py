"""An 80x24 screen (a lecture room's projector often is that size) shows the kernel objects
and a few lines of the event log, in both views, even once the checks are in: the checks
panel used to take the height (ten rows of sentences), leaving the objects panel no row and
the log none at all. There the checks are one line (``c``: in full, and back)."""

from __future__ import annotations

import pytest

from ipcviz.tui.widgets.panels import Checks, EventLog, ObjectsPanel

from .helpers import recorded_app, settle
from .screen_text import screen_rows

#: Fixture traces that end with their checks.
TRACES = ["pipe-basic", "sysv-shm", "producer-consumer", "c-pipe-parent-child", "mmap-file"]


def on_screen(app, widget) -> list[str]:
    """The rows of ``widget``'s region as the screen shows them."""
    region = widget.content_region
    rows = screen_rows(app)
    return [rows[y][region.x : region.right] for y in range(region.y, region.bottom)]


@pytest.mark.parametrize("trace", TRACES)
async def test_at_80x24_objects_and_log_lines_are_on_screen_with_the_checks(trace: str) -> None:
    app = recorded_app(trace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert screen.state.checks  # (the run ended: its checks are in)
        objects = screen.query_one(ObjectsPanel)
        first = next(iter(objects.views.values()))
        assert objects.content_region.height >= 4
        assert on_screen(app, first)[0].strip() == first.plain_lines()[0][:78].strip()
        log = screen.query_one(EventLog)
        shown = [row.rstrip() for row in on_screen(app, log)]
        assert len(shown) >= 3 and shown[-1] == log.plain_lines()[-1].rstrip()
        assert "result:" in shown[-1]
        checks = screen.query_one(Checks)
        assert checks.display and checks.content_region.height == 1
        line = on_screen(app, checks)[0]
        assert "✓" in line and "exit code" in line

        await pilot.press("v")  # the diagram view: its log lines too
        screen = await settle(pilot)
        log = screen.query_one(EventLog)
        shown = [row.rstrip() for row in on_screen(app, log)]
        assert len(shown) >= 3 and "result:" in shown[-1]

        await pilot.press("v", "c")  # every check, in full
        screen = await settle(pilot)
        assert checks.content_region.height > 1
        described = [c.text("en")[0] for c in screen.state.checks]
        assert described[0][:40] in " ".join(r.strip() for r in on_screen(app, checks))
        await pilot.press("c")  # and back to one line
        screen = await settle(pilot)
        assert checks.content_region.height == 1


async def test_a_failed_check_is_said_in_its_one_line() -> None:
    """One line says how many failed and the first failure's words, not only ✓."""
    from ipcviz.model.state import Check, State

    state = State()
    state.checks = [Check("every byte arrived", True, ""), Check("no update lost", False, "")]
    state.outcome, state.exit_code = "failed", 1
    line = Checks.brief_line(state).plain
    assert "✓ 1" in line and "✗ 1" in line and "✗ no update lost" in line
    assert "\n" not in line


@pytest.mark.parametrize("size", [(120, 40), (200, 60)])
async def test_a_tall_screen_keeps_the_checks_in_full(size: tuple[int, int]) -> None:
    app = recorded_app("pipe-basic")
    async with app.run_test(size=size) as pilot:
        screen = await settle(pilot)
        assert not screen.has_class("-compact")
        checks = screen.query_one(Checks)
        assert checks.content_region.height >= len(screen.state.checks) + 1  # + outcome


def test_a_cut_line_ends_in_an_ellipsis() -> None:
    from rich.segment import Segment
    from textual.strip import Strip

    from ipcviz.tui.widgets.panels import cut

    assert cut(Strip([Segment("10 writes")]), 5).text == "10 w…"
    assert cut(Strip([Segment("10 writes")]), 9).text == "10 writes"
    assert cut(Strip([Segment("10 writes")]), 12).text == "10 writes"
    shown = cut(Strip([Segment("버퍼 버퍼")]), 4)  # a wide character cut in two
    assert shown.cell_length == 4 and shown.text.endswith("…")


async def test_a_replay_standing_still_draws_its_objects_for_the_width_they_have() -> None:
    """A replay at its end (End at 80x24) draws no more frames; the end's state adds the
    checks line and the objects panel a scrollbar, two cells narrower: each object's lines
    are made again for the width it now has (its title line ended "10 wr", cut)."""
    from ipcviz.tui.launch import replay_app

    from .helpers import TRACES
    from .test_log_moment import replay_at

    app = replay_app(TRACES / "sysv-shm.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await replay_at(pilot, None)
        await pilot.pause()
        view = screen.query_one(ObjectsPanel).views["slot"]
        made = view.plain_lines()
        assert max(len(line.rstrip()) for line in made) <= view.size.width
        assert [row.rstrip() for row in on_screen(app, view)] == [x.rstrip() for x in made]
        screen.stop()


async def test_a_replay_standing_still_draws_its_diagram_for_the_height_it_has() -> None:
    """The same in the diagram view: the end's checks line takes a row from the diagram,
    which is drawn again for the rows it now has (its bottom row was cut off)."""
    from ipcviz.tui.launch import replay_app
    from ipcviz.tui.widgets.diagram import DiagramView

    from .helpers import TRACES
    from .test_log_moment import replay_at

    app = replay_app(TRACES / "sysv-shm.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        await replay_at(pilot, 40)
        await pilot.press("v")
        screen = await replay_at(pilot, None)
        await pilot.pause()
        diagram = screen.query_one(DiagramView)
        assert len(diagram.lines) == diagram.size.height
        assert [row.rstrip() for row in on_screen(app, diagram)] == [
            x.rstrip() for x in diagram.plain_lines()
        ]
        screen.stop()


async def test_a_diagram_too_tall_for_80x24_says_why_and_z_gives_it_the_height() -> None:
    """producer-consumer's four objects need 18 rows of figure; at 80x24 the narration and
    the log leave the diagram 13, so it is a table. The table used to say nothing of why
    and no key showed the figure: its last line says the rows needed and had, and ``z``
    gives the diagram the whole height (the figure, its boxes drawn), ``z`` again the
    table."""
    from ipcviz.tui.launch import replay_app
    from ipcviz.tui.widgets.diagram import DiagramView

    from .helpers import TRACES, refreshed
    from .test_log_moment import replay_at

    app = replay_app(TRACES / "producer-consumer.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await replay_at(pilot, 300)
        await pilot.press("v")
        await refreshed(screen)
        diagram = screen.query_one(DiagramView)
        shown = "\n".join(on_screen(app, diagram))
        assert "objects" in shown and "╭" not in shown  # the table
        assert f"needs 18 rows, {diagram.size.height} here" in shown and "z: " in shown, shown

        await pilot.press("z")
        await refreshed(screen)
        shown = "\n".join(on_screen(app, diagram))
        assert diagram.size.height >= 18 and diagram.size.width == 80
        for name in ("buffer", "empty", "full", "mutex"):
            assert f"{name} posix_" in shown, shown  # each object's box, titled
        assert "╭" in shown and "needs" not in shown

        await pilot.press("z")
        await refreshed(screen)
        assert "needs 18 rows" in "\n".join(on_screen(app, diagram))
        # the command palette offers it too (a key shown nowhere else at 80 columns)
        (zoom,) = [c for c in app.get_system_commands(screen) if "whole height" in c.title]
        zoom.callback()
        await refreshed(screen)
        assert "╭" in "\n".join(on_screen(app, diagram))
        screen.stop()


@pytest.mark.parametrize("view", ["detail", "diagram"])
async def test_every_check_at_80x24_leaves_the_objects_and_the_log_their_rows(view: str) -> None:
    """``c`` on a short narrow screen: producer-consumer's four long checks (9 rows) and
    its outcome used to push the objects panel (and the diagram) and the log off an 80x24
    replay. They take the processes' and the narration's rows (hidden meanwhile), the
    objects panel keeps its rows and the log its lines; ``c`` again, all as it was."""
    from ipcviz.tui.launch import replay_app
    from ipcviz.tui.widgets.diagram import DiagramView
    from ipcviz.tui.widgets.panels import Narration, ProcTable

    from .helpers import TRACES, refreshed
    from .test_log_moment import replay_at

    app = replay_app(TRACES / "producer-consumer.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await replay_at(pilot, None)
        if view == "diagram":
            await pilot.press("v")
        await pilot.press("c")
        await refreshed(screen)
        await refreshed(screen)
        right = screen.query_one(DiagramView if view == "diagram" else ObjectsPanel)
        assert right.outer_size.height >= 4, right.outer_size  # a few rows, its title's aside
        assert right.region.bottom <= screen.query_one("Timeline").region.y
        log = screen.query_one(EventLog)
        assert log.content_region.height >= 3
        assert "result:" in on_screen(app, log)[-1]
        checks = screen.query_one(Checks)
        shown = " ".join(r.strip() for r in on_screen(app, checks))
        for check in screen.state.checks:  # every check's first words
            assert check.text("en")[0][:30] in shown, shown
        assert screen.query_one(ProcTable).region.height == 0  # (hidden meanwhile)

        await pilot.press("c")
        await refreshed(screen)
        await refreshed(screen)
        assert checks.content_region.height == 1
        assert screen.query_one(Narration).region.height > 0
        if view == "detail":
            assert screen.query_one(ProcTable).region.height > 0
        screen.stop()
