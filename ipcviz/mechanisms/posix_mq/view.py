"""How a message queue is drawn: the fill, who waits, each message in delivery order."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len

from ipcviz import bytefmt
from ipcviz.draw import render as r
from ipcviz.i18n import _, ngettext
from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.model.state import State


def queue_lines(state: State, obj: QueueObj, width: int, rows: int = 3) -> list[r.Line]:
    out = r.Lines(width)
    r.title(out, obj)
    out.newline()
    # an ``outside`` queue may hold messages no event shows, a ``maybe_filled`` one may have
    # held some before the run: the bar counts the traced ones
    traced = obj.outside or obj.maybe_filled
    if obj.max_messages:
        label = (
            _("{n}/{max} msgs traced, {nbytes} B") if traced else _("{n}/{max} msgs, {nbytes} B")
        ).format(n=len(obj.messages), max=obj.max_messages, nbytes=obj.nbytes)
        r.bar(out, len(obj.messages), obj.max_messages, label)
    else:  # System V: the limit is in bytes (msg_qbytes)
        if obj.max_bytes is not None:  # (0 too: msgctl(IPC_SET) made it hold nothing)
            total = obj.max_bytes
        else:
            total = int(obj.kernel.get("qbytes") or 0) or max(1, obj.nbytes)
        n = len(obj.messages)
        label = (
            ngettext("{n} msg traced, {nbytes}/{max} B", "{n} msgs traced, {nbytes}/{max} B", n)
            if traced
            else ngettext("{n} msg, {nbytes}/{max} B", "{n} msgs, {nbytes}/{max} B", n)
        ).format(n=n, nbytes=obj.nbytes, max=total)
        r.bar(out, obj.nbytes, total, label)
    said = _("sent {sent}, received {received}").format(sent=obj.sent, received=obj.received)
    out.add(f"  {said}", r.DIM)
    out.newline()
    r.who(out, state, " " + _("senders waiting:") + " ", obj.senders_waiting)
    r.who(out, state, "  " + _("receivers waiting:") + " ", obj.receivers_waiting)
    out.newline()
    key = _("prio") if obj.by_priority else _("type")
    start = len(out.lines)
    if not obj.messages:
        out.add(" " + (_("(no traced message in it)") if traced else _("(empty)")), r.EMPTY)
    for i, msg in enumerate(obj.messages):
        tag, data, pid = msg[0], msg[1], msg[2] if len(msg) > 2 else 0
        known = msg[3] if len(msg) > 3 else None  # (past it: not recorded)
        cell = f"{key} {tag}·{len(data)}B {bytefmt.quoted(data, 10, known=known)}"
        if out.room() < min(cell_len(cell) + 1, out.width):
            if len(out.lines) - start >= rows - 1:
                out.add(f"…+{len(obj.messages) - i}", r.DIM)
                break
            out.newline()
        out.add(cell, r.cell_style(r.color_of(state, pid)))
        out.add(" ", r.FG)
    out.newline()
    unknown = obj.unrecorded()
    if unknown:
        said = _("{n} B of them not recorded (drawn as {glyph})")
        out.add(" " + said.format(n=unknown, glyph=bytefmt.UNRECORDED), r.WARN)
        out.newline()
    r.outside_note(out, obj, obj.from_outside, "message(s)")
    if obj.maybe_filled:
        said = _("opened with O_CREAT alone: it may have held messages before the run")
        out.add(" " + said, r.KERNEL_OLD)
        out.newline()
    r.kernel_fields(out, obj, now=state.t)
    return out.finish()


def lines(state: State, obj: QueueObj, width: int, rows: int = 3) -> list[r.Line]:
    return queue_lines(state, obj, width, rows)


def signature(obj: QueueObj) -> tuple[Any, ...]:
    return (obj.sent, obj.received, tuple(obj.senders_waiting), tuple(obj.receivers_waiting))
