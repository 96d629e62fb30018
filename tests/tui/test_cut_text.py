"""Text that does not fit is shown cut, never silently: at 80×24 the narration's last row
ends in "…" when the step's text needs more rows than it has (English and Korean: a wide
character counts 2 cells); a full line of an object panel marks what it dropped; a process
state longer than its column ends in "…"."""

from __future__ import annotations

import time

import pytest
from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text

from ipcviz.draw import render
from ipcviz.tui.launch import replay_app
from ipcviz.tui.screens.replay import ReplayScreen
from ipcviz.tui.widgets.panels import Narration
from tests.conftest import BuiltinTraces

from .helpers import refreshed


async def _until(pilot, cond, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.02)


def _rows(widget: Narration) -> list[str]:
    """What the narration panel draws, row by row (its content area)."""
    outer, inner = widget.region, widget.content_region
    strips = widget.render_lines(outer.reset_offset)
    dx, dy = inner.x - outer.x, inner.y - outer.y
    rows = ["".join(seg.text for seg in strip) for strip in strips[dy : dy + inner.height]]
    return [cut_cells(r, dx, inner.width).rstrip() for r in rows]


def cut_cells(row: str, start: int, width: int) -> str:
    out, used = [], 0
    for ch in row:
        w = cell_len(ch)
        if start <= used < start + width:
            out.append(ch)
        used += w
    return "".join(out)


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_narration_cut_at_80x24_ends_in_an_ellipsis(
    builtin_traces: BuiltinTraces, lang: str
) -> None:
    trace = builtin_traces("sysv-shm")
    app = replay_app(trace, lang=lang)
    cut = whole = 0
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await _until(pilot, lambda: screen.index.done)
        await pilot.press("home")
        for _ in range(len(screen.index.narrations)):
            await pilot.press("n")
            # drawn at the step ``n`` moved to (the next frame does it), then laid out
            await _until(pilot, lambda: (screen._shown or (None,))[0] == screen.player.pos)
            await refreshed(screen)
            narration = screen.query_one(Narration)
            width, height = narration.content_region.width, narration.content_region.height
            needed = len(narration._full.wrap(app.console, width))
            rows = [r for r in _rows(narration) if r]
            assert all(cell_len(r) <= width for r in rows)
            if needed > height:
                cut += 1
                assert rows and rows[-1].endswith("…"), (lang, rows)
            else:
                whole += 1
                assert not rows or not rows[-1].endswith("…"), rows
        await pilot.press("q")
    assert cut, f"no step of sysv-shm overflows at 80×24 in {lang}: the test saw no cut"


def test_a_full_line_marks_what_it_dropped() -> None:
    out = render.Lines(20)
    out.add("x" * 20)  # exactly full
    out.add("more")  # nothing fits: the line now says it was cut
    (line,) = out.finish()
    text = "".join(seg.text for seg in line)
    assert text.endswith("…") and cell_len(text) == 20


def test_cut_counts_wide_characters_as_two_cells() -> None:
    out = render.Lines(20)
    out.add("가" * 15)  # 30 cells into 20
    (line,) = out.finish()
    text = "".join(seg.text for seg in line if isinstance(seg, Segment))
    assert text.endswith("…") and cell_len(text) <= 20 and text.count("가") == 9
    assert render.fit(Text("가나다라마"), 7).plain == "가나다…"
    lines = [Text("a" * 10), Text("가" * 5), Text("tail")]
    clamped = render.clamp(lines, 10, 2)
    assert [t.plain for t in clamped] == ["a" * 10, "가가가가…"]
