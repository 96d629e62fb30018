"""How a semaphore is drawn: its value, who holds it (a lock), who waits in order."""

from __future__ import annotations

from typing import Any

from ipcviz import bytefmt
from ipcviz.draw import render as r
from ipcviz.i18n import _, ngettext
from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.model.state import State


def sem_lines(state: State, obj: SemObj, width: int) -> list[r.Line]:
    out = r.Lines(width)
    r.title(out, obj)
    out.newline()
    if obj.info.get("probed"):  # a program's semaphore: its uncontended P and V make no
        return _probed(out, state, obj)  # system call; only the kernel probe sees it
    out.add(" " + _("value") + " ", r.DIM)
    if obj.outside:  # its value before the watch is the kernel's to say: its last reading
        _kernel_value(out, state, obj)
        counts = _("({waits}, {posts} traced)")
    else:
        out.add(f" {obj.value} ", r.GOOD if obj.value > 0 else r.WARN)
        counts = (
            _("(initial {initial}; {waits}, {posts})")
            if obj.set_to is None
            else _("(initial {initial}, set to {set_to}; {waits}, {posts})")
        )
    out.add(
        "  "
        + counts.format(
            initial=obj.initial,
            set_to=obj.set_to,
            # "1 wait", "2 posts": counted in the language shown (it said "1 waits")
            waits=ngettext("{n} wait", "{n} waits", obj.waits).format(n=obj.waits),
            posts=ngettext("{n} post", "{n} posts", obj.posts).format(n=obj.posts),
        ),
        r.DIM,
    )
    out.newline()
    if obj.base == 1 and not obj.signal:  # a lock: who holds it. A semaphore posted by
        # a process that did not take it (producer/consumer, readers-writers) has no owner.
        holders = [pid for pid, n in obj.holders.items() if n > 0]
        r.who(out, state, " " + _("holders:") + " ", holders)
        out.newline()
    out.add(" " + _("waiting:") + " ", r.DIM)
    if not obj.waiters and not obj.also:
        out.add("—", r.DIM)
    for i, pid in enumerate(obj.waiters):
        text, style = r.proc_label(state, pid)
        out.add(("  ← " if i else "") + text, style)
    _also(out, state, obj)
    out.newline()
    r.kernel_fields(out, obj, now=state.t)
    return out.finish()


def _also(out: r.Lines, state: State, obj: SemObj) -> None:
    """Those asleep in one semop that takes this semaphore too, but which the kernel
    counts on another of the call's (the first too low): "+ phil3 (asleep on fork3)"."""
    for i, pid in enumerate(obj.also):
        text, style = r.proc_label(state, pid)
        p = state.procs.get(pid)
        on = bytefmt.safe_text(str(p.on), 20) if p is not None else "?"
        out.add(("  + " if i or obj.waiters else "+ ") + text, style)
        out.add(" " + _("(needs it too, same semop; asleep on {obj})").format(obj=on), r.DIM)


def _kernel_value(out: r.Lines, state: State, obj: SemObj) -> None:
    """An ``outside`` semaphore's value: the kernel's last reading, with its age (the
    traced waits and posts cannot say it: it had a value no event shows)."""
    value = obj.kernel.get("value")
    if not isinstance(value, int):
        out.add(" " + _("not read yet (only the kernel's readings give it)"), r.DIM)
        return
    label, style = r.kernel_label(obj, state.t)
    out.add(f" {value} ", r.GOOD if value > 0 else r.WARN)
    out.add(" (" + label.strip().rstrip(":") + ")", style)


def _probed(out: r.Lines, state: State, obj: SemObj) -> list[r.Line]:
    """Value and sleepers as the kernel probe last read them, with the reading's age."""
    k = obj.kernel
    value = k.get("value")
    if not isinstance(value, int):
        out.add(" " + _("value: not read yet (sem_wait and sem_post make no system call"), r.DIM)
        out.add(" " + _("unless they must sleep or wake a sleeper)"), r.DIM)
        out.newline()
        return out.finish()
    label, style = r.kernel_label(obj, state.t)
    out.add(" " + _("value ({when})").format(when=label.strip().rstrip(":")) + " ", style)
    out.add(f" {value} ", r.GOOD if value > 0 else r.WARN)
    sleeping = _("sleeping in sem_wait: {n}").format(n=k.get("waiters", 0))
    out.add(f"  {sleeping}", style)
    out.newline()
    return out.finish()


def lines(state: State, obj: SemObj, width: int, rows: int = 3) -> list[r.Line]:
    return sem_lines(state, obj, width)


def signature(obj: SemObj) -> tuple[Any, ...]:
    return (obj.value, obj.waits, obj.posts, tuple(obj.waiters), tuple(obj.also))
