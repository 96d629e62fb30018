"""Keys that can be found: each screen's footer starts with the keys that matter there.

A footer is cut at the right edge, so what it shows first is what a new user sees. Read
from the drawn footer (which keys fit before the command palette's key), at 80×24 and
120×40, for the live session screen, a replay and presenter mode; plus SVG snapshots of
the replay screen at both sizes (the session screen's are in test_snapshots.py).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from ipcviz.tui.launch import present_app, replay_app
from ipcviz.tui.screens.replay import ReplayScreen
from ipcviz.tui.screens.session import SessionScreen

from .helpers import TRACES, recorded_app, refreshed, settle

SIZES = [(80, 24), (120, 40)]


def visible_keys(app: Any) -> list[tuple[str, str]]:
    """(key shown, description) of every footer key drawn whole, left to right."""
    footer = app.screen.query_one(Footer)
    keys = [k for k in footer.query(FooterKey) if "-command-palette" not in k.classes]
    palette = [k for k in footer.query(FooterKey) if "-command-palette" in k.classes]
    right = min([k.region.x for k in palette] or [footer.region.right])
    shown = [k for k in keys if k.region.width and k.region.right <= right]
    return [(k.key_display, k.description) for k in sorted(shown, key=lambda k: k.region.x)]


async def drawn_keys(pilot: Any, timeout: float = 30.0) -> list[tuple[str, str]]:
    """The footer's visible keys once it is composed (after the screen's bindings are
    known) and laid out; fails at the deadline, where a count of tries said nothing."""
    deadline = time.monotonic() + timeout
    while True:
        await refreshed(pilot.app.screen)
        shown = visible_keys(pilot.app)
        if shown:
            return shown
        assert time.monotonic() < deadline, "the footer never showed a key"
        await pilot.pause(0.02)


async def replay_screen(pilot: Any, timeout: float = 30.0) -> None:
    """Until the replay screen is the app's (it is pushed once the trace is opened)."""
    deadline = time.monotonic() + timeout
    while not isinstance(pilot.app.screen, ReplayScreen):
        assert time.monotonic() < deadline, "the replay screen never came"
        await pilot.pause(0.02)


@pytest.mark.parametrize("size", SIZES)
async def test_session_footer_starts_with_step_mode_and_pace(size: tuple[int, int]) -> None:
    app = recorded_app("pipe-basic")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        shown = await drawn_keys(pilot)
    assert shown[:5] == [
        ("t", "step mode"),
        ("s", "step"),
        ("n", "random"),
        ("<", "slower"),
        (">", "faster"),
    ], shown
    keys = [k for k, _ in shown]
    assert "?" in keys and "q" in keys
    if size[0] >= 120:
        assert "space" in keys


@pytest.mark.parametrize("size", SIZES)
async def test_replay_footer_shows_replay_keys_first(size: tuple[int, int]) -> None:
    app = replay_app(TRACES / "pipe-basic.jsonl")
    async with app.run_test(size=size) as pilot:
        await replay_screen(pilot)
        shown = await drawn_keys(pilot)
    keys = [k for k, _ in shown]
    assert keys[:5] == ["space", "→", "←", "n", "N"], shown
    assert {"?", "q"} <= set(keys), shown
    assert "t" not in keys and "s" not in keys  # live-only: not offered in a replay
    if size[0] >= 120:
        assert {">", "<"} <= set(keys), shown


@pytest.mark.parametrize("size", SIZES)
async def test_presenter_footer_starts_with_narration_and_pace(size: tuple[int, int]) -> None:
    app = present_app(TRACES / "sysv-mq-typed.jsonl")
    async with app.run_test(size=size) as pilot:
        shown = await drawn_keys(pilot)
    keys = [k for k, _ in shown]
    assert keys[:2] == ["→", "←"], shown
    assert {"?", "q"} <= set(keys), shown


@pytest.mark.parametrize("size", SIZES)
def test_replay_footer_snapshot(snap_compare, size: tuple[int, int]) -> None:
    async def ready(pilot) -> None:
        await replay_screen(pilot)
        screen = pilot.app.screen
        deadline = time.monotonic() + 30
        # the whole trace indexed, and the timeline says so (not "indexing N%")
        while not (screen.index.done and screen._counted == screen.index.count):
            assert time.monotonic() < deadline, "the trace never indexed"
            await pilot.pause(0.02)
        await drawn_keys(pilot)

    app = replay_app(TRACES / "pipe-basic.jsonl")
    assert snap_compare(app, terminal_size=size, run_before=ready)
