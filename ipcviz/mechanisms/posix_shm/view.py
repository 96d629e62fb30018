"""How shared memory is drawn: its cells on their last writer's colour, where it is mapped."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len

from ipcviz import bytefmt
from ipcviz.draw import render as r
from ipcviz.i18n import _
from ipcviz.mechanisms.posix_shm.diagram import cells_said, writes_said
from ipcviz.mechanisms.posix_shm.state import ShmObj
from ipcviz.model.state import State


def shm_lines(state: State, obj: ShmObj, width: int, rows: int = 8) -> list[r.Line]:
    out = r.Lines(width)
    r.title(out, obj)
    probed = obj.probed_data()
    if probed is None:
        said = _("{cells} × {size} B, {writes}").format(
            cells=cells_said(obj.cells), size=obj.cell_size, writes=writes_said(obj.writes)
        )
        out.add(f"  {said}", r.DIM)
    else:  # a program's segment (strace): no call shows a store, only the probe's reading
        if obj.kernel:
            label, _style = r.kernel_label(obj, state.t)
            read = _("as the kernel probe read them ({when})").format(
                when=label.strip().rstrip(":")
            )
        else:
            read = _("not read yet (no system call shows a store)")
        said = _("{cells} × {size} B, {read}").format(
            cells=cells_said(obj.cells), size=obj.cell_size, read=read
        )
        # the reading's age must stay: after a System V title (58 columns at 120x40) the
        # line was cut before it, and a probed cell beside traced counts showed no age
        if cell_len(f"  {said}") > out.room():
            out.newline()
            if cell_len(f"  {said}") > out.room():
                said = read
        out.add(f"  {said}", r.KERNEL)
    out.newline()
    recent = state.seq - 3 * max(1, len(state.procs))
    data, size = obj.data if probed is None else probed, obj.cell_size
    unread = obj.unread()  # its cells are unknown, not 0: "?"
    if obj.cells <= 64:
        values = (
            ["?"] * obj.cells
            if unread
            else [_cell_value(data[i * size : (i + 1) * size]) for i in range(obj.cells)]
        )
        # few cells: big boxes, each a space before its value (right-aligned) and after it:
        # a 14-digit value filled its box and met the panel's border
        cw = max(7, max((len(v) for v in values), default=1) + 2)
        per_row = max(1, out.width // cw)
    else:
        values = []
        cw = 1
        per_row = out.width
    if cw > 1 and (obj.cells + per_row - 1) // per_row > rows:
        cw, per_row = 1, out.width
    if cw == 1:  # many cells: one character each, only for the rows that are shown
        shown = min(obj.cells, per_row * rows)
        zero = bytes(size)
        values = (
            ["?"] * shown
            if unread
            else ["·" if data[i * size : (i + 1) * size] == zero else "▪" for i in range(shown)]
        )
    for shown_rows, start in enumerate(range(0, obj.cells, per_row)):
        if shown_rows >= rows:
            out.add("…" + _("{n} more cells").format(n=obj.cells - start), r.DIM)
            out.newline()
            break
        for i in range(start, min(obj.cells, start + per_row)):
            pid = obj.last_writer[i]
            hot = obj.changed_seq[i] >= recent and obj.changed_seq[i] >= 0
            style = r.cell_style(r.color_of(state, pid), hot=hot) if pid else r.EMPTY
            if probed is not None:  # whose store it was is not known: the kernel's colour
                style = r.KERNEL if probed[i * size : (i + 1) * size].strip(b"\0") else r.EMPTY
            out.add(values[i].rjust(cw - 1) + (" " if cw > 1 else ""), style)
        out.newline()
    maps = obj.kernel.get("addresses") or obj.kernel.get("maps")
    if isinstance(maps, dict) and maps:
        out.add(" " + _("mapped at:") + " ", r.KERNEL)
        for pid_s, addr in maps.items():
            pid = int(pid_s) if str(pid_s).isdigit() else 0
            text, style = r.proc_label(state, pid)
            shown = f"{addr:#x}" if isinstance(addr, int) else bytefmt.safe_text(str(addr), 20)
            out.add(f"{text} {shown}  ", style)
        out.newline()
    r.kernel_fields(out, obj, skip=("addresses", "maps"), now=state.t)
    return out.finish()


def _cell_value(raw: bytes | bytearray) -> str:
    if len(raw) <= 8:
        return str(int.from_bytes(raw, "little", signed=True))
    return bytes(raw[:4]).hex() + "…"


def lines(state: State, obj: ShmObj, width: int, rows: int = 3) -> list[r.Line]:
    return shm_lines(state, obj, width, max(rows * 3, 4))


def signature(obj: ShmObj) -> tuple[Any, ...]:
    return (obj.writes, obj.reads)
