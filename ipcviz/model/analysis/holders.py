"""A lock whose holder died: what the kernel undoes (SEM_UNDO), and who is left waiting.

The kernel does not give a semaphore back when the process that took it dies, unless the
operation was made with System V's SEM_UNDO: then, as the process exits, it reverses the
process's adjustment (``semadj``: units taken minus units given) and wakes the waiters.
``undo_events`` says what it reversed, as the events the engine records right after the
process's ``proc.exit``.

Without SEM_UNDO the units stay taken. Whether anyone is *stranded* is never decided here:
the engine declares it only with the kernel's proof (``ipcviz.engine.deadlock``: every live
process asleep, none can wake another, the semaphore at 0 in the kernel, its holder dead).
This module names the dead holders of a semaphore and words the report.
"""

from __future__ import annotations

from typing import Any

from ipcviz.i18n import Lazy, lazy, lazy_n
from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.model.state import State

Event = dict[str, Any]


def undo_events(state: State, pid: int, t: int) -> list[Event]:
    """The ``sem.undo`` events for process ``pid``, which just exited (its SEM_UNDO
    adjustments, one per semaphore; none when it holds nothing)."""
    out = []
    for name, obj in state.objects.items():
        if isinstance(obj, SemObj) and obj.undo and not obj.removed and obj.adj.get(pid):
            out.append({"t": t, "seq": -1, "pid": pid, "kind": "sem.undo", "obj": name,
                        "n": obj.adj[pid]})  # fmt: skip
    return out


def dead_holders(state: State, obj: SemObj) -> list[tuple[int, int]]:
    """(pid, units) of the processes that took ``obj`` as a lock and died holding it."""
    if obj.signal:
        return []  # posted by others: nobody holds it, a dead taker strands nobody
    return [
        (pid, n)
        for pid, n in sorted(obj.holders.items())
        if n > 0 and pid in state.procs and not state.procs[pid].alive
    ]


def is_lock_holder(state: State, pid: int) -> bool:
    """Whether ``pid`` holds a unit of a semaphore used as a lock (and so may strand)."""
    return any(
        isinstance(o, SemObj) and not o.signal and o.holders.get(pid, 0) > 0
        for o in state.objects.values()
    )


def current(state: State) -> list[dict[str, Any]]:
    """The reported dead holders that still hold their semaphore (not given back since)."""
    out = []
    for name, rep in state.holders_died.items():
        obj = state.objects.get(name)
        if isinstance(obj, SemObj) and obj.holders.get(rep.get("holder", 0), 0) > 0:
            out.append(rep)
    return out


def holder_said(e: dict[str, Any]) -> Lazy:
    """``holder died holding lock (1 unit, never posted); lock is at 0 and waiter waits
    on it: nobody left can post it``."""
    waiters = [str(w.get("proc", w.get("pid", "?"))) for w in e.get("waiters") or []]
    if waiters:
        waiting = lazy_n(
            "{who} waits on it", "{who} wait on it", len(waiters), who=", ".join(waiters)
        )
    else:
        waiting = lazy("nobody waits on it")
    return lazy(
        "{holder} died holding {obj} ({units}, never posted); {obj} is at {value} and "
        "{waiting}: nobody left can post it",
        holder=e.get("proc", e.get("holder")),
        obj=e.get("obj"),
        units=lazy_n("{n} unit", "{n} units", e.get("n", 1)),
        value=e.get("value", 0),
        waiting=waiting,
    )


def holder_text(e: dict[str, Any]) -> str:
    """:func:`holder_said` in the language now chosen."""
    return holder_said(e).render()


def stranded(state: State, deadlock: dict[str, Any] | None) -> list[str]:
    """The semaphores of ``deadlock`` (the engine's, proven by the kernel) whose holder died,
    when they explain it whole: no cycle, and every stuck process waits on one of them.
    Then the dead holder is the one thing to report (``holder.died``, one hint: post it on
    its behalf), not a deadlock among its stranded waiters. Empty list: not so."""
    if not deadlock or deadlock.get("cycle"):
        return []
    dead = {str(r.get("obj")) for r in current(state)}
    rows = deadlock.get("stuck") or []
    objs = sorted({str(r.get("waits_for")) for r in rows})
    if not rows or any(r.get("op") != "sem" or str(r.get("waits_for")) not in dead for r in rows):
        return []
    return objs
