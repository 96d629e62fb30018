"""The sequential specification of every kernel object: which operation is legal when.

One rule set, used twice: by the engine, to put the operations it drains from the workers'
rings into an order the kernel could have produced (``engine/linearize.py``), and by
``ipcviz verify``, to check a finished trace. Each rule looks at the model's state *before*
the operation is applied (``model/reducer.py`` applies it) and answers ``None`` (legal) or
a short reason why the kernel could not have done it then.

The rules are the objects' documented behaviour (docs/trace-format.md, "Legal history"):
bytes are read from a pipe in the order they were written and never before; a queue holds
no more than its limit and a receive takes the message the kernel would select; a semaphore
never goes below zero; a shared-memory read returns what the latest write left there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ipcviz.events.codec import payload
from ipcviz.model.state import PipeObj, QueueObj, SemObj, ShmObj, State

Event = dict[str, Any]
Rule = Callable[[Any, Event], str | None]

#: Writes up to this size are atomic in a pipe (POSIX PIPE_BUF on Linux); larger ones may
#: be split by the kernel when the buffer has less room than they need.
PIPE_BUF = 4096

#: Kinds that change no object state: they can be placed anywhere their value allows.
OBSERVERS = frozenset({"shm.read", "mq.poll"})


def _pipe_write(obj: PipeObj, e: Event) -> str | None:
    n = e.get("n", 0)
    room = obj.capacity - obj.nbytes
    if n > room:
        return f"write of {n} B into a pipe with {room} B of room"
    return None


def _pipe_read(obj: PipeObj, e: Event) -> str | None:
    n = e.get("n", 0)
    if n == 0:
        if obj.nbytes:
            return f"end of file read while {obj.nbytes} B were waiting"
        if obj.writers:
            return "end of file read while a writer still held the write end"
        return None
    if n > obj.nbytes:
        return f"read of {n} B from a pipe holding {obj.nbytes} B"
    data = payload(e)[:n]
    if data and not _starts_with(obj, data):
        return "read returned bytes other than the next ones in the pipe"
    return None


def _starts_with(obj: PipeObj, data: bytes) -> bool:
    """Whether the pipe's buffer begins with ``data`` (compared chunk by chunk, no join)."""
    pos = 0
    for chunk in obj.chunks:
        part = chunk[1][: len(data) - pos]
        if data[pos : pos + len(part)] != part:
            return False
        pos += len(part)
        if pos >= len(data):
            return True
    return pos >= len(data)


def _pipe_epipe(obj: PipeObj, e: Event) -> str | None:
    return "EPIPE while a reader still held the read end" if obj.readers else None


def select_message(obj: QueueObj, e: Event) -> int | None:
    """Index of the message the kernel hands to this receive, or None if none qualifies.

    POSIX (``prio``): the highest priority, oldest first. System V (``mtype``, ``want``):
    0 the oldest; t > 0 the oldest of type t; -t the oldest of the lowest type <= t.
    """
    msgs = obj.messages
    if not msgs:
        return None
    if "prio" in e:
        best = 0
        for i in range(1, len(msgs)):
            if msgs[i][0] > msgs[best][0]:
                best = i
        return best
    want = e.get("want", 0)
    if want == 0:
        return 0
    if want > 0:
        return next((i for i, m in enumerate(msgs) if m[0] == want), None)
    found = [(m[0], i) for i, m in enumerate(msgs) if m[0] <= -want]
    return min(found)[1] if found else None


def _mq_send(obj: QueueObj, e: Event) -> str | None:
    if "prio" in e:
        if obj.max_messages and len(obj.messages) >= obj.max_messages:
            return f"send to a full queue ({len(obj.messages)}/{obj.max_messages} messages)"
        return None
    size = e.get("size", 0)
    if obj.max_bytes and obj.nbytes + size > obj.max_bytes:
        return f"send of {size} B to a queue holding {obj.nbytes}/{obj.max_bytes} B"
    return None


def _mq_recv(obj: QueueObj, e: Event) -> str | None:
    i = select_message(obj, e)
    if i is None:
        return "receive from a queue with no message it could take"
    key = e.get("prio", e.get("mtype", 0))
    msg = obj.messages[i]
    data = payload(e)
    if msg[0] != key or msg[1][: len(data)] != data[: len(msg[1])]:
        return "receive returned a message other than the one the kernel selects"
    return None


def _mq_poll(obj: QueueObj, e: Event) -> str | None:
    ready = bool(e.get("ready"))
    if ready != bool(obj.messages):
        return f"poll said {'ready' if ready else 'empty'} with {len(obj.messages)} queued"
    return None


def _sem_wait(obj: SemObj, e: Event) -> str | None:
    n = e.get("n", 1)
    return f"wait completed at value {obj.value}" if obj.value < n else None


def _sem_trywait(obj: SemObj, e: Event) -> str | None:
    if e.get("ok"):
        return _sem_wait(obj, e)
    return f"trywait failed at value {obj.value}" if obj.value > 0 else None


def _sem_undo(obj: SemObj, e: Event) -> str | None:
    """The kernel reverses exactly the dead process's adjustment (semadj), no more."""
    if not obj.undo:
        return "SEM_UNDO reversed on a semaphore never used with SEM_UNDO"
    n, adj = e.get("n", 0), obj.adj.get(e.get("pid", 0), 0)
    return None if n == adj else f"undo of {n} unit(s), but the process's adjustment was {adj}"


def _shm_read(obj: ShmObj, e: Event) -> str | None:
    off = e.get("offset", 0)
    data = payload(e)
    if not off >= 0 or off + len(data) > obj.size:
        return None  # outside what the model keeps: nothing to compare
    if obj.data[off : off + len(data)] != data:
        return f"read at offset {off} returned a value no write had left there"
    return None


#: kind → (state class the rule applies to, rule).
RULES: dict[str, tuple[type, Rule]] = {
    "pipe.write": (PipeObj, _pipe_write),
    "pipe.read": (PipeObj, _pipe_read),
    "pipe.epipe": (PipeObj, _pipe_epipe),
    "mq.send": (QueueObj, _mq_send),
    "mq.recv": (QueueObj, _mq_recv),
    "mq.poll": (QueueObj, _mq_poll),
    "sem.wait": (SemObj, _sem_wait),
    "sem.trywait": (SemObj, _sem_trywait),
    "sem.undo": (SemObj, _sem_undo),
    "shm.read": (ShmObj, _shm_read),
}


def violation(state: State, e: Event) -> str | None:
    """Why the kernel could not have done ``e`` in ``state`` (``None``: it could)."""
    rule = RULES.get(e.get("kind", ""))
    if rule is None:
        return None
    obj = state.objects.get(e.get("obj", ""))
    if not isinstance(obj, rule[0]):
        return None
    return rule[1](obj, e)
