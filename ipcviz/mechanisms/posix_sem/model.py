"""Semaphores as the model sees them: the ``sem.*`` kinds, shared by POSIX and System V.

Besides the value and the waiters, the model tracks who holds a semaphore used as a lock
(each unit taken and not given back), so the deadlock analysis can say who could free whom;
once anyone posts a unit it did not take, the semaphore is a signal and nobody holds it.
"""

from __future__ import annotations

from typing import Any

from ipcviz.events.fields import Kind, flag, integer, small
from ipcviz.i18n import Lazy, lazy
from ipcviz.mechanisms.base import Family
from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.mechanisms.posix_sem.words import WORDS
from ipcviz.model.ops import begin, changed, done
from ipcviz.model.state import Obj, State

Event = dict[str, Any]
#: Largest value of a System V semaphore (Linux SEMVMX).
SEMVMX = 32767


def _wait_begin(s: State, e: Event) -> None:
    begin(s, e, "waiters")
    if (obj := s.objects.get(e.get("obj", ""))) is not None:
        changed(obj, e)  # the kernel's count of waiters
        if isinstance(obj, SemObj):
            _hold_and_wait(s, obj, e.get("pid", 0))


def _wait(s: State, e: Event) -> None:
    done(s, e, "waiters")
    obj = s.objects[e["obj"]]
    assert isinstance(obj, SemObj)
    if not e.get("joined"):  # (a further part of the call: its first part asked already)
        _hold_and_wait(s, obj, e["pid"])
    _take(obj, e["pid"], e.get("n", 1))
    changed(obj, e)


def _hold_and_wait(s: State, obj: SemObj, pid: int) -> None:
    """``pid`` asks for ``obj`` (its wait began, or returned: what it holds now it held
    all along the call): note a semaphore it holds meanwhile (``SemObj.hold_and_wait``)."""
    if pid in obj.hold_and_wait:
        return
    for other in s.objects.values():
        if other is not obj and isinstance(other, SemObj) and other.holders.get(pid):
            obj.hold_and_wait[pid] = other.name
            return


def _eidrm(s: State, e: Event) -> None:
    """A System V semop failed with EIDRM: the set was removed while the process waited
    in it. Nothing was taken; it waits no more."""
    done(s, e, "waiters")


def _take(obj: SemObj, pid: int, n: int) -> None:
    # an ``outside`` semaphore had a value no event shows: never drawn below zero
    obj.value = max(obj.value - n, 0) if obj.outside else obj.value - n
    obj.waits += 1
    if obj.undo:
        obj.adj[pid] += n
    if not obj.signal:  # a lock so far: the taker holds it until it posts
        obj.holders[pid] += n


def _trywait(s: State, e: Event) -> None:
    obj = s.objects[e["obj"]]
    assert isinstance(obj, SemObj)
    if e.get("ok"):
        _take(obj, e["pid"], e.get("n", 1))
        changed(obj, e)


def _post(s: State, e: Event) -> None:
    obj = s.objects[e["obj"]]
    assert isinstance(obj, SemObj)
    pid, n = e["pid"], e.get("n", 1)
    obj.value += n
    obj.posts += 1
    changed(obj, e)
    obj.posters.add(pid)
    if obj.undo:
        obj.adj[pid] -= n
    if obj.signal:
        return
    held = obj.holders.get(pid, 0)
    if held < n:
        # Posted by a process that did not take it: not a lock but a signal (the last
        # reader posting readers-writers' wrt, a producer posting "full"). Whoever took it
        # earlier does not hold it: "held by" means nothing for this semaphore any more.
        obj.signal = True
        obj.holders.clear()
    elif held == n:
        del obj.holders[pid]
    else:
        obj.holders[pid] = held - n


def _set(s: State, e: Event) -> None:
    """semctl(SETVAL): the value is given. The kernel clears every process's SEM_UNDO
    adjustment of it (ipc/sem.c ``semctl_setval``), and nobody holds a unit any more."""
    obj = s.objects[e["obj"]]
    assert isinstance(obj, SemObj)
    obj.value = obj.set_to = e["value"]
    obj.adj.clear()
    obj.holders.clear()
    changed(obj, e)


