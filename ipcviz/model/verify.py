"""``ipcviz verify``: is a trace a legal history of every object it shows?

The rules (docs/trace-format.md, "Legal history"):

1. **Legal for each object**: replayed in ``seq`` order, every operation is one the kernel
   could have done in the state before it (``model/legal.py``): no read before its write,
   no queue over its limit, no semaphore below zero, no value out of nowhere, and no
   operation on a System V queue or semaphore after its removal (``obj.remove``: IPC_RMID
   ends it at once; only a call it woke fails after it, ``mq.eidrm``, ``sem.eidrm``).
2. **Cause before effect in real time**: an operation that ended before another began comes
   first. An operation's interval is [begin, end]: ``since`` or its ``….begin`` event for a
   call that can block; the process's previous record for any other call.
3. **Program order**: each process's records appear in the order it made them (each of
   its threads, ``thread`` n > 0, is a program order of its own).
4. **The step gate**: a process that waits at its gate (``gate.wait``, any ``op`` but a
   narration step) performs nothing until the engine's ``gate.step`` lets it go: its next
   operation comes after that ``gate.step``. Each thread waits at a gate of its own: the
   ``gate.step`` names the thread it lets go (``thread``, absent for thread 0).
5. **One semop, one instant** (``atomic``): an operation with ``joined`` (a further part
   of one System V semop) comes right after the part before it: the operation before it
   in the stream is its own process's (and thread's) semaphore operation. The kernel
   applied the whole call at once; another operation between them would show a state it
   never had.

An ``order.conflict`` event (the engine found no legal place for an operation) is a
violation too: the engine said so instead of hiding it. So is an event naming a process
before its ``proc.start`` or an object before its ``obj.declare`` (rule ``unknown``): the
views would draw something that, by the trace's own account, does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ipcviz.events import phrases
from ipcviz.i18n import Lazy, lazy, text
from ipcviz.mechanisms import registry
from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.model.legal import RULES
from ipcviz.model.reducer import apply
from ipcviz.model.state import State

#: Kinds a worker records itself (ring records), in its program order.
RING_KINDS = frozenset(spec.kind for spec in registry.codes().values())
#: A worker's operations on kernel objects: what its step gate holds back.
OPERATIONS = frozenset(k for f in registry.families() for k in f.handlers) & RING_KINDS
#: Types whose removal ends them at once (System V queues and semaphores: IPC_RMID)
GONE_AT_REMOVAL = registry.gone_at_removal()
#: The operations a removed object of those types still shows: a call its removal woke,
#: failed with EIDRM (and a call's ``….begin``, which changes nothing)
AFTER_REMOVAL = frozenset({"mq.eidrm", "sem.eidrm"})
#: The parts of one System V semop (rule 5): a part with ``joined`` follows one of these.
SEMOP_PARTS = frozenset({"sem.wait", "sem.post", "sem.trywait"})
#: Events that change a semaphore's value but are no worker's operation: the kernel's
#: SEM_UNDO at an exit, the engine's posting back for a killed holder. No more than an
#: operation can they come between the parts of one semop (rule 5).
SEM_CHANGES = frozenset({"sem.undo", "deadlock.recover"})


@dataclass(frozen=True)
class Violation:
    seq: int
    kind: str
    obj: str
    #: legal | real-time | program-order | gate | atomic | conflict | unknown | unreadable
    rule: str
    #: why, worded when shown: ``line()`` says it in the language chosen then (the rule's
    #: name is an identifier, the same in every language)
    message: str | Lazy

    def line(self) -> str:
        where = f" {self.obj}" if self.obj else ""
        return f"seq {self.seq}: {self.rule}: {self.kind}{where}: {text(self.message)}"


def check(header: dict[str, Any], events: Iterable[dict[str, Any]]) -> Iterator[Violation]:
    """Every violation in the trace, in stream order."""
    state = State(header=header)
    verifier = Verifier()
    for e in events:
        yield from verifier.feed(state, e)
        apply(state, e)


def first_violation(reader: Any) -> tuple[Violation | None, int]:
    """The first violation of a trace (``TraceReader``) and how many there are: what a
    replay says before it shows anything (TraceError for a bad line, as any reader)."""
    first, count = None, 0
    for v in check(reader.header, reader.events()):
        first = first or v
        count += 1
    return first, count


#: ``began``'s ``since`` when the event has none (a trace may hold ``"since": null``).
NO_SINCE: Any = object()


def began(begun: dict[Any, int], lane: Any, kind: str, t: int, since: Any, prev: int | None) -> Any:
    """Where an operation that ended at ``t`` began, as rule 2 reads a trace: its own
    ``….begin`` event (noted in ``begun`` for the lane), its ``since``, else the end of the
    lane's previous record (``prev``; the event itself when there is none). Shared with
    whoever places an event of its own right after an operation and must claim no earlier
    instant than verify gives that operation (a C example's steps, ``ProgramEngine``)."""
    if kind.endswith(".begin"):
        begun[lane] = t
        return t
    if since is not NO_SINCE:
        begun.pop(lane, None)
        return since
    return begun.pop(lane, prev if prev is not None else t)


#: ``notice`` reasons about a process the trace cannot follow (a child forked while ipcviz
#: attached, traced by no one: ``sources/strace/attached.py``): naming it is their point.
UNTRACED_NOTICES = frozenset({"attach-missed"})


def _about_untraced(e: dict[str, Any]) -> bool:
    return e.get("kind") == "notice" and e.get("reason") in UNTRACED_NOTICES


class Verifier:
    """The rules, fed one event at a time with the model's state *before* it; the caller
    applies the event. ``ipcviz verify`` and the replay index share it, so a replay says
    what verify says, found in the same pass that indexes the trace."""

    def __init__(self) -> None:
        self.last_t: dict[Any, int] = {}  # pid (or (pid, thread)) → its latest ring record
        self.started: dict[int, int] = {}
        self.begun: dict[Any, int] = {}  # pid (or (pid, thread)) → its open ….begin event
        self.latest_begin = -1  # the latest begin among the operations seen so far
        self.latest_seq = -1
        self.gate = GateRule()
        #: (pid, thread (0: the first), kind) of the latest operation in the stream (rule 5)
        self.last_op: tuple[Any, Any, str] | None = None

    def feed(self, state: State, e: dict[str, Any]) -> list[Violation]:
        """The violations of ``e`` (usually none), given the state before it. Never raises
        on a hand-made event the rules cannot read: that is a violation too (a replay of
        such a trace still shows it)."""
        try:
            return self._feed(state, e)
        except Exception as exc:  # untrusted input: fields of a type the rules do not take
            seq, kind = e.get("seq", -1), str(e.get("kind", ""))[:40]
            why = lazy("cannot be checked ({error})", error=type(exc).__name__)
            return [Violation(seq if isinstance(seq, int) else -1, kind, "", "unreadable", why)]

    def _feed(self, state: State, e: dict[str, Any]) -> list[Violation]:
        # the hot path of every replay: locals, and nothing built unless a rule is broken
        found: list[tuple[str, str | Lazy]] = []
        kind = e.get("kind", "")
        if kind == "order.conflict":
            said = str(e.get("message", ""))  # the engine's English: worded when shown
            found.append(("conflict", phrases.match(said) or said))
        pid = e.get("pid", 0)
        if pid and pid not in state.procs and kind != "proc.start" and not _about_untraced(e):
            found.append(("unknown", lazy("names process {pid}, never started", pid=pid)))
        obj = e.get("obj")
        if obj is not None and obj not in state.objects and kind != "obj.declare":
            found.append(("unknown", lazy("names an object never declared")))
        t = e.get("t", 0)
        last_t = self.last_t
        if kind == "proc.start":
            last_t[pid] = t
            self.started[pid] = t
        if kind in RING_KINDS:
            if e.get("joined") and not _right_after(self.last_op, e):
                found.append(
                    (
                        "atomic",
                        lazy(
                            "a part of one semop, but the operation before it is not the "
                            "part before it: the kernel applied the call at one instant"
                        ),
                    )
                )
            if kind in OPERATIONS:
                self.last_op = (pid, e.get("thread") or 0, kind)
            thread = e.get("thread")
            lane: Any = pid
            if isinstance(thread, int) and thread:
                # a thread of the process: a program order of its own, begun with it (and
                # held to real time as any: before, its records skipped rules 2 and 3)
                lane = (pid, thread)
                last_t.setdefault(lane, self.started.get(pid, 0))
            if isinstance(t, int):
                begun = self.begun
                prev = last_t.get(lane)
                if prev is not None and t < prev:
                    found.append(
                        ("program-order", lazy("recorded before the process's previous record"))
                    )
                begin = began(begun, lane, kind, t, e.get("since", NO_SINCE), prev)
                latest = self.latest_begin
                if t < latest:
                    found.append(
                        (
                            "real-time",
                            lazy(
                                "ended at {t} ns, before seq {seq} began ({begin} ns), "
                                "but comes after it",
                                t=t,
                                seq=self.latest_seq,
                                begin=latest,
                            ),
                        )
                    )
                if isinstance(begin, int) and begin > latest:
                    self.latest_begin, self.latest_seq = begin, e.get("seq", -1)
                last_t[lane] = t
        if kind in SEM_CHANGES or (
            # (a program's semctl(SETVAL) declares its semaphore again, with the value)
            kind == "obj.declare" and isinstance(state.objects.get(obj), SemObj)
        ):
            self.last_op = (pid, e.get("thread") or 0, kind)
        if self.gate.waiting or kind == "gate.wait":
            why = self.gate.feed(e)
            if why is not None:
                found.append(("gate", why))
        if kind in OPERATIONS:
            gone = state.objects.get(e.get("obj", ""))
            if (
                gone is not None
                and gone.removed
                and gone.type in GONE_AT_REMOVAL
                and kind not in AFTER_REMOVAL
                and not kind.endswith(".begin")
            ):
                found.append(("legal", AFTER_ITS_REMOVAL))
        rule = RULES.get(kind)
        if rule is not None:  # ``legal.violation``, inline: most events have a rule
            obj = state.objects.get(e.get("obj", ""))
            if isinstance(obj, rule[0]):
                why = rule[1](obj, e)
                if why is not None:
                    found.append(("legal", why))
        if not found:
            return []
        seq = e.get("seq", -1)
        obj = e.get("obj", "") if isinstance(e.get("obj"), str) else ""
        return [Violation(seq, kind, obj, rule, why) for rule, why in found]


#: Why an operation after its object's removal is illegal (rule 1, worded when shown)
AFTER_ITS_REMOVAL = lazy(
    "after the object was removed (IPC_RMID): the kernel fails every call on it from then on"
)


def _right_after(last: tuple[Any, Any, str] | None, e: dict[str, Any]) -> bool:
    """Whether ``last`` (the stream's operation before ``e``) can be the part of ``e``'s
    semop before it: a part of a semop (not a ``sem.set``, a ``sem.undo``, a begin) of the
    same process and thread."""
    if last is None:
        return False
    pid, thread, kind = last
    # (``thread`` 0 and no ``thread`` are the same first thread)
    return pid == e.get("pid") and thread == (e.get("thread") or 0) and kind in SEMOP_PARTS


class GateRule:
    """Rule 4: no operation of a process between its ``gate.wait`` and the ``gate.step``
    that released it. Keyed by process and thread (a thread records its own gate.wait,
    and the engine's ``gate.step`` names the thread it lets go, as ``thread`` n > 0): a
    step of one thread lets no other thread of the process go."""

    def __init__(self) -> None:
        self.waiting: dict[tuple[int, int], int] = {}  # (pid, thread) → seq of its gate.wait

    def feed(self, e: dict[str, Any]) -> Lazy | None:
        kind, pid = e.get("kind", ""), e.get("pid", 0)
        thread = e.get("thread") if isinstance(e.get("thread"), int) else 0
        if kind == "gate.wait":
            if e.get("op") != "narrate":  # a narration step is let go without a gate.step
                self.waiting[(pid, thread)] = e.get("seq", -1)
        elif kind == "gate.step":
            self.waiting.pop((pid, thread), None)
        elif kind == "proc.exit":
            for k in [k for k in self.waiting if k[0] == pid]:
                del self.waiting[k]
        elif kind in OPERATIONS and (pid, thread) in self.waiting:
            wait_seq = self.waiting.pop((pid, thread))
            return lazy(
                "published before the gate.step that let it go (the process waits at its "
                "gate since seq {seq})",
                seq=wait_seq,
            )
        return None
