"""Handouts: one SVG screenshot of the session screen per narration step.

The trace is replayed into the model (never into the kernel: nothing runs), and the real
session screen is drawn headless by Textual (``App.run_test``) at each ``narrate`` event:
the handout shows exactly what the lecture hall saw at that step. ``export_html`` puts the
pictures in one self-contained page with the narration beside each.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipcviz import bytefmt
from ipcviz.errors import IpcvizError

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
    header. The trace is streamed and each shot handed on at once, so memory does not grow
    with the trace (a handout of a long run is written as it is made)."""
    from ipcviz.events.trace import TraceReader

    reader = TraceReader.open(trace)  # TraceError (an IpcvizError, exit 2) for bad input
    header = reader.header
    if on_header is not None:
        on_header(header)
    lang = str(header.get("lang") or "en")
    count = asyncio.run(_shoot(header, reader.events(), lang, size, on_shot))
    if not count:
        raise IpcvizError(
            f"{bytefmt.safe_text(str(trace), 300)}: the trace has no narration steps: "
            "no handout to make"
        )
    return header


def screenshots(trace: Path, size: tuple[int, int] = SIZE) -> tuple[dict[str, Any], list[Shot]]:
    """The trace's header and one :class:`Shot` per narration step, in order (in memory:
    for tests and small traces; the exporters stream with :func:`each_shot`)."""
    shots: list[Shot] = []
    header = each_shot(trace, shots.append, size)
    return header, shots


async def _shoot(
    header: dict[str, Any],
    events: Iterable[dict[str, Any]],
    lang: str,
    size: tuple[int, int],
    on_shot: Callable[[Shot], None],
) -> int:
    from ipcviz.model.state import State
    from ipcviz.narrate.headless import Narrator
    from ipcviz.tui.app import IpcvizApp
    from ipcviz.tui.eventfmt import LogLine, record
    from ipcviz.tui.session import SessionScreen
    from ipcviz.tui.widgets import EventLog

    state = State(header=header)
    narrator = Narrator(header, lang, state=state)  # applies each event and words it then
    log: deque[LogLine] = deque()  # what the picture's log shows, each line of its moment
    app = IpcvizApp(state=state, lang=lang)
    steps = {s.get("id"): s for s in header.get("scenario", {}).get("steps", [])}
    n = 0
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        for i, event in enumerate(events):
            line = record(narrator, event, i)
            if line is not None:
                log.append(line)
            while log and log[0].index <= i - LOG_EVENTS:
                log.popleft()
            if event.get("kind") != "narrate":
                continue
            screen.set_log_lines(list(log))
            screen.show_state(state)
            await pilot.pause()
            step = str(event.get("step", ""))
            n += 1
            title = f"ipcviz · {header.get('scenario', {}).get('id', '')} · step {n}: {step}"
            svg = app.export_screenshot(title=bytefmt.safe_text(title, 120))
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


def export_svg(trace: Path, output: Path) -> int:
    """``ipcviz export TRACE --format svg -o DIR``: DIR/NN-STEP.svg for every step."""
    if output.exists() and not output.is_dir():
        raise IpcvizError(f"-o {output}: exists and is not a directory (svg writes one per step)")

    def write(shot: Shot) -> None:
        path = output / shot.filename
        try:
            output.mkdir(parents=True, exist_ok=True)
            path.write_text(shot.svg, encoding="utf-8")
        except OSError as exc:
            raise IpcvizError(f"cannot write {output}: {exc.strerror}") from None
        written.append(path)

    written: list[Path] = []
    try:
        each_shot(trace, write)
    except BaseException:  # a bad line further on: no half set of pictures is left
        for path in written:
            path.unlink(missing_ok=True)
        raise
    print(f"wrote {len(written)} SVG file(s) to {output}")
    return 0
