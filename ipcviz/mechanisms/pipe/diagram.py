"""A pipe or FIFO in the diagram view: a tube filling with its bytes, each write in its
writer's colour (the lecture's figure: writer → [ tube ] → reader).

The bytes are in the order they will be read: the next byte out is the first one. Rows of
styled segments (``ipcviz.draw.diagram_kit``), no Textual.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len

from ipcviz import bytefmt
from ipcviz.draw import diagram_kit as k
from ipcviz.draw import render as r
from ipcviz.i18n import _
from ipcviz.mechanisms.pipe.state import PipeObj
from ipcviz.mechanisms.pipe.view import unrecorded
from ipcviz.model.state import State


def captions(state: State, obj: PipeObj) -> list[str]:
    """The caption, then without the capacity ("0 B · EOF"), for a narrow box."""
    full = caption(state, obj)
    text = _("{n} B traced").format(n=obj.nbytes) if obj.outside else f"{obj.nbytes} B"
    if obj.eof:
        text += " · EOF"
    if obj.epipe:
        text += f" · EPIPE×{obj.epipe}"
    return [full, text]


def caption(state: State, obj: PipeObj) -> str:
    """What the box's top border says beside the name: the fill and the end of the stream."""
    text = f"{obj.nbytes}/{obj.capacity} B"
    if obj.outside:  # it may hold bytes no event shows: the traced ones are counted
        text = _("{n}/{capacity} B traced").format(n=obj.nbytes, capacity=obj.capacity)
    if obj.eof:
        text += " · EOF"
    if obj.epipe:
        text += f" · EPIPE×{obj.epipe}"
    if obj.stale:
        text += " · " + _("{n} B may be gone").format(n=obj.stale)
    unknown = unrecorded(state, obj)
    if unknown:
        text += " · " + _("{n} B not recorded").format(n=unknown)
    return text


def draw(state: State, obj: PipeObj, width: int, rows: int, lit: bool) -> list[k.Line]:
    """The tube: its walls when there are 3 rows or more, the bytes between them."""
    walls = rows >= 3
    inner = max(1, rows - 2 if walls else rows)
    cells: list[tuple[str, Any]] = []
    budget = width * inner
    last = len(obj.chunks) - 1
    faint = obj.stale  # the first bytes may be gone (a FIFO's last close): drawn faint
    for i, chunk in enumerate(obj.chunks):
        pid, data = chunk[0], chunk[1]
        hot = lit and i == last and obj.last_change_seq == state.seq
        style = r.cell_style(r.color_of(state, pid), bool(i % 2), hot)
        ghost = r.faint_style(r.color_of(state, pid), bool(i % 2)) if faint else style
        known = chunk[2] if len(chunk) > 2 else None  # (past it: not recorded)
        for ch in bytefmt.byte_cells(data[: budget - len(cells)], known):
            cells.append((ch, ghost if len(cells) < faint else style))
        if len(cells) >= budget:
            break
    if len(cells) >= budget and obj.nbytes > budget:
        # the label counts exactly the bytes not drawn: it takes the room of the longest
        # label (a shorter one leaves a hole), so a count with one digit fewer is not off
        shown = max(0, budget - len(f"…+{obj.nbytes} B"))
        more = f"…+{obj.nbytes - shown} B"
        cells = cells[:shown] + [(ch, k.LABEL) for ch in more]
    out: list[k.Line] = []
    if walls:
        out.append(k.text_line(width, "═" * width, k.TUBE))
    for y in range(inner):
        row = k.Row(width)
        row.add_cells(cells[y * width : (y + 1) * width])
        if not obj.nbytes and y == 0:
            row.add(" " + _("empty"), k.HOLE)
        elif faint and y == (len(cells) - 1) // width:  # after the bytes, where room is
            said = " " + _("{n} B may be gone").format(n=faint)
            if cell_len(said) <= width - (len(cells) - y * width):
                row.add(said, k.WAITING)
        out.append(row.done("·", k.HOLE))
    if walls:
        out.append(k.text_line(width, "═" * width, k.TUBE))
    return out


def holders(state: State, obj: PipeObj) -> dict[int, str]:
    """Processes that hold one end only, as the edge they will use: the child that will
    read is drawn before its first read (the lecture's parent → pipe → child)."""
    out: dict[int, str] = {}
    for pid in obj.writers - obj.readers:
        out[pid] = "write"
    for pid in obj.readers - obj.writers:
        out[pid] = "read"
    return out


def rows_wanted(state: State, obj: PipeObj, width: int) -> int:
    """Rows to show every byte (walls included), so a roomy screen need not cut it."""
    return 2 + max(1, -(-obj.nbytes // max(1, width)))


def rows_least(state: State, obj: PipeObj, width: int) -> int:
    return 1


def signature(obj: PipeObj) -> tuple[Any, ...]:
    return (obj.written, obj.read, obj.eof, obj.epipe, obj.stale)
