"""Untrusted bytes: payloads, process names and narration show literally and stay inert.

The fixture trace ``hostile.jsonl`` puts markup (``[link=…]``, ``[/x]``, ``[bold]``), ESC
sequences (``\\x1b[2J``, OSC 52), the C1 byte 0x9b and invalid UTF-8 into pipe contents,
queue messages, shared-memory cells, process output, process names, the scenario title and
the narration. Nothing may crash, everything must show as text, and no ESC/0x9b byte may
reach the terminal (checked on the rendered strips and on the SVG export).
"""

from __future__ import annotations

from rich.segment import Segment

from ipcviz.draw import render
from ipcviz.model.state import State
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.widgets.panels import ObjectView

from .helpers import recorded_app, settle

FORBIDDEN = (
    [chr(c) for c in range(0x20) if c != 0x0A] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
)


def screen_text(app: IpcvizApp) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def assert_inert(text: str) -> None:
    bad = sorted({f"{ord(c):#x}" for c in text if c in FORBIDDEN})
    assert not bad, f"control characters reached the screen: {bad}"


async def test_hostile_trace_shows_literally_and_inert() -> None:
    app = recorded_app("hostile")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await settle(pilot)
        text = screen_text(app)
        assert_inert(text)
        pipe = "\n".join(screen.query_one("#objects").views["p"].plain_lines())
        assert "[link=http://x]a[/link][/x][bold]" in pipe  # markup shown as text
        queue = "\n".join(screen.query_one("#objects").views["q"].plain_lines())
        assert '"[/x]"' in queue and '"[bold]"' in queue and '"\\x1b[2J"' in queue
        assert '"\\x9b"' in queue
        assert "[bold]w\\x1b[2J" in text and "[/x]\\x9b" in text  # process names
        assert "step [/x] \\x1b]52;c;aGk=\\x07 [bold]" in text  # narration
        assert "hostile[/x]" in text and "[bold]evil \\x1b[2J title" in text
        assert "DRIFT" in text and "nbytes model=52 kernel=[bold]\\x9b60" in text
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\x9b" not in svg and "\x07" not in svg
        await pilot.press("l")  # Korean narration of the same step
        screen.redraw()
        text = screen_text(app)
        assert_inert(text)
        assert "[link=http://x]단계[/link] \\x1b[2J" in text
        await pilot.press("question_mark")
        await pilot.press("escape")
        await pilot.press("o", "o", "o")  # filter the log by each object: no crash
        screen.redraw()
        assert_inert(screen_text(app))


async def test_every_object_renderer_is_inert_at_every_width() -> None:
    from .helpers import load

    header, events = load("hostile")
    from ipcviz.model.reducer import apply_all

    state = apply_all(State(header=header), events)
    for width in (20, 37, 80, 200):
        for obj in state.objects.values():
            for line in render.object_lines(state, obj, width, rows=3):
                assert all(isinstance(seg, Segment) for seg in line)
                text = "".join(seg.text for seg in line)
                assert_inert(text)
                assert render.cell_len(text) <= max(20, width)


async def test_object_views_draw_on_screen_inert_at_narrow_and_wide_sizes() -> None:
    for size in ((60, 50), (200, 50)):
        app = recorded_app("hostile")
        async with app.run_test(size=size) as pilot:
            screen = await settle(pilot)
            text = screen_text(app)
            assert_inert(text)
            views = screen.query(ObjectView)
            assert {v.obj_name for v in views} == set(screen.state.objects)
            for view in views:  # each object's first line, as drawn, is on the screen
                drawn = "".join(seg.text for seg in view.render_line(0)).rstrip()
                assert drawn and drawn in text, (view.obj_name, drawn)
            assert "\\x1b[2J" in text and "[/x]" in text  # shown as text, escaped


async def test_no_color_is_respected(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = recorded_app("pipe-basic")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.no_color
        svg = app.export_screenshot()
    monkeypatch.delenv("NO_COLOR")
    assert "#ffd700" not in svg.lower()  # the first process colour is gone