def _undo(s: State, e: Event) -> None:
    """The kernel reversed a dead process's SEM_UNDO adjustment (``n``: units given back,
    negative when it had posted more than it took); Linux keeps the value in 0..SEMVMX."""
    obj = s.objects.get(e["obj"])
    if isinstance(obj, SemObj):
        pid = e.get("pid", 0)
        obj.value = min(max(obj.value + e.get("n", 0), 0), SEMVMX)
        obj.adj.pop(pid, None)
        obj.holders.pop(pid, None)
        changed(obj, e)


def _legal_wait(obj: SemObj, e: Event) -> Lazy | None:
    n = e.get("n", 1)
    if obj.outside:  # its value before the attach is the kernel's to say, not the trace's
        return None
    return lazy("wait completed at value {value}", value=obj.value) if obj.value < n else None


def _legal_trywait(obj: SemObj, e: Event) -> Lazy | None:
    if e.get("ok") or obj.outside:
        return _legal_wait(obj, e)
    return lazy("trywait failed at value {value}", value=obj.value) if obj.value > 0 else None


def _legal_undo(obj: SemObj, e: Event) -> Lazy | None:
    """The kernel reverses exactly the dead process's adjustment (semadj), no more."""
    if not obj.undo:
        return lazy("SEM_UNDO reversed on a semaphore never used with SEM_UNDO")
    n, adj = e.get("n", 0), obj.adj.get(e.get("pid", 0), 0)
    if n == adj:
        return None
    return lazy("undo of {n} unit(s), but the process's adjustment was {adj}", n=n, adj=adj)


def _legal_eidrm(obj: SemObj, e: Event) -> Lazy | None:
    """EIDRM only once the set is removed (IPC_RMID wakes its sleepers with it)."""
    return None if obj.removed else lazy("failed with EIDRM before the object was removed")


def declare(s: State, obj: Obj, e: Event) -> None:
    assert isinstance(obj, SemObj)
    obj.initial = obj.value = e.get("value", 0)
    obj.undo = bool(e.get("undo"))


def on_proc_exit(obj: Obj, pid: int) -> None:
    """A dead process waits no more (the units it held stay taken, unless the kernel
    undoes them: ``sem.undo``, recorded right after the exit)."""
    assert isinstance(obj, SemObj)
    if pid in obj.waiters:
        obj.waiters.remove(pid)


#: The kernel's view of a semaphore: its value, sleepers (waiting to decrement / for
#: zero) and the last process to change it.
PROBE_FIELDS = {k: integer() for k in ("value", "waiters", "zcnt", "last_pid")}

#: A semaphore operation's units, and ``joined``: a further part of one System V semop.
_PART = {"n": small, "joined": flag}

FAMILY = Family(
    name="sem",
    kinds={
        "sem.wait.begin": Kind({"n": small}),
        "sem.wait": Kind(_PART, ("obj",)),
        "sem.post": Kind(_PART, ("obj",)),
        "sem.trywait": Kind({**_PART, "ok": flag}, ("obj",)),
        "sem.undo": Kind({"n": small}, ("obj",)),
        "sem.set": Kind({"value": integer(0, SEMVMX)}, ("obj", "value")),
        "sem.eidrm": Kind({}, ("obj",)),
    },
    state=SemObj,
    view="ipcviz.mechanisms.posix_sem.view",
    words=WORDS,
    completes={"sem.wait": ("sem.wait", "sem.eidrm")},
    counter=("value", lambda obj: obj.value),
    verbs={
        "sem.wait.begin": "wait",
        "sem.wait": "wait",
        "sem.trywait": "wait",
        "sem.post": "post",
        "sem.set": "set",
    },
    puts=frozenset({"post", "set"}),
    diagram="ipcviz.mechanisms.posix_sem.diagram",
    handlers={
        "sem.wait.begin": _wait_begin,
        "sem.wait": _wait,
        "sem.trywait": _trywait,
        "sem.post": _post,
        "sem.undo": _undo,
        "sem.set": _set,
        "sem.eidrm": _eidrm,
    },
    rules={
        "sem.wait": _legal_wait,
        "sem.trywait": _legal_trywait,
        "sem.undo": _legal_undo,
        "sem.eidrm": _legal_eidrm,
    },
    observers=frozenset({"sem.eidrm"}),
    refers=frozenset({"sem.wait", "sem.trywait", "sem.post", "sem.set", "sem.eidrm"}),
    quiet_waits=frozenset({"sem.wait"}),
)
