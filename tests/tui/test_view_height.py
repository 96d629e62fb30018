"""An object's view is as tall as its lines, always: a snapshot once showed a queue one line
short (its kernel reading hidden) because a layout asked for while the view was being
mounted was lost, and nothing asked again while its line count stayed the same."""

from __future__ import annotations

from ipcviz.tui.widgets.panels import ObjectsPanel

from .helpers import recorded_app, settle


async def _frames(pilot, n: int = 3) -> None:
    for _ in range(n):
        await pilot.pause()


async def test_a_view_laid_out_short_is_laid_out_again_at_the_next_frame() -> None:
    app = recorded_app("sysv-mq-typed")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        view = screen.query_one(ObjectsPanel).views["mq"]
        full = list(view.lines)
        assert view.size.height == len(full) and "kernel" in view.plain_lines()[-1]
        # the lost layout, made on purpose: laid out one line short, then its lines back
        # without a layout (what a sync racing the mount left behind)
        view.lines = full[:-1]
        view.refresh(layout=True)
        await _frames(pilot)
        assert view.size.height == len(full) - 1
        view.lines = full
        screen.redraw()  # an ordinary frame: nothing in the model changed
        await _frames(pilot)
        assert view.size.height == len(full), "the next frame did not lay it out again"
        view.lines = full[:-1]
        view.refresh(layout=True)
        await _frames(pilot)
        view.lines = full
        screen.redraw(True)  # a forced frame (a resize, a language switch)
        await _frames(pilot)
        assert view.size.height == len(full)
