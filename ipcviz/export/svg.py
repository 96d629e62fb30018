"""Handouts: one SVG screenshot of the session screen per narration step.

The trace is replayed into the model by its :class:`~ipcviz.replay.TraceIndex` (never into
the kernel: nothing runs), and the real session screen is drawn headless by Textual
(``App.run_test``) at each ``narrate`` event:
the handout shows exactly what the lecture hall saw at that step. ``export_html`` puts the
pictures in one self-contained page with the narration beside each.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ipcviz import bytefmt
from ipcviz.errors import IpcvizError

if TYPE_CHECKING:
    from ipcviz.replay import TraceIndex

#: Terminal size of a handout picture (columns, rows): wide enough for the two-column layout.
SIZE = (160, 48)
#: How many events the picture's event log shows (the last ones before the step).
LOG_EVENTS = 200
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
#: Rich's SVG asks a CDN for its font; handouts must work offline, so only local() stays.
_FONT_URL = re.compile(r',\s*url\("https?://[^"]*"\)\s*format\("[^"]*"\)')


@dataclass
class Shot:
    """One narration step as drawn: its number, id, texts and the SVG picture."""

    n: int
    step: str
    info: dict[str, Any]
    svg: str
    t: float = 0.0
    who: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: The event log as drawn in the picture (plain text): what a test can read back.
    log: list[str] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return f"{self.n:02d}-{_SAFE_NAME.sub('_', self.step)[:40] or 'step'}.svg"


def offline_svg(svg: str) -> str:
    """The SVG without the web font URLs (local fonts, then monospace, are used)."""
    return _FONT_URL.sub("", svg)


def each_shot(
    trace: Path,
    on_shot: Callable[[Shot], None],
    size: tuple[int, int] = SIZE,
    on_header: Callable[[dict[str, Any]], object] | None = None,
) -> dict[str, Any]:
    """Call ``on_shot`` with each narration step's :class:`Shot` as it is drawn; returns the
    header. The model at each step comes from the trace's :class:`TraceIndex` (offsets and
    checkpoints, walked forward with one cursor), and each shot is handed on at once, so
    memory does not grow with the number of steps (a long lecture is written as it is made)."""
    from ipcviz.replay import TraceIndex

    index = TraceIndex.open(trace).build()  # TraceError (an IpcvizError, exit 2): bad input
    if not index.narrations:
        raise IpcvizError(
            f"{bytefmt.safe_text(str(trace), 300)}: the trace has no narration steps: "
            "no handout to make"
        )
    if on_header is not None:
        on_header(index.header)
    asyncio.run(_shoot(index, size, on_shot))
    return index.header


def screenshots(trace: Path, size: tuple[int, int] = SIZE) -> tuple[dict[str, Any], list[Shot]]:
    """The trace's header and one :class:`Shot` per narration step, in order (in memory:
    for tests and small traces; the exporters stream with :func:`each_shot`)."""
    shots: list[Shot] = []
    header = each_shot(trace, shots.append, size)
    return header, shots


async def _shoot(index: TraceIndex, size: tuple[int, int], on_shot: Callable[[Shot], None]) -> int:
    from ipcviz.tui.app import IpcvizApp
    from ipcviz.tui.eventfmt import LogWindow
    from ipcviz.tui.session import SessionScreen
    from ipcviz.tui.widgets import EventLog

    header = index.header
    lang = str(header.get("lang") or "en")
    cursor = index.cursor()  # the model at each step: steps only go forward
    # the picture's log: the last events before the step, each worded from its own moment
    window = LogWindow(header, index.state_at, index.events, LOG_EVENTS)
    app = IpcvizApp(state=cursor.seek(-1), lang=lang)
    steps = {s.get("id"): s for s in header.get("scenario", {}).get("steps", [])}
    title = f"ipcviz · {header.get('scenario', {}).get('id', '')} · step"
    n = 0
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        screen.stop()  # no frame timer: each picture is drawn once, below, not 15 times a second
        for n, i in enumerate(index.narrations, 1):
            screen.set_log_lines(list(window.at(i)))
            state = cursor.seek(i)
            before = _sizes(screen)
            screen.show_state(state)
            await pilot.pause()
            for _ in range(3):  # the new state moved the layout: draw again at the new sizes
                after = _sizes(screen)
                if after == before:
                    break
                before = after
                screen.redraw(True)
                await pilot.pause()
            event = index.event(i)
            step = str(event.get("step", ""))
            svg = app.export_screenshot(title=bytefmt.safe_text(f"{title} {n}: {step}", 120))
            on_shot(
                Shot(
                    n,
                    step,
                    steps.get(step, {}),
                    offline_svg(svg),
                    t=event.get("t", 0) / 1e9,
                    who=state.proc_name(event.get("pid", 0)),
                    log=screen.query_one(EventLog).plain_lines(),
                )
            )
        app.exit(None)
    return n


def _sizes(screen: Any) -> list[Any]:
    """Every widget's region: a panel's text is cut to the width it had when drawn."""
    return [w.region for w in screen.walk_children()]


def export_svg(trace: Path, output: Path, force: bool = False) -> int:
    """``ipcviz export TRACE --format svg -o DIR``: DIR/NN-STEP.svg for every step.

    Files are created new in DIR (``ipcviz.export.files``); ``--force`` replaces only the
    files an earlier export wrote there and says which other files it kept.
    """
    from ipcviz.export.files import ExportDir

    out = ExportDir(output, force).open()
    try:
        each_shot(trace, lambda shot: out.write(shot.filename, shot.svg))
        out.finish()
    except BaseException:  # a bad line further on: no half set of pictures is left
        out.abandon()
        raise
    if out.removed:
        print(f"replaced an earlier export: removed its {len(out.removed)} file(s)")
    kept = out.kept_line()
    if kept:
        print(f"ipcviz: {kept}", file=sys.stderr)
    print(f"wrote {len(out.written)} SVG file(s) to {output}")
    return 0
