"""Event log lines for the TUI, in the headless narrator's words (so live, replay and the
plain-text log read the same), coloured by process. Formatted lazily: only what is visible."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment

from ipcviz import bytefmt
from ipcviz.model.state import State
from ipcviz.narrate import headless
from ipcviz.tui import render

Event = dict[str, Any]


class EventFormatter:
    """Turns one event into one line of segments at a width."""

    def __init__(self, header: dict[str, Any], lang: str = "en") -> None:
        self.narrator = headless.Narrator(header, lang)

    def set_lang(self, lang: str) -> None:
        self.narrator.lang = lang

    def text(self, state: State, event: Event) -> str:
        """The narrator's text for ``event`` (already inert), first line only."""
        self.narrator.state = state
        fn = headless._FORMATS.get(event["kind"])
        try:
            text = (
                event["kind"] + headless._fields(event) if fn is None else fn(self.narrator, event)
            )
        except Exception:  # the state moved on (e.g. object gone): fall back to raw fields
            text = event["kind"] + headless._fields(event)
        text = text or event["kind"]
        return bytefmt.safe_text(text.split("\n", 1)[0], 400)

    def line(self, state: State, event: Event, width: int) -> render.Line:
        pid = event.get("pid", 0)
        stamp = f"{event.get('t', 0) / 1e9:8.3f} "
        if pid:
            who, style = render.proc_label(state, pid)
        else:
            who, style = "·", render.DIM
        out = render.Lines(width)
        out.add(stamp, render.DIM)
        out.add(f"{who:<14} ", style)
        out.add(self.text(state, event), render.FG)
        lines = out.finish()
        return lines[0] if lines else [Segment(" ", render.FG)]
