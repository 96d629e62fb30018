"""Semaphores as the model sees them: the ``sem.*`` kinds, shared by POSIX and System V.

Besides the value and the waiters, the model tracks who holds a semaphore used as a lock
(each unit taken and not given back), so the deadlock analysis can say who could free whom;
once anyone posts a unit it did not take, the semaphore is a signal and nobody holds it.
"""

from __future__ import annotations

from typing import Any

from ipcviz.events.fields import Kind, flag, integer, list_of, small, strings
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
    call = _call(s, e)
    if call:  # a System V semop on several: asleep waiting for every one of them
        begin(s, e)
        for name in _asleep_on_all(s, e["pid"], call):
            obj = _sem(s, name)
            changed(obj, e)  # the kernel's count of waiters (of one of them)
            _hold_and_wait(s, obj, e["pid"])
        return
    begin(s, e, "waiters")
    if (obj := s.objects.get(e.get("obj", ""))) is not None:
        changed(obj, e)  # the kernel's count of waiters
        if isinstance(obj, SemObj):
            _hold_and_wait(s, obj, e.get("pid", 0))


def _call(s: State, e: Event) -> tuple[tuple[str, int], ...]:
    """A begin's semop on several semaphores (``sems``, ``units``) as (name, units) pairs,
    or () for a wait on one: an older trace, a POSIX semaphore, a semaphore unknown."""
    sems, units = e.get("sems"), e.get("units")
    if not isinstance(sems, list) or not isinstance(units, list) or len(sems) != len(units):
        return ()
    call = tuple(zip(sems, units, strict=True))
    if len({n for n, _u in call}) < 2 or not all(
        isinstance(s.objects.get(n), SemObj) and isinstance(u, int) for n, u in call
    ):
        return ()
    return call


def _asleep_on_all(s: State, pid: int, call: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """``pid`` sleeps in one semop taking from every semaphore of ``call``: it is shown on
    each (``SemObj.calls``) and counted, as Linux counts it in semncnt, on the one its
    call would block on now: the first, in the call's order, too low for what the call
    takes from it by then (ipc/sem.c ``perform_atomic_semop``, ``q->blocking``).
    Returns the call's semaphores, each once."""
    names = tuple(dict.fromkeys(n for n, _u in call))
    if (p := s.procs.get(pid)) is not None:
        p.ons = names
    for name in names:
        _sem(s, name).calls[pid] = call
    _recount(s, pid, call)
    return names


def _sem(s: State, name: str) -> SemObj:
    obj = s.objects[name]
    assert isinstance(obj, SemObj)
    return obj


def _recount(s: State, pid: int, call: tuple[tuple[str, int], ...]) -> None:
    """Which semaphore of ``pid``'s call it is counted on now. The kernel tries the call
    again at every change of the set, so this follows each change of one of them. None
    too low (the call is about to complete): the one it is counted on stays."""
    taken: dict[str, int] = {}
    blocking = None
    for name, units in call:
        taken[name] = taken.get(name, 0) + units
        if _sem(s, name).value < taken[name]:
            blocking = name
            break
    names = dict.fromkeys(n for n, _u in call)
    if blocking is None:
        blocking = next((n for n in names if pid in _sem(s, n).waiters), call[0][0])
    for name in names:
        obj = _sem(s, name)
        wait, other = (obj.waiters, obj.also) if name == blocking else (obj.also, obj.waiters)
        if pid in other:
            other.remove(pid)
        if pid not in wait:
            wait.append(pid)
    p = s.procs.get(pid)
    if p is not None and p.state == "waiting":
        p.on = blocking


def _call_over(s: State, pid: int, obj: SemObj) -> None:
    """``pid``'s semop on several semaphores returned (or it died): shown on none."""
    call = obj.calls.get(pid, ())
    for name, _u in call:
        other = s.objects.get(name)
        if isinstance(other, SemObj):
            other.calls.pop(pid, None)
            for queue in (other.waiters, other.also):
                if pid in queue:
                    queue.remove(pid)


def _moved(s: State, obj: SemObj, pid: int) -> None:
    """``obj``'s value changed: every other semop asleep on it may be counted on another
    of its semaphores now (the kernel tried it again)."""
    for other, call in list(obj.calls.items()):
        if other != pid:
            _recount(s, other, call)


def _wait(s: State, e: Event) -> None:
    obj = s.objects[e["obj"]]
    assert isinstance(obj, SemObj)
    if e["pid"] in obj.calls:
        _call_over(s, e["pid"], obj)
    done(s, e, "waiters")
    if not e.get("joined"):  # (a further part of the call: its first part asked already)
        _hold_and_wait(s, obj, e["pid"])
    _take(obj, e["pid"], e.get("n", 1))
    changed(obj, e)
    if obj.calls:
        _moved(s, obj, e["pid"])


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
        if obj.calls:
            _moved(s, obj, e["pid"])


def _post(s: State, e: Event) -> None:
    obj = s.objects[e["obj"]]
    assert isinstance(obj, SemObj)
    pid, n = e["pid"], e.get("n", 1)
    obj.value += n
    obj.posts += 1
    changed(obj, e)
    if obj.calls:
        _moved(s, obj, pid)
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
    if obj.calls:
        _moved(s, obj, e["pid"])


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
        if obj.calls:
            _moved(s, obj, pid)


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
    if pid in obj.also:
        obj.also.remove(pid)
    obj.calls.pop(pid, None)


#: The kernel's view of a semaphore: its value, sleepers (waiting to decrement / for
#: zero) and the last process to change it.
PROBE_FIELDS = {k: integer() for k in ("value", "waiters", "zcnt", "last_pid")}

#: A semaphore operation's units, and ``joined``: a further part of one System V semop.
_PART = {"n": small, "joined": flag}

FAMILY = Family(
    name="sem",
    kinds={
        # ``sems``, ``units``: a System V semop taking from several (``_call``)
        "sem.wait.begin": Kind({"n": small, "sems": strings, "units": list_of(small)}),
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
