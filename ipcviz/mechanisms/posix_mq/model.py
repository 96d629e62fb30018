"""Message queues as the model sees them: the ``mq.*`` kinds, shared by POSIX and System V.

Messages keep their boundaries (T19). A POSIX message has a priority (``prio``) and the
queue hands out the highest first; a System V message has a type (``mtype``) and a receive
names the type it wants (``want``).
"""

from __future__ import annotations

from typing import Any

from ipcviz.events.codec import payload
from ipcviz.events.fields import Kind, count, flag, integer, payload_within
from ipcviz.i18n import Lazy, lazy
from ipcviz.mechanisms.base import Family
from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.mechanisms.posix_mq.words import WORDS
from ipcviz.model.ops import begin, changed, done, given_back, made_up
from ipcviz.model.state import Obj, State

Event = dict[str, Any]


def _msg_key(e: Event) -> int:
    return e["prio"] if "prio" in e else e.get("mtype", 0)


def _msg_data(s: State, e: Event) -> bytes:
    return _msg_bytes(s, e)[0]


def _msg_bytes(s: State, e: Event) -> tuple[bytes, int]:
    """The message's bytes, padded with zeros to its size past what was recorded, and
    how many were recorded."""
    data = payload(e)
    size = e.get("size", len(data))
    return (made_up(s, e, data, size) if len(data) < size else data), len(data)


def _send_begin(s: State, e: Event) -> None:
    begin(s, e, "senders_waiting")


def _recv_begin(s: State, e: Event) -> None:
    begin(s, e, "receivers_waiting")


def _again(s: State, e: Event) -> None:
    """Refused, nothing changed: a System V receive's begin (its type) ends here."""
    done(s, e, "senders_waiting" if e.get("send") else "receivers_waiting")


def _eidrm(s: State, e: Event) -> None:
    """``msgsnd``/``msgrcv`` failed with EIDRM: the queue was removed while the call was in
    it. Nothing was sent or taken; the process waits no more."""
    done(s, e, "senders_waiting" if e.get("send") else "receivers_waiting")


def _copy(s: State, e: Event) -> None:
    """``msgrcv(MSG_COPY)``: the process got a copy; the message stays where it was, and
    the kernel changes none of the queue's counts or times (its receive's begin ends)."""
    done(s, e, "receivers_waiting")


def _limit(s: State, e: Event) -> None:
    """``msgctl(IPC_SET)`` with a new ``msg_qbytes``: from its return, the bytes the queue
    may hold (a send waits, or is refused, past it; what it holds already stays)."""
    obj = s.objects[e["obj"]]
    assert isinstance(obj, QueueObj)
    obj.max_bytes = e["max_bytes"]  # (required: 0 too is a limit, never "none known")
    changed(obj, e)


#: Messages of an outside queue received before any traced send explained them, kept at
#: most: received from a process ipcviz does not watch (a producer outside the tree),
#: they would pile up for the whole watch.
EARLY_KEPT = 256


def _send(s: State, e: Event) -> None:
    done(s, e, "senders_waiting")
    obj = s.objects[e["obj"]]
    assert isinstance(obj, QueueObj)
    pid = e["pid"]
    key, (data, known) = _msg_key(e), _msg_bytes(s, e)
    obj.sent += 1
    obj.last_send_pid = pid
    changed(obj, e)
    for i, early in enumerate(obj.early):  # a receiver already took it
        if early[0] == key and early[1] == data:
            del obj.early[i]
            obj.deficit -= 1
            if obj.outside and obj.from_outside:
                obj.from_outside -= 1
            given_back(s, obj)
            return
    # past ``known``, bytes the trace did not record (made up as zeros)
    _enqueue(obj, [key, data, pid] if known >= len(data) else [key, data, pid, known])
    obj.nbytes += len(data)
    if obj.outside:
        _taken_unseen(s, obj)


def _taken_unseen(s: State, obj: QueueObj) -> None:
    """An outside queue the traced messages overfill: a process ipcviz does not watch
    received some meanwhile (the kernel's readings tell how many it holds). Those a
    receive takes first leave the model's queue, so it holds no more than the kernel
    can."""
    while obj.messages and (
        (obj.max_messages and len(obj.messages) > obj.max_messages)
        or (obj.max_bytes is not None and obj.nbytes > obj.max_bytes)
    ):
        i = select_message(obj, {"prio": 0} if obj.by_priority else {}) or 0
        obj.nbytes -= len(obj.messages[i][1])
        del obj.messages[i]
    given_back(s, obj)  # (as a receive's: made-up bytes it held may be among them)


