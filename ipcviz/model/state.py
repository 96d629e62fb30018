"""The state of a run as the model knows it, after some prefix of the event stream.

Plain dataclasses so views can read them and ``copy.deepcopy`` makes checkpoints. Each
object state keeps the model's view (from worker events) and, in ``kernel``, the last
kernel probe, so views can draw both and flag differences.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Proc:
    pid: int
    name: str
    color: int  # index into the view's palette; stable per process in a run
    state: str = "running"  # running | waiting | blocked | stopped | exited
    op: str | None = None  # the operation in progress, e.g. "pipe.read" (set by *.begin)
    on: str | None = None  # the object that operation is on
    exit_code: int | None = None
    exit_signal: int | None = None
    error: str | None = None
    frozen: bool = False
    kernel: dict[str, Any] = field(default_factory=dict)  # last probe: cpu, cpu_num, wchan...
    op_seq: int = -1  # seq of its last operation: a probe older than that is out of date
    op_t: int = -1  # ... and its record's time (a probe taken after it is not out of date)
    gated_op: str | None = None  # step mode: the operation it waits at its gate to perform
    gated_obj: str | None = None  # ... and the object it will perform it on

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
class PipeObj(Obj):
    capacity: int = 65536
    chunks: deque[list[Any]] = field(default_factory=deque)  # [writer pid, bytes], oldest first
    nbytes: int = 0
    deficit: int = 0  # bytes read before their write record arrived (operations in flight)
    written: int = 0
    read: int = 0
    writes: int = 0
    eof: bool = False
    epipe: int = 0
    readers: set[int] = field(default_factory=set)  # pids holding the read end
    writers: set[int] = field(default_factory=set)

    def contents(self) -> bytes:
        return b"".join(c[1] for c in self.chunks)


@dataclass
class ShmObj(Obj):
    size: int = 0
    cells: int = 0
    cell_size: int = 8
    data: bytearray = field(default_factory=bytearray)
    last_writer: list[int] = field(default_factory=list)  # pid per cell, 0 = nobody yet
    changed_seq: list[int] = field(default_factory=list)  # seq of the last write per cell
    reads: int = 0
    writes: int = 0


@dataclass
class SemObj(Obj):
    initial: int = 0
    value: int = 0
    #: pid → units taken and not given back, while the semaphore is used as a lock (each
    #: post by a process that took it). Empty once it is a ``signal``.
    holders: Counter[int] = field(default_factory=Counter)
    waiters: list[int] = field(default_factory=list)  # pids in wait order
    waits: int = 0
    posts: int = 0
    #: True once a process posted it without having taken it (a signal or counting
    #: semaphore, readers-writers' ``wrt`` posted by the last reader): nobody "holds" it.
    signal: bool = False
    posters: set[int] = field(default_factory=set)  # pids that posted it at least once
    #: System V SEM_UNDO: pid → the kernel's semadj (units taken minus given), reversed
    #: when the process dies (``sem.undo``)
    undo: bool = False
    adj: Counter[int] = field(default_factory=Counter)


@dataclass
class QueueObj(Obj):
    """A message queue (POSIX or System V): messages keep their boundaries (T19)."""

    messages: deque[list[Any]] = field(default_factory=deque)  # [prio or type, bytes, pid]
    max_messages: int = 0
    max_bytes: int = 0
    nbytes: int = 0
    deficit: int = 0
    senders_waiting: list[int] = field(default_factory=list)
    receivers_waiting: list[int] = field(default_factory=list)
    sent: int = 0
    received: int = 0
    last_send_pid: int = 0
    last_recv_pid: int = 0
    #: [prio or type, bytes] received before their send record arrived (records in flight)
    early: list[list[Any]] = field(default_factory=list)
    #: POSIX: messages carry a priority and the highest is delivered first; System V: a
    #: type, and a receive takes them in arrival order (set by the mechanism's declare)
    by_priority: bool = False


@dataclass
class Check:
    description: str
    ok: bool
    detail: str = ""


@dataclass
class State:
    """Everything the views draw. ``seq`` is the last applied event's seq (-1: none)."""

    header: dict[str, Any] = field(default_factory=dict)
    seq: int = -1
    t: int = 0
    count: int = 0  # events applied
    procs: dict[int, Proc] = field(default_factory=dict)
    objects: dict[str, Obj] = field(default_factory=dict)
    step: str | None = None  # current narration step id
    step_pid: int = 0
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    drift: dict[str, dict[str, Any]] = field(default_factory=dict)  # obj → last disagreement
    stalls: int = 0
    frozen: bool = False
    outcome: str | None = None  # passed | failed | error | stopped | timeout
    exit_code: int | None = None
    kinds: Counter[str] = field(default_factory=Counter)
    extra: dict[str, Any] = field(default_factory=dict)  # analyses keep their state here
    #: The diagram's edges: obj → pid → verb → the operation number (``ops``) of its last
    #: use. From events only, so live, replay and step-back draw the same edges and light
    #: the same ones (the newest operations), whatever the frame rate.
    uses: dict[str, dict[int, dict[str, int]]] = field(default_factory=dict)
    ops: int = 0  # operations on objects so far (those with a diagram verb)

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
