"""Who waits for whom in a deadlock, and the cycle, once the kernel proved nobody can move.

This module never decides that there *is* a deadlock: the engine does, from the kernel
(``ipcviz.engine.deadlock``), and only when every live process of the session sleeps in an
IPC call with no timeout and none of them ran between two looks. What the model adds is the
explanation: for each stuck process, who could end its wait, and a cycle through them.

Who could end a wait:

- reading an empty pipe or FIFO: the processes that hold its write end (the kernel's fd
  tables); writing a full one: those that hold its read end;
- a semaphore used as a lock (every post so far came from a process that had taken it):
  its holders, and nobody else — when they are all dead, nobody (``holder.died`` tells
  it); a semaphore posted by others (a signal, a counting semaphore, readers-writers'
  ``wrt`` posted by the last reader): the processes that posted it before, or else any
  other process;
- never a process asleep on the same semaphore: it can post it only after it got it, so it
  cannot be the one to end the wait (two waiters stranded on one semaphore are not a
  cycle: they do not wait for each other);
- a message queue, a FIFO waiting for its partner to open it: any other process;
- ``wait4``: the children it waits for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ipcviz.i18n import N_, Lazy, lazy
from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.model.state import State
from ipcviz.narrate.said import Joined

#: How sure an edge is: "held"/"writer"/"reader"/"child" come from the kernel's fd tables or
#: the model's lock holders; "poster" from who posted before; "anyone" is every other process.
PRECISION = {"held": 0, "writer": 0, "reader": 0, "child": 0, "poster": 1, "anyone": 2}


@dataclass(frozen=True)
class Wait:
    """One process asleep in the kernel on an IPC object, as /proc/PID/syscall shows it.

    ``op``: read, write (pipes and FIFOs), open (a FIFO waiting for its partner), sem,
    recv, send (message queues) or child (wait4). ``peers``: from the kernel, the processes
    holding the other end of the pipe (or the children waited for); None when the kernel
    does not say (semaphores, queues).
    """

    pid: int
    op: str
    obj: str = ""
    peers: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Edge:
    """``pid`` waits on ``obj``, and ``holder`` could end that wait (``how``: see PRECISION)."""

    pid: int
    obj: str
    holder: int
    how: str = "held"
    only: bool = True  # ``holder`` is the only one who could


def edges_of(state: State, wait: Wait, stuck: dict[int, Wait]) -> list[Edge]:
    """The processes (all stuck too) that could end ``wait``, best known first."""
    pid, others = wait.pid, [p for p in sorted(stuck) if p != wait.pid]
    if wait.peers is not None:
        how = {"read": "writer", "write": "reader", "child": "child"}.get(wait.op, "held")
        peers = [p for p in wait.peers if p in stuck]
    else:
        how, peers = "anyone", others
        sem = state.objects.get(wait.obj)
        if wait.op == "sem" and isinstance(sem, SemObj):
            free = [p for p in others if not (stuck[p].op == "sem" and stuck[p].obj == wait.obj)]
            held = [p for p, n in sorted(sem.holders.items()) if n > 0]
            posters = [p for p in sorted(sem.posters) if p in free]
            if not sem.signal and held:
                how, peers = "held", [p for p in held if p in free]  # dead holders: nobody
            elif posters:
                how, peers = "poster", posters
            else:
                peers = free
    return [Edge(pid, wait.obj, p, how, len(peers) == 1) for p in peers]


def find_cycle(state: State, stuck: dict[int, Wait]) -> list[Edge] | None:
    """One cycle among the stuck processes (starting at the smallest pid), precise edges
    tried first; None if every chain of waits ends at someone nobody stuck can free."""
    out = {
        pid: sorted(edges_of(state, w, stuck), key=lambda e: PRECISION.get(e.how, 3))
        for pid, w in stuck.items()
    }
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


def describe(state: State, cycle: list[Edge], stuck: dict[int, Wait]) -> list[dict[str, Any]]:
    """The cycle as the ``deadlock`` event carries it."""
    return [
        {
            "proc": state.proc_name(e.pid),
            "pid": e.pid,
            "op": stuck[e.pid].op,
            "waits_for": e.obj,
            "held_by": state.proc_name(e.holder),
            "held_by_pid": e.holder,
            "how": e.how,
            "only": e.only,
        }
        for e in cycle
    ]


def describe_stuck(state: State, stuck: dict[int, Wait]) -> list[dict[str, Any]]:
    """Every stuck process, what it waits on, and who (stuck too) could end that wait."""
    rows = []
    for pid in sorted(stuck):
        w = stuck[pid]
        rows.append(
            {
                "proc": state.proc_name(pid),
                "pid": pid,
                "op": w.op,
                "waits_for": w.obj,
                "by": [state.proc_name(e.holder) for e in edges_of(state, w, stuck)],
            }
        )
    return rows


def wait_said(c: dict[str, Any]) -> Lazy:
    """What one process of a cycle waits for, in words: ``waits for lock_b, held by right``."""
    obj, who, how = c["waits_for"], c["held_by"], c.get("how", "held")
    only = c.get("only", True)
    if how == "held":
        return lazy("waits for {obj}, held by {who}", obj=obj, who=who)
    if how == "writer":
        if only:
            return lazy("waits to read {obj}, whose only writer is {who}", obj=obj, who=who)
        return lazy("waits to read {obj}, written by {who}", obj=obj, who=who)
    if how == "reader":
        if only:
            return lazy("waits to write {obj} (full), whose only reader is {who}", obj=obj, who=who)
        return lazy("waits to write {obj} (full), read by {who}", obj=obj, who=who)
    if how == "child":
        return lazy("waits for its child {who}", who=who)
    if how == "poster":
        return lazy("waits for {obj} (value 0), posted before by {who}", obj=obj, who=who)
    template = _ANYONE.get(c.get("op", "sem"), N_("waits on {obj}, which {who} could end"))
    return Lazy(template, obj=obj, who=who)


#: a wait anyone else could end, by what the process waits to do
_ANYONE = {
    "sem": N_("waits for {obj} (value 0), which {who} could post"),
    "recv": N_("waits to receive from {obj} (empty), which {who} could send to"),
    "send": N_("waits to send to {obj} (full), which {who} could receive from"),
    "open": N_("waits for a partner to open {obj}, as {who} could"),
    "read": N_("waits to read {obj}, which {who} could write"),
    "write": N_("waits to write {obj}, which {who} could read"),
}


def wait_text(c: dict[str, Any]) -> str:
    """:func:`wait_said` in the language now chosen."""
    return wait_said(c).render()


def link_said(c: dict[str, Any]) -> Lazy:
    """One link of a cycle in words: ``left waits for lock_b, held by right``."""
    return lazy("{proc} {waits}", proc=c["proc"], waits=wait_said(c))


def link_text(c: dict[str, Any]) -> str:
    return link_said(c).render()


def cycle_said(cycle: list[dict[str, Any]]) -> Lazy:
    """``left waits for lock_b, held by right → right waits for lock_a, held by left``."""
    return Joined(" → ", [link_said(c) for c in cycle])


def cycle_text(cycle: list[dict[str, Any]]) -> str:
    return cycle_said(cycle).render()


def deadlock_said(event: dict[str, Any]) -> Lazy:
    """A ``deadlock`` event in words: its cycle, or else who is stuck on what."""
    cycle = event.get("cycle") or []
    if cycle:
        return cycle_said(cycle)
    parts: list[Lazy] = []
    for row in event.get("stuck") or []:
        op = row.get("op", "")
        what = f"{op} {row.get('waits_for', '')}".strip()
        by = row.get("by") or []
        if by:
            parts.append(
                lazy(
                    "{proc} waits: {what} (only {by} could end it)",
                    proc=row.get("proc"),
                    what=what,
                    by=", ".join(str(b) for b in by),
                )
            )
        else:
            parts.append(
                lazy(
                    "{proc} waits: {what} (nobody left can end it)", proc=row.get("proc"), what=what
                )
            )
    return Joined("; ", parts) if parts else lazy("every process is blocked")


def deadlock_text(event: dict[str, Any]) -> str:
    """:func:`deadlock_said` in the language now chosen."""
    return deadlock_said(event).render()
