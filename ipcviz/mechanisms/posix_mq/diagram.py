"""A message queue (POSIX or System V) in the diagram view: a row of message boxes in the
order the kernel will deliver them, each in its sender's colour with its priority (POSIX)
or type (System V). The lecture's figure: a queue of numbered messages.

Rows of styled segments (``ipcviz.draw.diagram_kit``), no Textual.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len

from ipcviz import bytefmt
from ipcviz.draw import diagram_kit as k
from ipcviz.draw import render as r
from ipcviz.i18n import _, ngettext
from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.model.state import State


def captions(state: State, obj: QueueObj) -> list[str]:
    """The caption, then the count of messages alone, for a narrow box."""
    full = caption(state, obj)
    if obj.outside or obj.maybe_filled:
        n = len(obj.messages)
        return [full, ngettext("{n} msg traced", "{n} msgs traced", n).format(n=n)]
    n = len(obj.messages)
    return [full, ngettext("{n} msg", "{n} msgs", n).format(n=n)]


def caption(state: State, obj: QueueObj) -> str:
    n = len(obj.messages)
    # it may hold messages no event shows (``outside``), or have held some before the run
    # (``maybe_filled``): the count is of the traced ones
    if (obj.outside or obj.maybe_filled) and obj.max_messages:
        return _("{n}/{max} msgs traced").format(n=n, max=obj.max_messages)
    if obj.outside:
        said = ngettext("{n} msg traced · {nbytes} B", "{n} msgs traced · {nbytes} B", n)
        return said.format(n=n, nbytes=obj.nbytes)
    if obj.max_messages:
        return _("{n}/{max} msgs").format(n=n, max=obj.max_messages)
    if obj.max_bytes is not None:
        said = ngettext("{n} msg · {nbytes}/{max} B", "{n} msgs · {nbytes}/{max} B", n)
        return said.format(n=n, nbytes=obj.nbytes, max=obj.max_bytes)
    return ngettext("{n} msg · {nbytes} B", "{n} msgs · {nbytes} B", n).format(
        n=n, nbytes=obj.nbytes
    )


def delivery_order(obj: QueueObj) -> list[list[Any]]:
    """POSIX: highest priority first, oldest first among equals; System V: arrival order
    (a receive of type 0 takes the oldest)."""
    msgs = list(obj.messages)
    if obj.by_priority:
        return sorted(msgs, key=lambda m: -m[0] if isinstance(m[0], int) else 0)
    return msgs


def draw(state: State, obj: QueueObj, width: int, rows: int, lit: bool) -> list[k.Line]:
    """3+ rows: boxes (key on the top edge, bytes inside); fewer: one line of chips."""
    key = _("prio") if obj.by_priority else _("type")
    msgs = delivery_order(obj)
    out: list[k.Line] = []
    if rows >= 4:
        out.append(k.text_line(width, _("next out ◀"), k.LABEL))
        rows -= 1
    if rows >= 3:
        top, mid, bot = k.Row(width), k.Row(width), k.Row(width)
        for i, msg in enumerate(msgs):
            tag, data, pid = msg[0], msg[1], msg[2] if len(msg) > 2 else 0
            label = f"{key} {tag}"
            body = bytefmt.quoted(data, 12, known=msg[3] if len(msg) > 3 else None)
            w = max(cell_len(label) + 2, cell_len(body), 6)
            if top.room() < w + 2 + (6 if i < len(msgs) - 1 else 0):
                more = f" +{len(msgs) - i}"
                top.add("", k.LABEL)
                mid.add(more, k.NAME)
                break
            color = r.color_of(state, pid)
            frame = r.fg(color, True)
            top.add("┌" + k.center(k.cut(label, w), w, "─") + "┐", frame)
            mid.add("│", frame)
            mid.add(k.ljust(body, w), r.cell_style(color))
            mid.add("│", frame)
            bot.add("└" + "─" * w + "┘", frame)
        if not msgs:
            mid.add(" " + _("empty"), k.HOLE)
        out += [top.done(), mid.done(), bot.done()]
        rows -= 3
    else:
        row = k.Row(width)
        for i, msg in enumerate(msgs):
            tag, data, pid = msg[0], msg[1], msg[2] if len(msg) > 2 else 0
            cell = f"{tag}:{bytefmt.quoted(data, 6, known=msg[3] if len(msg) > 3 else None)}"
            if row.room() < cell_len(cell) + 1 + (4 if i < len(msgs) - 1 else 0):
                row.add(f"+{len(msgs) - i}", k.NAME)
                break
            row.add(cell, r.cell_style(r.color_of(state, pid)))
            row.add(" ")
        if not msgs:
            row.add(" " + _("empty"), k.HOLE)
        out.append(row.done())
        rows -= 1
    if rows >= 1 and (obj.senders_waiting or obj.receivers_waiting):
        row = k.Row(width)
        if obj.receivers_waiting:
            k.sleepers(row, state, obj.receivers_waiting, _("receivers asleep:"))
            row.add("  ")
        if obj.senders_waiting:
            k.sleepers(row, state, obj.senders_waiting, _("senders asleep:"))
        out.append(row.done())
    return out


def rows_wanted(state: State, obj: QueueObj, width: int) -> int:
    return 5 if obj.senders_waiting or obj.receivers_waiting else 4


def rows_least(state: State, obj: QueueObj, width: int) -> int:
    return 1


def signature(obj: QueueObj) -> tuple[Any, ...]:
    return (obj.sent, obj.received, tuple(obj.senders_waiting), tuple(obj.receivers_waiting))
