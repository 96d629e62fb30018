"""``apply(state, event)``: the one place where events change the model.

Deterministic: the state after event *i* depends only on the events up to *i*, so live view,
replay and step-back agree exactly. For speed it updates ``state`` in place and returns it;
take a copy (``timeline``) when an earlier state must be kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ipcviz.mechanisms import registry
from ipcviz.mechanisms.pipe import model as pipe_model
from ipcviz.mechanisms.pipe.state import PipeObj
from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.mechanisms.posix_shm.model import MAX_SHM
from ipcviz.model.ops import changed
from ipcviz.model.state import Check, Obj, Proc, State

Event = dict[str, Any]
__all__ = ["MAX_SHM", "apply", "apply_all"]
Handler = Callable[[State, Event], None]
#: kind → handler: the engine's own kinds below, every mechanism's from the registry.
HANDLERS: dict[str, Handler] = registry.handlers()
#: kind → the word on its diagram edge (``State.uses``)
VERBS: dict[str, str] = registry.verbs()
#: Operations whose object must be declared: one on an object the model does not hold (a
#: traced command's, whose declare came later; a hostile trace's) changes nothing.
_REFERS = frozenset(registry.refers())


def handles(*kinds: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for k in kinds:
            HANDLERS[k] = fn
        return fn

    return register


def apply(state: State, event: Event) -> State:
    kind = event["kind"]
    state.seq = event["seq"]
    state.t = t = event["t"]
    since = event.get("since")
    begun = since if type(since) is int and since < t else t
    if begun > state.moment:
        state.moment = begun
    state.count += 1
    state.kinds[kind] += 1
    handler = HANDLERS.get(kind)
    if handler is None and kind.startswith("probe."):
        handler = HANDLERS.get("probe.*")
    if handler is not None:
        if kind in _REFERS and event.get("obj") not in state.objects:
            return state
        handler(state, event)
    verb = VERBS.get(kind)
    if verb is not None:
        _use(state, event, verb)
    return state


def _use(s: State, e: Event, verb: str) -> None:
    """A process used an object (``State.uses``: the diagram's edges)."""
    obj, pid = e.get("obj"), e.get("pid")
    if isinstance(obj, str) and obj in s.objects and isinstance(pid, int):
        s.ops += 1
        # (get before setdefault: no new dicts made for a use already known, every event)
        by_obj = s.uses.get(obj)
        if by_obj is None:
            by_obj = s.uses[obj] = {}
        verbs = by_obj.get(pid)
        if verbs is None:
            verbs = by_obj[pid] = {}
        verbs[verb] = s.ops


def apply_all(state: State, events: Iterable[Event]) -> State:
    for e in events:
        apply(state, e)
    return state


# -- objects and processes --------------------------------------------------------------


@handles("obj.declare")
def _declare(s: State, e: Event) -> None:
    mech = registry.get(e["type"])
    cls = mech.state if mech is not None else Obj
    info = {k: v for k, v in e.items() if k not in ("t", "seq", "pid", "kind", "obj", "type")}
    obj = cls(
        name=e["obj"],
        type=e["type"],
        kernel_name=e.get("kernel_name", ""),
        declared_seq=e["seq"],
        info=info,
    )
    if mech is not None:
        mech.declare(s, obj, e)
    s.objects[obj.name] = obj
    if obj.outside:
        s.any_outside = True


@handles("obj.remove")
def _remove(s: State, e: Event) -> None:
    obj = s.objects.get(e["obj"])
    if obj:
        obj.removed = True


@handles("proc.start")
def _proc_start(s: State, e: Event) -> None:
    pid = e["pid"]
    s.procs[pid] = Proc(pid=pid, name=e["name"], color=e.get("color", len(s.procs)))
    for obj in s.objects.values():  # e.g. a forked child holds its parent's pipe ends
        mech = registry.get(obj.type)
        if mech is not None:
            mech.on_proc_start(s, obj, e)


#: ``notice`` reasons that say an object may hold what no event shows (``Obj.outside``):
#: used unseen, its other end opened by an unwatched process, a value set unseen.
OUTSIDE_NOTICES = frozenset({"unseen-use", "outside-end", "unseen-value", "unseen-contents"})
#: ``notice`` reasons that say a process's calls are never seen (strace could not attach
#: to it): the pipe ends it held at the attach (``writer_pids``) are not counted, since
#: its close is never seen and an end of file would wait for it forever.
UNSEEN_PROC_NOTICES = frozenset({"attach-refused"})
#: ``notice`` reason that says process ``pid`` let go of end ``end`` of pipe ``obj``
#: between ``ipcviz attach``'s listing and strace's hold on it (a close or an exit no
#: event shows): counted among its holders at the listing, it is counted no more.
LET_GO_NOTICE = "attach-let-go"


@handles("notice")
def _notice(s: State, e: Event) -> None:
    """``unseen-use``: a process ipcviz cannot watch there uses this object (a traced
    command storing into shared memory): from now on it may hold what no event shows.
    ``attach-refused``: a process whose closes are never seen holds no pipe end.
    ``attach-let-go``: a process let go of a pipe's end before strace held it."""
    obj = s.objects.get(e.get("obj", ""))
    if e.get("reason") in OUTSIDE_NOTICES and obj is not None:
        obj.info["outside"] = e["reason"]  # (truthy; True: declared so, found at attach)
        s.any_outside = True
    if e.get("reason") in UNSEEN_PROC_NOTICES:
        for held in s.objects.values():
            if isinstance(held, PipeObj):
                held.readers.discard(e["pid"])
                held.writers.discard(e["pid"])
    if e.get("reason") == LET_GO_NOTICE and isinstance(obj, PipeObj):
        pipe_model.let_go(obj, e)


@handles("proc.exec")
def _proc_runs(s: State, e: Event) -> None:
    """A traced process runs another program: it is called by that program's name now."""
    p = s.procs.get(e["pid"])
    if p is not None:
        p.name = str(e["name"])


@handles("proc.exit")
def _proc_exit(s: State, e: Event) -> None:
    p = s.procs.get(e["pid"])
    if p is None:
        return
    p.state, p.op, p.on, p.ons = "exited", None, None, ()
    p.exit_code, p.exit_signal = e.get("code"), e.get("signal")
    if s.held_narrations:
        s.held_narrations = [h for h in s.held_narrations if h[1] != p.pid]
    for obj in s.objects.values():  # the kernel lets go of what a dead process held
        mech = registry.get(obj.type)
        if mech is not None:
            mech.on_proc_exit(obj, p.pid)


@handles("proc.error")
def _proc_error(s: State, e: Event) -> None:
    p = s.procs.get(e["pid"])
    text = e.get("text", "")
    last = text.strip().splitlines()[-1] if text.strip() else "error"
    if p is not None:
        p.error = last
    s.errors.append(f"{s.proc_name(e['pid'])}: {last}")


@handles("narrate")
def _narrate(s: State, e: Event) -> None:
    s.step = e.get("step")
    s.step_pid = e["pid"]
    s.narrations += 1
    s.narrated_by[e["pid"]] = (s.narrations, s.step)


@handles("report")
def _report(s: State, e: Event) -> None:
    s.reports.setdefault(s.proc_name(e["pid"]), {})[e["key"]] = e.get("value")


@handles("control")
def _control(s: State, e: Event) -> None:
    action = e.get("action")
    if action == "present":  # presenter mode: a narration step holds its process (gate.py)
        s.present = bool(e.get("on"))
    if action == "pace" and e.get("ok", True):  # engine/gate.py: operations per second
        s.pace = e.get("ops")
    if action == "step_mode":  # engine/gate.py: the gates close (on) or open (off)
        s.step_mode = bool(e.get("on"))
        # the engine lets the gated go only if nothing holds them still: a pace releases
        # them one by one, a narration on the screen holds the whole world (gate.py)
        if not e.get("on") and not s.pace and not s.held_narrations:
            for p in s.procs.values():
                p.gated.clear()
                p.gated_op = p.gated_obj = None
    if action == "kill" and isinstance(e.get("target"), int):
        s.killed.setdefault(e["target"], str(e.get("reason") or "user"))
    if action in ("freeze", "resume"):
        s.frozen = action == "freeze"
        for p in s.procs.values():
            if p.alive:
                p.frozen = s.frozen


@handles("check")
def _check(s: State, e: Event) -> None:
    sc = s.header.get("scenario") or {}
    en, ko = sc.get("checks") or [], sc.get("checks_ko") or []
    said = next(
        (k for d, k in zip(en, ko, strict=False) if d == e["description"] and isinstance(k, str)),
        "",
    )
    undecided = bool(e.get("undecided")) and not e["ok"]
    s.checks.append(
        Check(
            e["description"],
            bool(e["ok"]),
            e.get("detail", ""),
            said,
            e.get("detail_ko", ""),
            undecided,
        )
    )


@handles("session.end")
def _end(s: State, e: Event) -> None:
    s.outcome = e.get("outcome")
    s.exit_code = e.get("exit_code")


@handles("error")
def _error(s: State, e: Event) -> None:
    s.errors.append(e.get("message", "error"))


@handles("tracer.stall")
def _stall(s: State, e: Event) -> None:
    s.stalls += e.get("count", 1)


@handles("drift")
def _drift(s: State, e: Event) -> None:
    if e.get("resolved"):
        s.drift.pop(e["obj"], None)
    else:
        # its time stays: the kernel's value in it is a reading, said with its age
        s.drift[e["obj"]] = {k: v for k, v in e.items() if k not in ("seq", "kind")}


@handles("probe.*")
def _probe(s: State, e: Event) -> None:
    """Kernel observations: stored beside the model's view, never mixed into it."""
    fields = {k: v for k, v in e.items() if k not in ("t", "seq", "kind", "obj", "pid")}
    fields["seq"], fields["t"] = e["seq"], e["t"]
    if "obj" in e:
        obj = s.objects.get(e["obj"])
        if obj is not None:
            obj.kernel = fields
    elif e.get("pid") and e["pid"] in s.procs:
        s.procs[e["pid"]].kernel = fields


# -- step gate, deadlock, lost updates (engine/gate.py, model/analysis) ----------------


@handles("gate.wait")
def _gate_wait(s: State, e: Event) -> None:
    p = s.procs.get(e["pid"])
    if e.get("op") == "narrate" and not s.present:
        return  # a narration step waits only for the engine's kernel probe: not held
    if p is not None:
        p.set_gated(_thread(e), e.get("op"), e.get("obj"))
    if e.get("op") == "narrate":  # presenter mode: held until the presenter goes on
        told = s.narrated_by.get(e["pid"])
        if told is not None:
            s.held_narrations.append((told[0], e["pid"], told[1]))
            s.held_narrations.sort()


@handles("gate.step")
def _gate_step(s: State, e: Event) -> None:
    p = s.procs.get(e["pid"])
    if p is not None:
        thread = _thread(e)
        if p.gated.get(thread, (None,))[0] == "narrate":
            s.held_narrations = [h for h in s.held_narrations if h[1] != p.pid]
        p.set_gated(thread, None)
    s.gate_steps += 1


def _thread(e: Event) -> int:
    """The thread of the process an event is of (0: its first; a trace's: untrusted)."""
    thread = e.get("thread", 0)
    return thread if isinstance(thread, int) else 0


@handles("deadlock")
def _deadlock(s: State, e: Event) -> None:
    cycle = e.get("cycle") or []
    # the current one, drawn until it is resolved: the cycle if one could be named, and
    # every stuck process with what it waits on
    s.deadlock = {"cycle": cycle, "stuck": e.get("stuck") or []}
    s.deadlocks.append(cycle)


@handles("deadlock.resolved")
def _deadlock_resolved(s: State, e: Event) -> None:
    if s.deadlock is not None:
        s.deadlock = None
        s.deadlocks_broken += 1


@handles("deadlock.recover")
def _deadlock_recover(s: State, e: Event) -> None:
    """The engine posted a killed victim's units back (POSIX semaphores have no SEM_UNDO)."""
    obj = s.objects.get(e["obj"])
    if isinstance(obj, SemObj):
        n = e.get("n", 1)
        obj.value += n
        obj.posts += 1
        obj.holders.pop(e.get("victim", 0), None)
        changed(obj, e)


@handles("holder.died")
def _holder_died(s: State, e: Event) -> None:
    """A lock's holder died without posting it and nobody left can (engine/deadlock.py):
    shown while the dead process still holds it (``model.analysis.holders``)."""
    s.holders_died[e["obj"]] = {k: v for k, v in e.items() if k not in ("t", "seq", "kind")}


@handles("race.lost_update")
def _lost_update(s: State, e: Event) -> None:
    s.lost_updates.append(
        {k: v for k, v in e.items() if k in ("obj", "offset", "lost", "by", "seq", "missing")}
    )
