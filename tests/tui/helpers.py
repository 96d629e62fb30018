"""Shared helpers of the TUI tests: apps fed from recorded fixture traces."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen

from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import RecordedFeed
from ipcviz.tui.screens.session import SessionScreen

TRACES = Path(__file__).parent / "traces"


def load(name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = (TRACES / f"{name}.jsonl").read_text().splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def recorded_app(name: str, upto: int | None = None, lang: str = "en") -> IpcvizApp:
    """The session screen fed with the first ``upto`` events of a fixture trace."""
    header, events = load(name)
    events = events if upto is None else events[:upto]
    return IpcvizApp(lambda: RecordedFeed(header, list(events)), lang=lang)


async def settle(pilot: Pilot, timeout: float = 10.0) -> SessionScreen:
    """Wait until every event of the feed is applied, then redraw once more."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        screen = pilot.app.screen
        if isinstance(screen, SessionScreen) and screen.feed is not None and screen.feed.finished:
            break
        assert time.monotonic() < deadline, "the feed never finished"
        await pilot.pause(0.02)
    screen.tick()
    # Redraw until two frames agree: a panel drawn while its height was still being laid
    # out (a loaded machine) shows fewer rows until the next frame, and an idle screen
    # redraws only once a second, which a snapshot does not wait for.
    previous = None
    for _ in range(10):
        screen.redraw(True)
        await pilot.pause()
        await pilot.pause()
        frame = pilot.app.export_screenshot()
        if frame == previous and not _tables_pending(pilot):
            break
        previous = frame
    return screen


def _tables_pending(pilot: Pilot) -> bool:
    """Whether a table of the screen still owes its columns their widths: a DataTable
    measures them when it is next idle, and two frames drawn before that agree (a loaded
    CI machine drew the process table's name column 6 cells wide, not 12)."""
    from textual.widgets import DataTable

    return any(
        getattr(t, "_require_update_dimensions", False) or getattr(t, "_updated_cells", None)
        for t in pilot.app.screen.query(DataTable)
    )


async def refreshed(screen: Screen, timeout: float = 30.0) -> None:
    """Until ``screen`` has handled what it was sent, laid out and repainted anything
    pending, and run the callbacks scheduled before (``call_after_refresh``, such as the
    redraw ``v`` asks for): Textual runs a ``call_after_refresh`` only then. The real
    condition, where a pause only hoped the layout was done."""
    await asyncio.wait_for(screen.wait_for_refresh(), timeout)
