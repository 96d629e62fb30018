"""A semaphore (POSIX or System V) in the diagram view: its tokens (● free, ○ taken since the
start) and the queue of sleepers by name, in the order they wait.

Rows of styled segments (``ipcviz.draw.diagram_kit``), no Textual.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.style import Style

from ipcviz.draw import diagram_kit as k
from ipcviz.draw import palette as P
from ipcviz.draw import render as r
from ipcviz.i18n import _
from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.model.state import State

FREE = Style(color=P.GREEN, bold=True)
TAKEN = Style(color=P.SHADOW)
#: The tokens right after an operation changed them.
LIT = Style(color=P.BLACK, bgcolor=P.GREEN, bold=True)
#: More tokens than this are drawn as a count.
MAX_TOKENS = 24


def _kernel_only(obj: SemObj) -> bool:
    """Only the kernel's readings give its value: a program's semaphore whose P and V make
    no system call (``probed``), or one with a value no event shows (``outside``)."""
    return bool(obj.info.get("probed")) or obj.outside


def captions(state: State, obj: SemObj) -> list[str]:
    """The caption, then shorter forms for a narrow box: a reading's age stays, the word
    "kernel" and "before the last change" give way first ("value 0 (12ms ago)")."""
    full = caption(state, obj)
    value = obj.kernel.get("value")
    when = r.reading_age(obj.kernel, state.t)
    if not _kernel_only(obj) or not isinstance(value, int) or not when:
        return [full]
    short = _("value {value} ({when})").format(value=value, when=when)
    if obj.kernel_is_stale():
        said = _("value {value} (before the last change, {when})")
        return [full, said.format(value=value, when=when), short]
    return [full, short]


def caption(state: State, obj: SemObj) -> str:
    if _kernel_only(obj):
        value = obj.kernel.get("value")
        if not isinstance(value, int):
            return _("value not read yet")
        when = r.reading_age(obj.kernel, state.t)  # the program may have moved on since
        if obj.kernel_is_stale():  # a traced change came after
            if when:
                said = _("value {value} (kernel, before the last change, {when})")
                return said.format(value=value, when=when)
            return _("value {value} (kernel, before the last change)").format(value=value)
        if when:
            return _("value {value} (kernel {when})").format(value=value, when=when)
        return _("value {value} (kernel)").format(value=value)
    return _("value {value}").format(value=obj.value)


def draw(state: State, obj: SemObj, width: int, rows: int, lit: bool) -> list[k.Line]:
    """Row 1: the tokens (and, for a lock, who holds it); row 2: who sleeps in wait()."""
    row = k.Row(width)
    if _kernel_only(obj):  # the last reading: free tokens and sleepers, no holder
        value, waiters = obj.kernel.get("value"), obj.kernel.get("waiters", 0)
        if not isinstance(value, int):
            row.add(_("not read yet"), k.LABEL)
            return [row.done()]
        row.add("● " * min(value, MAX_TOKENS) if value <= MAX_TOKENS else f"●×{value} ", FREE)
        # the same reading as the caption's value: its age again, beside the tokens (a
        # narrow box cuts the caption, and there the word "kernel" gives way first)
        when = r.reading_age(obj.kernel, state.t)
        if waiters:
            said = _("{n} asleep (kernel {when})") if when else _("{n} asleep (kernel)")
            forms = [said.format(n=waiters, when=when)]
            forms += [_("{n} asleep ({when})").format(n=waiters, when=when)] if when else []
            style = k.WAITING
        else:
            forms, style = [f"({r.kernel_seen(obj.kernel, state.t)})"], k.LABEL
            forms += [f"({when})"] if when else []
        gap = "" if value > 0 else " "  # the tokens end in a space
        fits = [f for f in forms if cell_len(gap + f) <= row.room()]
        row.add(gap + (fits[0] if fits else forms[-1]), style)
        return [row.done()]
    free = max(0, obj.value)
    taken = max(0, obj.base - obj.value)
    if free + taken <= MAX_TOKENS:
        row.add("● " * free, LIT if lit else FREE)
        row.add("○ " * taken, TAKEN)
    else:
        row.add(f"●×{free} ", FREE)
        row.add(f"○×{taken} ", TAKEN)
    if not free:
        row.add(" " + _("0: wait() sleeps"), k.WAITING)
    holders = [pid for pid, n in obj.holders.items() if n > 0]
    if obj.base == 1 and not obj.signal and holders:
        row.add("  " + _("held by") + " ", k.LABEL)
        for pid in holders:
            text, style = k.chip(state, pid, 12)
            row.add(text, style)
    out = [row.done()]
    if rows >= 2:
        sleep = k.Row(width)
        if obj.waiters or not obj.also:
            k.sleepers(sleep, state, obj.waiters, _("asleep:"))
        else:
            sleep.add(_("asleep:"), k.LABEL)
        for pid in obj.also:  # asleep in a semop needing it too, counted on another one
            text, style = k.chip(state, pid, 12)
            sleep.add(" +" + text, style)
        out.append(sleep.done())
    elif obj.waiters:  # one row only: the sleepers matter more than the spare tokens
        row = k.Row(width)
        k.sleepers(row, state, obj.waiters, f"{obj.value} · " + _("asleep:"))
        out = [row.done()]
    return out


def rows_wanted(state: State, obj: SemObj, width: int) -> int:
    return 2


def rows_least(state: State, obj: SemObj, width: int) -> int:
    return 1


def signature(obj: SemObj) -> tuple[Any, ...]:
    return (obj.value, obj.waits, obj.posts, tuple(obj.waiters), tuple(obj.also))
