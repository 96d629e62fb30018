"""How a pipe or FIFO is drawn: who holds each end, the fill, the bytes by writer.

Lines of rich segments (``ipcviz.draw.render``'s toolkit, no Textual): the session screen,
the handouts and the tests draw them.
"""

from __future__ import annotations

import base64
from typing import Any

from rich.cells import cell_len

from ipcviz import bytefmt
from ipcviz.draw import render as r
from ipcviz.i18n import _, ngettext
from ipcviz.mechanisms.pipe.state import PipeObj
from ipcviz.model.state import Obj, State


def pipe_lines(state: State, obj: PipeObj, width: int, rows: int = 3) -> list[r.Line]:
    out = r.Lines(width)
    r.title(out, obj)
    if obj.eof:
        out.add("  EOF", r.WARN)
    if obj.epipe:
        out.add(f"  EPIPE×{obj.epipe}", r.BAD)
    out.newline()
    k = obj.kernel
    if not obj.writers and not obj.readers and ("writers" in k or "readers" in k):
        # Nobody the model knows holds it (a shell's pipe): who the kernel says holds it.
        _kernel_who(out, state, obj, " " + _("writers:") + " ", k.get("writers"))
        _kernel_who(out, state, obj, "  " + _("readers:") + " ", k.get("readers"))
    else:
        r.who(out, state, " " + _("writers:") + " ", sorted(obj.writers))
        r.who(out, state, "  " + _("readers:") + " ", sorted(obj.readers))
    out.newline()
    if _untraced(obj):  # no event ever told the model about this pipe: the kernel's fill
        cap = k.get("capacity")
        nbytes, cap = k["nbytes"], cap if isinstance(cap, int) and cap > 0 else obj.capacity
        label, style = r.kernel_label(obj, state.t)
        r.bar(out, nbytes, cap, f"{nbytes}/{cap} B")
        out.add(" " + _("({kernel}; not traced)").format(kernel=label.strip().rstrip(":")), style)
        out.newline()
        if not nbytes:
            out.add(" " + _("(empty, says the kernel)"), r.EMPTY)
            out.newline()
    else:
        fill = f"{obj.nbytes}/{obj.capacity} B"
        if obj.outside:  # it may hold bytes no event shows: the bar counts the traced ones
            fill = _("{n}/{capacity} B traced").format(n=obj.nbytes, capacity=obj.capacity)
        said = ngettext(
            "{writes} write, {written} B in, {read} B out",
            "{writes} writes, {written} B in, {read} B out",
            obj.writes,
        ).format(writes=obj.writes, written=obj.written, read=obj.read)
        r.bar(out, obj.nbytes, obj.capacity, fill, after=cell_len(said) + 2)
        if cell_len(said) + 2 > out.room():  # even beside the shortest bar: a line of its own
            out.newline()
        out.add(f"  {said}", r.DIM)
        out.newline()
        if obj.nbytes:
            r.byte_strip(out, state, obj.chunks, rows, obj.nbytes, faint=obj.stale)
        else:
            out.add(" " + (_("(no traced byte in it)") if obj.outside else _("(empty)")), r.EMPTY)
            out.newline()
        unrecorded_line(out, state, obj)
        gone_lines(out, obj)
    r.outside_note(out, obj, obj.from_outside, "B")
    r.kernel_fields(out, obj, now=state.t)
    data = _kernel_bytes(obj.kernel.get("data"))
    if data:
        out.add(" " + _("kernel bytes:") + " ", r.KERNEL)
        # the probe copies only the first DATA_CAP bytes: "+N B" counts from the reading's
        # nbytes, so a 49152-byte pipe does not read as one of about 4096
        whole = k.get("nbytes")
        whole = whole if type(whole) is int else None
        out.add(bytefmt.escape(data, max(8, out.room() // 2), whole), r.KERNEL)
        out.newline()
    return out.finish()


def unrecorded(state: State, obj: PipeObj) -> int:
    """How many of the bytes the pipe holds the trace did not record (a write past strace's
    65536-byte cut): the model holds zeros for them, drawn as ``bytefmt.UNRECORDED``, not
    as the ``·`` of a zero byte the program wrote; said too."""
    return obj.unrecorded()


def unrecorded_line(out: r.Lines, state: State, obj: PipeObj) -> None:
    n = unrecorded(state, obj)
    if n:
        said = _("{n} B of them not recorded (drawn as {glyph})")
        out.add(" " + said.format(n=n, glyph=bytefmt.UNRECORDED), r.WARN)
        out.newline()


def gone_lines(out: r.Lines, obj: PipeObj) -> None:
    """A FIFO's bytes after its last close: the kernel freed them unless an open was in
    flight, which the events may not tell (``PipeObj.gone``); and bytes a read showed gone."""
    if obj.stale:
        said = _("{n} B may be gone: the last end closed").format(n=obj.stale)
        out.add(" " + said, r.fg(r.P.AMBER))
        why = " " + _("(kept only if an open() was in flight)")
        if cell_len(why) <= out.room():  # a narrow panel keeps the line, not the reason
            out.add(why, r.DIM)
        out.newline()
    if obj.dropped:
        said = _("{n} B were freed at a last close (a read showed them gone)")
        out.add(" " + said.format(n=obj.dropped), r.DIM)
        out.newline()


def _untraced(obj: PipeObj) -> bool:
    """The model has no event for this pipe (found in /proc), but the kernel was probed."""
    k = obj.kernel
    return (
        not obj.writes
        and not obj.read
        and not obj.eof
        and isinstance(k.get("nbytes"), int)
        and (bool(obj.info.get("discovered")) or k["nbytes"] > 0)
    )


def _kernel_who(out: r.Lines, state: State, obj: Obj, label: str, ends: Any) -> None:
    """Holders of a pipe end from the probe: ``[[pid, fd], ...]``, named by ``names``."""
    names = obj.kernel.get("names")
    names = names if isinstance(names, dict) else {}
    pids: list[int] = []
    for end in ends if isinstance(ends, list) else []:
        pid = end[0] if isinstance(end, list) and end else None
        if isinstance(pid, int) and pid not in pids:
            pids.append(pid)
    out.add(label, r.DIM)
    if not pids:
        out.add("—", r.DIM)
    for i, pid in enumerate(pids):
        if pid in state.procs:
            text, style = r.proc_label(state, pid)
        else:
            name = bytefmt.safe_text(str(names.get(str(pid)) or "?"), 24)
            text, style = f"{name}[{pid}]", r.fg(r.UNKNOWN, True)
        out.add((", " if i else "") + text, style)


def _kernel_bytes(value: Any) -> bytes | None:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            return value.encode("utf-8", "replace")
    return None


def lines(state: State, obj: PipeObj, width: int, rows: int = 3) -> list[r.Line]:
    return pipe_lines(state, obj, width, rows)


def signature(obj: PipeObj) -> tuple[Any, ...]:
    return (
        obj.written,
        obj.read,
        obj.eof,
        obj.epipe,
        len(obj.readers),
        len(obj.writers),
        obj.stale,
        obj.dropped,
    )
