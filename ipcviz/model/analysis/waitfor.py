"""The wait-for graph of a run, from the model alone, and the deadlocks (cycles) in it.

A process waits for a semaphore when its last record is ``sem.wait.begin`` on it (it passed
its gate and called sem_wait, and has not come back), or when the last kernel probe says it
sleeps on it (``Proc.kernel["blocked_on"]``). A lock-like semaphore (initial value 1) with
value 0 is held by the processes in ``SemObj.holders``; a waiter waits for each of them. A
cycle in that graph is a deadlock: nobody in it can move unless someone outside acts (T34).

Counting semaphores (initial value > 1 or 0) are left out: anyone may post them, so "held by"
is not defined and a cycle would not prove anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ipcviz.model.state import SemObj, State

#: Object types whose holders/waiters make wait-for edges.
SEM_TYPES = ("posix_sem", "sysv_sem")


@dataclass(frozen=True)
class Edge:
    """``pid`` waits for ``obj``, which ``holder`` holds."""

    pid: int
    obj: str
    holder: int


def waiting_on(state: State, pid: int) -> str | None:
    """The semaphore process ``pid`` waits for, from its records or else the kernel probe."""
    p = state.procs.get(pid)
    if p is None or not p.alive:
        return None
    if p.op == "sem.wait" and p.on in state.objects:
        return p.on
    probed = p.kernel.get("blocked_on") if p.kernel else None
    obj = state.objects.get(probed) if isinstance(probed, str) else None
    if obj is not None and obj.type in SEM_TYPES:
        return obj.name
    return None


def wait_for_edges(state: State) -> list[Edge]:
    """Every edge waiter → holder through a lock-like semaphore that is taken."""
    edges: list[Edge] = []
    for pid in state.procs:
        name = waiting_on(state, pid)
        if name is None:
            continue
        sem = state.objects[name]
        if not isinstance(sem, SemObj) or sem.initial != 1 or sem.value > 0:
            continue
        for holder, units in sorted(sem.holders.items()):
            h = state.procs.get(holder)
            if units > 0 and holder != pid and h is not None and h.alive:
                edges.append(Edge(pid, name, holder))
    return edges


def find_cycle(state: State) -> list[Edge] | None:
    """One cycle of the wait-for graph (edges in order, starting at the smallest pid)."""
    out: dict[int, list[Edge]] = {}
    for e in wait_for_edges(state):
        out.setdefault(e.pid, []).append(e)
    done: set[int] = set()
    path: list[Edge] = []
    on_path: dict[int, int] = {}  # pid → its position in ``path``

    def visit(pid: int) -> list[Edge] | None:
        if pid in on_path:
            return path[on_path[pid] :]
        if pid in done:
            return None
        on_path[pid] = len(path)
        for e in out.get(pid, []):
            path.append(e)
            found = visit(e.holder)
            if found is not None:
                return found
            path.pop()
        del on_path[pid]
        done.add(pid)
        return None

    for start in sorted(out):
        found = visit(start)
        if found is not None:
            return _rotate(found)
    return None


def _rotate(cycle: list[Edge]) -> list[Edge]:
    k = min(range(len(cycle)), key=lambda i: cycle[i].pid)
    return cycle[k:] + cycle[:k]


def describe(state: State, cycle: list[Edge]) -> list[dict[str, Any]]:
    """The cycle as the ``deadlock`` event carries it."""
    return [
        {
            "proc": state.proc_name(e.pid),
            "pid": e.pid,
            "waits_for": e.obj,
            "held_by": state.proc_name(e.holder),
            "held_by_pid": e.holder,
        }
        for e in cycle
    ]


def cycle_text(cycle: list[dict[str, Any]]) -> str:
    """``left waits for lock_b, held by right → right waits for lock_a, held by left``."""
    return " → ".join(
        f"{c['proc']} waits for {c['waits_for']}, held by {c['held_by']}" for c in cycle
    )