def _enqueue(obj: QueueObj, msg: list[Any]) -> None:
    """Put a message where the kernel keeps it, so the queue is drawn in delivery order.
    (``msg``: [prio or type, bytes, sender pid], and how many of its bytes were recorded
    where not all were: ``QueueObj.messages``.)

    A POSIX queue hands out the highest priority first and, within one priority, the oldest
    (mq_receive(3)): the message goes behind every message of its priority or higher. A
    System V queue keeps arrival order (msgrcv with type 0 takes the oldest).
    """
    queue = obj.messages
    if not obj.by_priority or not queue or queue[-1][0] >= msg[0]:
        queue.append(msg)  # the usual case: arrival order is delivery order
        return
    i = len(queue)
    while i > 0 and queue[i - 1][0] < msg[0]:
        i -= 1
    queue.insert(i, msg)


def _recv(s: State, e: Event) -> None:
    done(s, e, "receivers_waiting")
    obj = s.objects[e["obj"]]
    assert isinstance(obj, QueueObj)
    pid = e["pid"]
    key, data = _msg_key(e), _msg_data(s, e)
    raw, size, cut = payload(e), e.get("size", len(data)), _cut(obj, e)
    obj.received += 1
    obj.last_recv_pid = pid
    changed(obj, e)
    for i, msg in enumerate(obj.messages):
        if takes(_held(msg), key, raw, size, cut):
            del obj.messages[i]
            obj.nbytes -= len(msg[1])
            given_back(s, obj)
            return
    if obj.outside:  # sent before the attach, or by a process ipcviz does not watch...
        obj.from_outside += 1  # (...unless a traced send placed after it explains it)
    obj.early.append([key, data])
    obj.deficit += 1
    if obj.outside and len(obj.early) >= EARLY_KEPT:
        # only a send in flight at once explains a receive: the oldest were from outside
        del obj.early[: len(obj.early) - EARLY_KEPT // 2]
        obj.deficit = len(obj.early)
        given_back(s, obj)


# -- legal history ---------------------------------------------------------------------


def takes(
    held: tuple[int, bytes, int], key: int, data: bytes, size: int, cut: bool = False
) -> bool:
    """Whether a receive that got ``size`` bytes, ``data`` of them recorded, of type or
    priority ``key`` took the message ``held`` (its key, its recorded bytes, its size).
    A record may hold fewer bytes than its size (a traced program's strings are cut at
    strace's ``-s``), so only the bytes both hold are compared; but the sizes agree: a
    receive of "xyz" never took "xy" (taken for it, the order search went on from a queue
    the kernel never held, and accused a correct program). ``cut``: a System V receive
    with ``MSG_NOERROR`` that filled its buffer (``size`` bytes): the message may have
    been longer, and the kernel cut it."""
    held_key, have, held_size = held
    if held_key != key or not (held_size == size or (cut and held_size > size)):
        return False
    n = min(len(have), len(data))
    return have[:n] == data[:n]


def _cut(obj: QueueObj, e: Event) -> bool:
    """A receive's ``cut`` (``MSG_NOERROR``: the message may have been longer): System V
    only. A POSIX receive never cuts a message (EMSGSIZE): said of one, it let a receive
    of "A" take "ABC" in a legal history."""
    return bool(e.get("cut")) and not obj.by_priority


def _held(msg: list[Any]) -> tuple[int, bytes, int]:
    """A model's message for ``takes``: its bytes are padded to its size."""
    return msg[0], msg[1], len(msg[1])


def select_message(obj: QueueObj, e: Event) -> int | None:
    """Index of the message the kernel hands to this receive, or None if none qualifies.

    POSIX: the highest priority, oldest first. System V (``want``): 0 the oldest; t > 0
    the oldest of type t (with ``except``, ``MSG_EXCEPT``: the oldest of any other type);
    -t the oldest of the lowest type <= t (msgrcv(2), the kernel's ``find_msg``). Which
    one is the queue's to say, not the event's: a POSIX receive with no ``prio`` and a
    ``want`` of -1 was checked as a System V one, and took a message of priority 0 over
    one of 5 in a legal history.
    """
    msgs = obj.messages
    if not msgs:
        return None
    if obj.by_priority:
        best = 0
        for i in range(1, len(msgs)):
            if msgs[i][0] > msgs[best][0]:
                best = i
        return best
    want = e.get("want", 0)
    if want == 0:
        return 0
    if want > 0:
        if e.get("except"):
            return next((i for i, m in enumerate(msgs) if m[0] != want), None)
        return next((i for i, m in enumerate(msgs) if m[0] == want), None)
    found = [(m[0], i) for i, m in enumerate(msgs) if m[0] <= -want]
    return min(found)[1] if found else None


def _legal_send(obj: QueueObj, e: Event) -> Lazy | None:
    if obj.outside:  # a process ipcviz does not watch may have received traced messages
        return None
    if "prio" in e:
        if obj.max_messages and len(obj.messages) >= obj.max_messages:
            return lazy(
                "send to a full queue ({count}/{max} messages)",
                count=len(obj.messages),
                max=obj.max_messages,
            )
        return None
    size = e.get("size", 0)
    if not fits(obj.max_bytes, obj.nbytes, len(obj.messages), size):
        return lazy(
            "send of {size} B to a queue holding {held}/{max} B",
            size=size,
            held=obj.nbytes,
            max=obj.max_bytes,
        )
    return None


def fits(max_bytes: int | None, nbytes: int, count: int, size: int) -> bool:
    """Whether a System V queue holding ``count`` messages of ``nbytes`` has room for one
    of ``size`` bytes under its limit ``max_bytes`` (None: none known). The kernel's
    ``msg_fits_inqueue``: the bytes fit, and one message more is no more than the limit
    either (msgsnd(2): a queue of 8 bytes holds at most 8 messages, even empty ones). A
    limit of 0 (``msgctl(IPC_SET)`` with ``msg_qbytes`` 0) holds nothing: taken for "none
    known", a refused send there was an ``order.conflict`` blaming a correct program."""
    return max_bytes is None or (nbytes + size <= max_bytes and count + 1 <= max_bytes)


def _legal_recv(obj: QueueObj, e: Event) -> Lazy | None:
    if obj.outside:  # messages no event shows may be there, ahead of the traced ones
        return None
    i = select_message(obj, e)
    if i is None:
        return lazy("receive from a queue with no message it could take")
    key = e.get("prio", e.get("mtype", 0))
    data = payload(e)
    if not takes(_held(obj.messages[i]), key, data, e.get("size", len(data)), _cut(obj, e)):
        return lazy("receive returned a message other than the one the kernel selects")
    return None


def _legal_copy(obj: QueueObj, e: Event) -> Lazy | None:
    """``MSG_COPY`` copies the message at index ``want`` (0 the oldest), whatever its type."""
    if obj.outside:  # messages no event shows may be there, ahead of the traced ones
        return None
    index = e.get("want", 0)
    if not 0 <= index < len(obj.messages):
        return lazy(
            "copy of message {index} from a queue holding {n}", index=index, n=len(obj.messages)
        )
    data = payload(e)
    if not takes(_held(obj.messages[index]), e.get("mtype", 0), data, e.get("size", len(data))):
        return lazy("copy returned a message other than the one at index {index}", index=index)
    return None


def _legal_poll(obj: QueueObj, e: Event) -> Lazy | None:
    ready = bool(e.get("ready"))
    if ready != bool(obj.messages):
        if ready:
            return lazy("poll said ready with {n} queued", n=len(obj.messages))
        return lazy("poll said empty with {n} queued", n=len(obj.messages))
    return None


def _legal_again(obj: QueueObj, e: Event) -> Lazy | None:
    """A non-blocking send refused (EAGAIN) only on a full queue (a System V one: where its
    ``size``, when said, did not fit), a receive on an empty one. Any refusal is legal on
    an ``outside`` queue: it may hold messages no event shows, and a process ipcviz does
    not watch may have taken those the trace shows."""
    if obj.outside:
        return None
    n = len(obj.messages)
    if e.get("send"):
        if obj.max_messages and n < obj.max_messages:
            return lazy("send refused (EAGAIN) with {n} of {max} queued", n=n, max=obj.max_messages)
        size = e.get("size")  # a System V send's (a traced program's): its bytes fitted?
        if size is not None and fits(obj.max_bytes, obj.nbytes, n, size):
            return lazy(
                "send of {size} B refused (EAGAIN) with {held} of {max} B queued",
                size=size,
                held=obj.nbytes,
                max=obj.max_bytes,
            )
        return None
    probe: Event = {"prio": 0} if obj.by_priority else {"want": e.get("want", 0)}
    if select_message(obj, probe) is not None:
        return lazy("receive refused (EAGAIN) with {n} queued", n=n)
    return None


def _legal_eidrm(obj: QueueObj, e: Event) -> Lazy | None:
    """EIDRM only once the queue is removed (IPC_RMID wakes its sleepers with it)."""
    return None if obj.removed else lazy("failed with EIDRM before the object was removed")


# -- declare and process hooks ---------------------------------------------------------


def declare_limits(s: State, obj: Obj, e: Event) -> None:
    """The queue's limits (in messages for POSIX, in bytes for System V). A declared
    ``max_bytes`` of 0 says none is known (docs/trace-format.md); an ``mq.limit`` of 0 is
    a limit."""
    assert isinstance(obj, QueueObj)
    obj.max_messages = e.get("max_messages", 0)
    obj.max_bytes = e.get("max_bytes") or None


def declare(s: State, obj: Obj, e: Event) -> None:
    """A POSIX queue: delivered by priority."""
    declare_limits(s, obj, e)
    assert isinstance(obj, QueueObj)
    obj.by_priority = True


def on_proc_exit(obj: Obj, pid: int) -> None:
    assert isinstance(obj, QueueObj)
    for waiting in (obj.senders_waiting, obj.receivers_waiting):
        if pid in waiting:
            waiting.remove(pid)


#: A message operation: its size, and its priority (POSIX) or type (System V); a receive
#: says which type it wants.
_OP = {
    "n": count,
    "size": count,
    "prio": integer(),
    "mtype": integer(),
    "want": integer(),
    "later": flag,
    "cut": flag,
    "except": flag,
}
#: The kernel's view of a POSIX queue (its /dev/mqueue file).
PROBE_FIELDS = {k: integer() for k in ("current_messages", "max_messages", "max_message_size")}

FAMILY = Family(
    name="mq",
    kinds={
        "mq.send.begin": Kind(_OP),
        "mq.send": Kind(_OP, ("obj",), payload_within("size")),
        "mq.recv.begin": Kind(_OP),
        "mq.recv": Kind(_OP, ("obj",), payload_within("size")),
        "mq.poll": Kind({"ready": flag}),
        "mq.again": Kind({"send": flag, "want": integer(), "size": count}),
        "mq.copy": Kind(_OP, ("obj",), payload_within("size")),
        "mq.limit": Kind({"max_bytes": integer(0, 2**64 - 1)}, ("obj", "max_bytes")),
        "mq.notify": Kind(),
        "mq.eidrm": Kind({"send": flag}, ("obj",)),
    },
    state=QueueObj,
    view="ipcviz.mechanisms.posix_mq.view",
    words=WORDS,
    completes={
        "mq.send": ("mq.send", "mq.eidrm"),
        "mq.recv": ("mq.recv", "mq.again", "mq.copy", "mq.eidrm"),
    },
    slices=frozenset({"mq.send", "mq.recv"}),
    counter=("messages", lambda obj: len(obj.messages)),
    flows={"mq.send": (True, True), "mq.recv": (False, True)},
    verbs={
        "mq.send.begin": "send",
        "mq.send": "send",
        "mq.recv.begin": "receive",
        "mq.recv": "receive",
        "mq.copy": "copy",
    },
    puts=frozenset({"send"}),
    diagram="ipcviz.mechanisms.posix_mq.diagram",
    handlers={
        "mq.send.begin": _send_begin,
        "mq.recv.begin": _recv_begin,
        "mq.send": _send,
        "mq.recv": _recv,
        "mq.again": _again,
        "mq.copy": _copy,
        "mq.limit": _limit,
        "mq.eidrm": _eidrm,
    },
    rules={
        "mq.send": _legal_send,
        "mq.recv": _legal_recv,
        "mq.poll": _legal_poll,
        "mq.again": _legal_again,
        "mq.copy": _legal_copy,
        "mq.eidrm": _legal_eidrm,
    },
    observers=frozenset({"mq.poll", "mq.again", "mq.copy", "mq.eidrm"}),
    refers=frozenset({"mq.send", "mq.recv", "mq.copy", "mq.limit", "mq.eidrm"}),
    quiet_waits=frozenset({"mq.send", "mq.recv"}),
)
