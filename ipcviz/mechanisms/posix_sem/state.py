"""A semaphore's state (POSIX or System V): value, holders, sleepers in order."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ipcviz.model.state import Obj


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
    #: the value a command's semctl(SETVAL) gave it last (``sem.set``), None: never set
    set_to: int | None = None
    #: pid → a semaphore it held (a lock: taken, not given back) while it waited for this
    #: one: "hold and wait", a condition of every deadlock (T34). The parts of one semop
    #: are taken at one instant: a process never holds one while it waits for another.
    hold_and_wait: dict[int, str] = field(default_factory=dict)
    #: pid → its System V semop asleep on several semaphores, this one among them: each
    #: (semaphore, units) it takes, in the call's order (``sem.wait.begin`` ``sems``)
    calls: dict[int, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    #: pids asleep in such a semop that need this semaphore too, but that the kernel
    #: counts (semncnt) on another of the call's: the first one too low. ``waiters``
    #: holds those it counts on this one, as the kernel's probe does.
    also: list[int] = field(default_factory=list)

    @property
    def base(self) -> int:
        """The value its units are counted from: its initial value, or the one set last."""
        return self.initial if self.set_to is None else self.set_to
