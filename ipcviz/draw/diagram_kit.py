"""Small pieces the diagram view draws with: fixed-width rows of styled segments.

No Textual (the mechanisms' ``diagram.py`` modules, the layout and the tests use it).
Every text handed to ``Row.add`` is already inert (made by ``ipcviz.bytefmt``); a
``Segment`` is never parsed as markup.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

from ipcviz import bytefmt
from ipcviz.draw import palette as P
from ipcviz.draw import render as r
from ipcviz.i18n import _
from ipcviz.model.state import State

Line = list[Segment]

#: A box or tube's outline, and the space inside an object that holds nothing.
FRAME = Style(color=P.FRAME)
TUBE = Style(color=P.TUBE)
HOLE = Style(color=P.HOLE)
LABEL = Style(color=P.SILVER)
NAME = Style(color=P.WHITE, bold=True)
WAITING = Style(color=P.AMBER, bold=True)
#: The object an operation just changed: its outline is drawn in this colour.
LIT_FRAME = Style(color=P.WHITE, bold=True)


def cut(text: str, cells: int) -> str:
    """``text`` in at most ``cells`` cells (``…`` marks a cut)."""
    if cells <= 0:
        return ""
    if cell_len(text) <= cells:
        return text
    out, used = [], 0
    for ch in text:
        w = cell_len(ch)
        if used + w > cells - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def cut_middle(text: str, cells: int) -> str:
    """``text`` in at most ``cells`` cells, its end kept (``produ…r1``): names that differ
    only at their end (``producer1``, ``producer2``) stay apart, where ``cut`` made both
    ``produc…``, told apart by colour alone."""
    if cell_len(text) <= cells or cells < 4:
        return cut(text, cells)
    tail = max(1, (cells - 1) // 3)
    end, used = [], 0
    for ch in reversed(text):
        w = cell_len(ch)
        if used + w > tail:
            break
        end.append(ch)
        used += w
    return cut(text, cells - used)[:-1] + "…" + "".join(reversed(end))


def ljust(text: str, cells: int, fill: str = " ") -> str:
    """``text`` padded on the right to ``cells`` cells (``str.ljust`` counts characters;
    a Korean one takes two cells)."""
    return text + fill * max(0, cells - cell_len(text))


def rjust(text: str, cells: int, fill: str = " ") -> str:
    """``text`` padded on the left to ``cells`` cells."""
    return fill * max(0, cells - cell_len(text)) + text


def center(text: str, cells: int, fill: str = " ") -> str:
    """``text`` centred in ``cells`` cells (as ``str.center`` places it, by cells)."""
    pad = max(0, cells - cell_len(text))
    left = pad // 2 + (pad & cells & 1)  # str.center's rounding
    return fill * left + text + fill * (pad - left)


class Row:
    """One line of exactly ``width`` cells (``done`` pads it with blanks)."""

    def __init__(self, width: int) -> None:
        self.width = max(0, width)
        self.segments: Line = []
        self.used = 0

    def room(self) -> int:
        return self.width - self.used

    def add(self, text: str, style: Style = r.FG) -> Row:
        """Append ``text`` (already inert), cut with ``…`` when it does not fit."""
        if not text:
            return self
        room = self.width - self.used
        n = len(text) if text.isascii() else cell_len(text)
        if n > room:
            text = cut(text, room)
            n = cell_len(text)
        if text:
            self.segments.append(Segment(text, style))
            self.used += n
        return self

    def add_cells(self, cells: list[tuple[str, Style]]) -> Row:
        """One-cell characters with their styles; runs of one style become one segment."""
        run: list[str] = []
        style: Style | None = None
        for ch, st in cells:
            if st is not style and run:
                self.add("".join(run), style or r.FG)
                run = []
            style = st
            run.append(ch)
        if run:
            self.add("".join(run), style or r.FG)
        return self

    def done(self, fill: str = " ", style: Style = r.FG) -> Line:
        if self.used < self.width:
            self.segments.append(Segment(fill * (self.width - self.used), style))
            self.used = self.width
        return self.segments


def text_line(width: int, text: str, style: Style = r.FG) -> Line:
    return Row(width).add(text, style).done()


def blank(width: int) -> Line:
    return [Segment(" " * max(0, width), r.FG)]


def proc_name(state: State, pid: int, limit: int = 16) -> tuple[str, Style]:
    """A process's name (untrusted: made inert) in its colour, in at most ``limit`` cells
    (cut with one ``…``, its end kept: safe_text's own ``…(+N)`` would not fit a small box)."""
    name = cut_middle(bytefmt.safe_text(state.proc_name(pid), 256), limit)
    return name, r.fg(r.color_of(state, pid), True)


def chip(state: State, pid: int, limit: int = 16) -> tuple[str, Style]:
    """A process's name on its colour, like a cell it wrote."""
    name, _ = proc_name(state, pid, limit)
    return f" {name} ", r.cell_style(r.color_of(state, pid))


def sleepers(row: Row, state: State, pids: list[int], label: str) -> None:
    """``label`` then the sleeping processes in the order they will wake, by name."""
    row.add(label, LABEL)
    if not pids:
        row.add(" " + _("nobody"), HOLE)
    for i, pid in enumerate(pids):
        if i:
            row.add(" ← ", LABEL)
        text, style = chip(state, pid, 12)
        row.add(text, style)
