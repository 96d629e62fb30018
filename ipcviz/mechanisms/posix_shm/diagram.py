"""Shared memory (POSIX, System V, a mapped file) in the diagram view: a grid of cells, each
with its name above its value, the value on its last writer's colour. The lecture's figure:
two address spaces sharing one region, no medium in between (T26).

Names come from the scenario (``cells={"slots": 5, "in": 1, ...}``, declared as ``names``:
``[[name, first cell, count], ...]``); cells it did not name are numbered. A trace is
untrusted input: a malformed ``names`` is ignored. Rows of styled segments, no Textual.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len

from ipcviz.draw import diagram_kit as k
from ipcviz.draw import render as r
from ipcviz.i18n import _, ngettext
from ipcviz.mechanisms.posix_shm.state import ShmObj
from ipcviz.model.state import State

#: The widest cell (name or value) drawn in full; longer ones are cut.
MAX_CELL = 12
#: More cells than this are drawn one character each, without names (a 2 MiB ring).
MAX_GRID = 256


def cells_said(n: int) -> str:
    """ "1 cell", "8 cells": a count said in the language shown (English has a plural)."""
    return ngettext("{n} cell", "{n} cells", n).format(n=n)


def writes_said(n: int) -> str:
    """ "1 write", "37 writes" (the caption said "1 writes")."""
    return ngettext("{n} write", "{n} writes", n).format(n=n)


def captions(state: State, obj: ShmObj) -> list[str]:
    """The caption, then a shorter form for a narrow box: the reading's age stays, the
    word "kernel" goes ("2 cells · as read (12ms ago)"); "not read yet" goes (the cells
    say "?")."""
    full = caption(state, obj)
    if obj.probed_data() is not None and obj.unread():  # its cells say "?" inside
        return [full, cells_said(obj.cells)]
    if obj.probed_data() is None:  # the cells are drawn inside: the writes say more
        return [full, writes_said(obj.writes)]
    when = r.reading_age(obj.kernel, state.t)
    if not when:
        return [full]
    if obj.kernel_is_stale():
        how = _("as read (before the last change, {when})").format(when=when)
        short = [f"{cells_said(obj.cells)} · {how}"]
    else:
        short = []
    how = _("as read ({when})").format(when=when)
    return [full, *short, f"{cells_said(obj.cells)} · {how}"]


def caption(state: State, obj: ShmObj) -> str:
    if obj.probed_data() is not None:  # a program's segment (strace): only read, never seen
        if obj.unread():
            how = _("not read yet")
        else:  # how old the reading is: the program may have moved on since
            how = _("as read ({when})").format(when=r.kernel_label(obj, state.t)[0].strip(" :"))
        return f"{cells_said(obj.cells)} · {how}"
    return f"{cells_said(obj.cells)} · {writes_said(obj.writes)}"


def cell_names(obj: ShmObj) -> list[str]:
    """One label per cell: ``in``, ``slots[0]``, ``[1]``…; ``0``, ``1``… when unnamed."""
    labels = [str(i) for i in range(obj.cells)]
    for i, name, j, count in obj.named_cells(MAX_CELL):
        labels[i] = name if count == 1 else (f"{name}[{j}]" if j == 0 else f"[{j}]")
    return labels


def _cells(obj: ShmObj) -> bytearray:
    """What to draw: the model's cells, or a traced program's as the probe read them."""
    probed = obj.probed_data()
    return obj.data if probed is None else probed


def _value(raw: bytes | bytearray) -> str:
    if len(raw) <= 8:
        return str(int.from_bytes(raw, "little", signed=True))
    return bytes(raw[:4]).hex() + "…"


#: Decimals of a number too long for its cell, in exponent form: few, so that it reads as a
#: size, not as an exact value (which the detail view shows in full).
SHORT_DECIMALS = 3


def fit_number(text: str, cells: int) -> str:
    """``text`` if it fits ``cells`` cells. A whole number that does not is shown by its size
    in exponent form, which cannot be taken for the exact value: 53363261542119 in 12 cells
    is "5.336e13", where cutting it gave "53363261542…", which reads as 53 billion and
    something. Any other text (a hex prefix) is cut, ending in "…"."""
    if cell_len(text) <= cells:
        return text
    try:
        number = int(text)
    except ValueError:
        return k.cut(text, cells)
    for decimals in range(SHORT_DECIMALS, -1, -1):
        mantissa, _e, exponent = f"{number:.{decimals}e}".partition("e")
        short = f"{mantissa}e{int(exponent)}"
        if len(short) <= cells:
            return short
    return k.cut(text, cells)


def _grid(obj: ShmObj, width: int) -> tuple[list[str], list[str], list[int], list[list[int]]]:
    """Labels, values, cell widths and the cells of each grid row at ``width``."""
    size, data = obj.cell_size, _cells(obj)
    labels = cell_names(obj)
    values = (
        ["?"] * obj.cells  # unknown, not 0
        if obj.unread()
        else [
            fit_number(_value(data[i * size : (i + 1) * size]), MAX_CELL) for i in range(obj.cells)
        ]
    )
    widths = [
        min(MAX_CELL, max(cell_len(a), cell_len(b), 3)) + 1
        for a, b in zip(labels, values, strict=True)
    ]
    grid: list[list[int]] = [[]]
    used = 0
    for i, w in enumerate(widths):
        if grid[-1] and used + w > width:
            grid.append([])
            used = 0
        grid[-1].append(i)
        used += w
    return labels, values, widths, grid


def draw(state: State, obj: ShmObj, width: int, rows: int, lit: bool) -> list[k.Line]:
    """Name above value, as many cells a row as fit; one character a cell when they do not."""
    size, data = obj.cell_size, _cells(obj)
    out: list[k.Line] = []
    labels, values, widths, grid = _grid(obj, width) if obj.cells <= MAX_GRID else ([], [], [], [])
    if grid and (2 * len(grid) <= rows or (rows >= 2 and len(grid) == 1)):
        for cells in grid:
            top, bottom = k.Row(width), k.Row(width)
            for i in cells:
                w = widths[i]
                top.add(k.ljust(k.cut(labels[i], w - 1), w), k.LABEL)
                bottom.add(k.cut(values[i], w - 1).rjust(w - 1), _style(state, obj, i, lit))
                bottom.add(" ")
            out += [top.done(), bottom.done()]
        if len(out) < rows and obj.probed_data() is not None and not obj.unread():
            # the cells are a reading: its age under them too (a narrow box cuts the caption)
            label, style = r.kernel_label(obj, state.t)
            out.append(k.text_line(width, " " + label.strip(" :"), style))
        return out
    # Too many for the rows: one character a cell (· never written, ▪ written, ? unread).
    zero, unread = bytes(size), obj.unread()
    for y in range(max(1, rows)):
        row = k.Row(width)
        row.add_cells(
            [
                (
                    "?" if unread else "·" if data[i * size : (i + 1) * size] == zero else "▪",
                    _style(state, obj, i, lit),
                )
                for i in range(y * width, min(obj.cells, (y + 1) * width))
            ]
        )
        out.append(row.done())
        if (y + 1) * width >= obj.cells:
            break
    return out


def _style(state: State, obj: ShmObj, i: int, lit: bool) -> Any:
    pid = obj.last_writer[i] if i < len(obj.last_writer) else 0
    if not pid:
        return k.HOLE
    hot = lit and obj.changed_seq[i] == obj.last_change_seq
    return r.cell_style(r.color_of(state, pid), hot=hot)


def rows_wanted(state: State, obj: ShmObj, width: int) -> int:
    if obj.cells > MAX_GRID:
        return 2
    aged = obj.probed_data() is not None and not obj.unread()  # a reading's age, last
    return 2 * len(_grid(obj, width)[3]) + aged


def rows_least(state: State, obj: ShmObj, width: int) -> int:
    """Names matter more than room: two grid rows at most before one character a cell."""
    if obj.cells > MAX_GRID:
        return 2
    return min(4, 2 * len(_grid(obj, width)[3]))  # the age's row only where there is room


def signature(obj: ShmObj) -> tuple[Any, ...]:
    return (obj.writes, obj.reads)
