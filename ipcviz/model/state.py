"""The state of a run as the model knows it, after some prefix of the event stream.

Plain dataclasses so views can read them and ``copy.deepcopy`` makes checkpoints. Each
object state keeps the model's view (from worker events) and, in ``kernel``, the last
kernel probe, so views can draw both and flag differences.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypedDict


@dataclass
class Proc:
    pid: int
    name: str
    color: int  # index into the view's palette; stable per process in a run
    state: str = "running"  # running | waiting | blocked | stopped | exited
    op: str | None = None  # the operation in progress, e.g. "pipe.read" (set by *.begin)
    on: str | None = None  # the object that operation is on
    #: every object of that operation when it is on several (a System V semop taking from
    #: two semaphores: ``on`` is the one it sleeps on, the first too low), else ()
    ons: tuple[str, ...] = ()
    exit_code: int | None = None
    exit_signal: int | None = None
    error: str | None = None
    frozen: bool = False
    kernel: dict[str, Any] = field(default_factory=dict)  # last probe: cpu, cpu_num, wchan...
    op_seq: int = -1  # seq of its last operation: a probe older than that is out of date
    op_t: int = -1  # ... and its record's time (a probe taken after it is not out of date)
    gated_op: str | None = None  # step mode: the operation it waits at its gate to perform
    gated_obj: str | None = None  # ... and the object it will perform it on
    #: thread → (op, obj) of each of its threads waiting at its gate (each thread has a
    #: gate of its own); gated_op/gated_obj are those of the lowest-numbered one, the
    #: thread a step of the process lets go (engine/gate.py)
    gated: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)

    def set_gated(self, thread: int, op: str | None, obj: str | None = None) -> None:
        """Thread ``thread`` waits at its gate to perform ``op`` (None: it was let go)."""
        if op is None:
            self.gated.pop(thread, None)
        else:
            self.gated[thread] = (op, obj)
        first = self.gated[min(self.gated)] if self.gated else (None, None)
        self.gated_op, self.gated_obj = first

    @property
    def alive(self) -> bool:
        return self.state != "exited"


@dataclass
class Obj:
    """Common fields of every kernel object."""

    name: str
    type: str
    kernel_name: str = ""
    declared_seq: int = 0
    removed: bool = False
    kernel: dict[str, Any] = field(default_factory=dict)  # last probe of this object
    info: dict[str, Any] = field(default_factory=dict)  # other fields of obj.declare
    #: seq and record time of the model's last change to what the kernel shows of this object:
    #: a probe older than both was taken before that change (``kernel_is_stale``).
    last_change_seq: int = -1
    last_change_t: int = -1

    @property
    def outside(self) -> bool:
        """Declared ``outside``: it existed before the trace began, or processes ipcviz
        does not watch use it (``ipcviz attach``), so it may hold contents no event shows.
        Only a kernel probe says what those are; a read or receive of them is legal."""
        return bool(self.info.get("outside"))

    def kernel_is_stale(self) -> bool:
        """True when the last probe predates the model's last change of this object.

        A probe is fresh if it was published after the change (seq), or taken after the
        change's record was written (t): the operation had returned by then, so the kernel
        showed its effect. Otherwise it may show the object as it was before.
        """
        k = self.kernel
        if not k or self.last_change_seq < 0:
            return False
        return k.get("seq", -1) < self.last_change_seq and k.get("t", -1) < self.last_change_t


@dataclass
class Check:
    description: str
    ok: bool
    detail: str = ""
    ko: str = ""  # the description in Korean (the scenario's, from the header)
    detail_ko: str = ""  # the detail in Korean (when the check gave one)
    #: the run could not show whether the claim holds (a worker was killed): not ok, but
    #: no failure either; drawn ``?``, never ``✗``
    undecided: bool = False

    def text(self, lang: str = "en") -> tuple[str, str]:
        """(description, detail) in ``lang``: the Korean where the author wrote one."""
        if lang == "ko":
            return self.ko or self.description, self.detail_ko or self.detail
        return self.description, self.detail


class Deadlock(TypedDict):
    """The deadlock drawn now (``deadlock`` event), until ``deadlock.resolved``."""

    cycle: list[Any]  # the cycle, if one could be named
    stuck: list[Any]  # every stuck process with what it waits on


class LostUpdate(TypedDict, total=False):
    """One ``race.lost_update``: a write that overwrote an update it never read."""

    obj: str
    offset: int
    lost: int
    by: Any
    seq: int
    missing: Any


@dataclass
class State:
    """Everything the views draw. ``seq`` is the last applied event's seq (-1: none)."""

    header: dict[str, Any] = field(default_factory=dict)
    seq: int = -1
    t: int = 0
    #: The latest begin (``since``, else ``t``) of any event applied: the earliest moment
    #: the history shown so far can have reached. A call is told at this moment, capped
    #: at its own end (``Narrator.entry``): its stamp is its end, and a receive stamped
    #: before the end of the send it took read as taken before it was sent.
    moment: int = 0
    count: int = 0  # events applied
    procs: dict[int, Proc] = field(default_factory=dict)
    objects: dict[str, Obj] = field(default_factory=dict)
    step: str | None = None  # current narration step id
    step_pid: int = 0
    narrations: int = 0  # narrate events so far: the last one is narration number N
    #: presenter mode: (number, pid, step) of each narration whose process the engine
    #: holds until the presenter goes on, oldest first (engine/gate.py lets them go in
    #: this order, one per continue)
    held_narrations: list[tuple[int, int, str]] = field(default_factory=list)
    #: pid → (number, step) of its latest narration (matched to its presenter-mode hold)
    narrated_by: dict[int, tuple[int, str | None]] = field(default_factory=dict)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: pid → why it was killed (``control`` kill: the user's ``k``, or the deadlock
    #: watcher's reason), in kill order: the checks must not count on what it never did
    killed: dict[int, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    drift: dict[str, dict[str, Any]] = field(default_factory=dict)  # obj → last disagreement
    stalls: int = 0
    frozen: bool = False
    outcome: str | None = None  # passed | failed | undecided | error | stopped | timeout
    exit_code: int | None = None
    kinds: Counter[str] = field(default_factory=Counter)
    # What the step gate and the analyses found (engine/gate.py, engine/deadlock.py,
    # model/analysis): typed here so views and scenario checks read attributes, not keys.
    present: bool = False  # presenter mode: a narration step holds its process
    step_mode: bool = False  # the gates are closed: processes move one step at a time
    pace: float | None = None  # --pace: operations released per second (None: full speed)
    gate_steps: int = 0  # steps the gate has released (``gate.step`` events)
    deadlock: Deadlock | None = None  # the current deadlock, until it is resolved
    deadlocks: list[list[Any]] = field(default_factory=list)  # every cycle named so far
    deadlocks_broken: int = 0
    holders_died: dict[str, dict[str, Any]] = field(default_factory=dict)  # obj → report
    lost_updates: list[LostUpdate] = field(default_factory=list)
    # Bytes the model made up for records that carried fewer than their size (model/ops.py)
    made_up: int = 0
    made_up_by: dict[str, int] = field(default_factory=dict)
    #: some object was ever marked ``outside`` (found at attach, a notice): until then no
    #: question about one needs asking (the engine's ordering asks it at every step)
    any_outside: bool = False
    #: The diagram's edges: obj → pid → verb → the operation number (``ops``) of its last
    #: use. From events only, so live, replay and step-back draw the same edges and light
    #: the same ones (the newest operations), whatever the frame rate.
    uses: dict[str, dict[int, dict[str, int]]] = field(default_factory=dict)
    ops: int = 0  # operations on objects so far (those with a diagram verb)

    def presented(self) -> tuple[int, str | None]:
        """The narration to show and its number in the run: the oldest one still held in
        presenter mode (two processes may narrate at once; each is shown, in the trace's
        order), else the latest one."""
        if self.held_narrations:
            number, _pid, step = self.held_narrations[0]
            return number, step
        return self.narrations, self.step

    def presented_pid(self) -> int:
        """The process whose narration ``presented`` shows (0: none)."""
        return self.held_narrations[0][1] if self.held_narrations else self.step_pid

    def proc_probe(self, p: Proc) -> dict[str, Any]:
        """The process's last kernel probe if it still describes this moment, else {}.

        A probe of a process is out of date when the process moved since (its last
        operation came after the probe), and also when it says the process sleeps on an
        object that changed after it was taken: a post wakes the waiter in the kernel at
        once, while the waiter's own record of it may come later in the stream. Shown
        anyway, such a probe puts "blocked on lock" beside lock at value 1.
        """
        k = p.kernel
        if not k:
            return {}
        seq, t = k.get("seq", -1), k.get("t", -1)
        if not (seq > p.op_seq or t > p.op_t):
            return {}
        obj = self.objects.get(str(k.get("blocked_on"))) if k.get("blocked_on") else None
        # older than the object's last change by either order (published before it, or
        # taken before it): a post may have woken the process since
        if obj is not None and (seq < obj.last_change_seq or t < obj.last_change_t):
            return {}
        return k

    def proc_name(self, pid: int) -> str:
        p = self.procs.get(pid)
        return p.name if p else ("engine" if pid == 0 else str(pid))

    def steps(self) -> list[dict[str, Any]]:
        return self.header.get("scenario", {}).get("steps", [])

    def step_info(self) -> dict[str, Any] | None:
        for s in self.steps():
            if s["id"] == self.step:
                return s
        return None
