"""Put the operations drained from the workers' rings into an order the kernel could have made.

Timestamps taken in different processes are not an order: a reader returns from ``read()``
before the writer returns from ``write()``; a woken waiter stamps its wait before the
poster stamps its post. Sorting by stamps shows impossible states (bytes read before they
were written, a semaphore at -1). Instead (``../shared/linearization.md``, Herlihy & Wing):

* every operation is an interval: a blocking call has a begin record (``b``) and a
  completion record (``e``); any other call is recorded after it returns, so it happened
  between the process's previous record and its own (``b`` = that previous stamp);
* an operation is emitted only when it is the next one of its process (program order), when
  no other known operation ended before it began (real-time order), and when it is legal in
  the current state (``model/legal.py``), so every state the model passes through is one the
  kernel could have been in;
* an operation is emitted only once every process's ring has been read up to ``hold`` after
  its end, so what happened before it is known by then;
* among the candidates: an operation that changes nothing (a shared-memory read) first, a
  take (read, receive, wait) before a put that could hurt it, else the earliest end. Where
  concurrent processes leave a choice on one object, a bounded search of that object's
  known operations decides (payload identity: a read's bytes, the order messages of one
  priority leave a queue), and a send waits until a receive tells its place;
* each thread of a process is a program order of its own.

An operation that stays illegal after every record that could explain it has arrived means
a record was lost or ipcviz has a bug: it is emitted after an ``order.conflict`` event that
says so, never silently. Likewise a record that arrives stamped before an operation already
published (the drain's promise broken: it cannot be placed where it belongs any more) is
said by an ``order.late`` event, with by how much.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, count, islice, repeat, takewhile
from operator import attrgetter, itemgetter
from typing import Any

from ipcviz.events import phrases
from ipcviz.events.codec import RAW, b64
from ipcviz.i18n import Lazy
from ipcviz.mechanisms import registry
from ipcviz.mechanisms.pipe.model import starts_with
from ipcviz.mechanisms.pipe.state import PipeObj
from ipcviz.mechanisms.posix_mq.model import fits
from ipcviz.mechanisms.posix_mq.model import takes as takes_message
from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.mechanisms.posix_sem.model import SEMVMX
from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.mechanisms.posix_shm.state import ShmObj
from ipcviz.model.legal import OBSERVERS, PIPE_BUF, RULES, select_message, violation
from ipcviz.model.state import State
from ipcviz.tracer import codes as C
from ipcviz.tracer.ring import Record

#: An operation legal in no order for this long after everything was known is a conflict.
STUCK_NS = 1_000_000_000
#: How many operations one search orders at most (all processes together: its recursion
#: depth), and how many states it may visit before it gives up and lets the greedy choice
#: stand.
PLAN_DEPTH = 300
PLAN_BUDGET = 4000
#: How many of a queue's oldest messages ``_QueueShadow.dead`` matches against the takes
#: to come, and how many ways of sharing them out among the takers it follows at most.
DEAD_DEPTH = 48
DEAD_WAYS = 4096
#: How many moments ``_QueueShadow._overfull`` checks at most: the ends of the sends that
#: must be placed, from the first by which they could overfill a POSIX queue.
ROOM_CHECKS = 8
#: How many of a FIFO queue's next takes the search knows by rank (``_QueueShadow.watch``),
#: and how many (rank, take) pairs it keeps at most for them.
RANKS = 16384
RANK_PAIRS = 65536
#: How many places of a FIFO queue the joint check follows (``_QueueShadow._joint_setup``)
#: and how many ways of sharing them out among the takers at most (then: not checked).
JOINT_DEPTH = 16384
JOINT_WAYS = 64
#: How many of the pool's takes of one message ``_QueueShadow._steals`` reads at most, by
#: end, looking for one that needs every copy put by then (then: none is known to).
TIGHT_SCAN = 16384
#: How many times ``PLAN_DEPTH`` operations more a search may look at to place an optional
#: one it would commit alone (``Linearizer._search``). ``dfs`` recurses once per operation:
#: a window of 4 × 300 went past Python's stack (RecursionError on a fork flood's trace).
REACH = 1
#: ``_tight_scan``'s index of a take past a list's ``take_at``: never placed by the search.
_FAR = 1 << 62
#: The search's answer when no order of the known operations exists: one is still missing.
_NO_ORDER: deque[int] = deque()
#: A program order is a pid, or pid | thread << 32 for a thread of it (see add_records).
_PID_MASK = 0xFFFFFFFF
_begin = attrgetter("b")
_end = attrgetter("e")
#: the list a head key (rank, need, end, list) belongs to
_LIST = itemgetter(3)
#: a record's code and object index (``Record``)
_CODE, _OBJ = itemgetter(0), itemgetter(1)
#: Pseudo pid of the engine's own events in the pool (program order among themselves).
ENGINE = -1

_BEGINS = frozenset(C.COMPLETES.values())
_SHM_CODES = frozenset({C.SHM_READ, C.SHM_WRITE})
_PUT_CODES = frozenset({C.MQ_SEND, C.MSGQ_SEND})
_POSTS = frozenset({C.SEM_POST})
#: ``_instead``'s object: any object
_ANY = -2
_WRITES = frozenset({C.PIPE_WRITE})
_TAKE_CODES = frozenset(
    {C.MQ_RECV, C.MSGQ_RECV, C.MSGQ_RECV_CUT, C.MSGQ_RECV_EXCEPT, C.MSGQ_RECV_EXCEPT_CUT}
)
#: System V receives that ``MSG_NOERROR`` may have cut; those of ``MSG_EXCEPT``
_CUT_TAKES = frozenset({C.MSGQ_RECV_CUT, C.MSGQ_RECV_EXCEPT_CUT})
_EXCEPT_TAKES = frozenset({C.MSGQ_RECV_EXCEPT, C.MSGQ_RECV_EXCEPT_CUT})
#: a queue's operations that neither put nor take a message: a non-blocking send or
#: receive refused (EAGAIN: the queue was full, or empty, then; a System V send says its
#: size, ``MSGQ_AGAIN_SEND``: it did not fit), a System V MSG_COPY (the
#: message at an index was there) and a new limit in bytes (msgctl IPC_SET)
_AGAIN_CODES = frozenset({C.MQ_AGAIN, C.MSGQ_AGAIN_SEND, C.MSGQ_COPY, C.MSGQ_LIMIT})
#: of those, the ones that end a send's or a receive's begin (a kind of their own: not in
#: ``C.COMPLETES``, which pairs an operation's begin with its own kind), and a System V
#: send's, receive's or wait's failure with EIDRM (its object removed meanwhile:
#: ``mq.eidrm``, ``sem.eidrm``)
_ENDS_A_BEGIN = frozenset({C.MQ_AGAIN, C.MSGQ_AGAIN_SEND, C.MSGQ_COPY, C.MSGQ_EIDRM, C.SEM_EIDRM})
_QUEUE_CODES = _PUT_CODES | _TAKE_CODES | _AGAIN_CODES
_SEM_CODES = frozenset({C.SEM_WAIT, C.SEM_POST, C.SEM_TRYWAIT, C.SEM_SET})
_WAIT_POST = frozenset({C.SEM_WAIT, C.SEM_POST})
#: a further part of one semop (``posix_sem/codes.py``) → the plain code it is ordered as
_JOINED = C.JOINED
_JOINED_CODE = {plain: joined for joined, plain in _JOINED.items()}
_PLANNED_CODES = _SHM_CODES | _QUEUE_CODES | _SEM_CODES
#: code → the group of codes one search orders together (a shadow's ``codes``)
_PLAN_GROUP = {
    **dict.fromkeys(_SHM_CODES, _SHM_CODES),
    **dict.fromkeys(_QUEUE_CODES, _QUEUE_CODES),
    **dict.fromkeys(_SEM_CODES, _SEM_CODES),
}
_TAKE_BEGINS = frozenset({C.MQ_RECV_BEGIN, C.MSGQ_RECV_BEGIN, C.SEM_WAIT_BEGIN, C.PIPE_READ_BEGIN})
_PUT_BEGINS = frozenset({C.MQ_SEND_BEGIN, C.MSGQ_SEND_BEGIN})
#: Operations that take from an object (they go before a put that could hurt them).
_CONSUMER_CODES = frozenset(
    {
        C.PIPE_READ,
        C.MQ_RECV,
        C.MSGQ_RECV,
        C.MSGQ_RECV_CUT,
        C.MSGQ_RECV_EXCEPT,
        C.MSGQ_RECV_EXCEPT_CUT,
        C.SEM_WAIT,
        C.SEM_TRYWAIT,
    }
)
#: Code groups whose operations on an object must all go before its removal when its type
#: is ``gone_at_removal`` (``Linearizer._removal_waits``)
_BEFORE_REMOVAL = (_QUEUE_CODES, _SEM_CODES)
#: Types an ``obj.remove`` ends at once (System V queues and semaphores: IPC_RMID)
_GONE_AT_REMOVAL = registry.gone_at_removal()
#: ``Op.removes`` of an ``obj.remove`` whose object's type is not known yet
_UNRESOLVED = -2
#: a call that failed with EIDRM: its object was removed meanwhile
_REMOVED_CODES = frozenset({C.MSGQ_EIDRM, C.SEM_EIDRM})
#: a System V receive (of any type asked for)
_MSGQ_TAKES = frozenset({C.MSGQ_RECV, C.MSGQ_RECV_CUT})
_OBSERVER_CODES = frozenset(c for c, spec in C.TABLE.items() if spec.kind in OBSERVERS)
#: The search tries observers first, then takes, then puts (see ``_consumer_first``).
_RANK = {**dict.fromkeys(_OBSERVER_CODES, 0), **dict.fromkeys(_CONSUMER_CODES, 1)}
#: A dead process's SEM_UNDO, as the search sees it (``_add_undos``): never a ring code.
_UNDO = -2
#: Operations the legal-history rules have something to say about (model/legal.py).
_CHECKED_CODES = frozenset(c for c, spec in C.TABLE.items() if spec.kind in RULES)


class Op:
    """One operation (or a begin, or an engine event) waiting in the pool."""

    __slots__ = (
        "b",
        "check",
        "e",
        "event",
        "grouped",
        "joined",
        "msg",
        "pid",
        "proc",
        "rec",
        "removes",
        "since",
        "want",
    )

    def __init__(self, pid: int, b: int, e: int, rec: Record | None = None) -> None:
        self.pid = pid  # the program order it belongs to: a process, or one of its threads
        self.proc = pid & _PID_MASK  # the process
        self.b = b  # earliest time it can have taken effect (monotonic ns)
        self.e = e  # latest time: its completion stamp
        self.rec = rec  # a ring record, or None for an engine event
        self.since = 0  # stamp of a begin folded into this completion
        self.want = None  # System V receive: the type asked for (from the begin record)
        self.event: dict[str, Any] | None = None  # engine events: the event itself
        #: (rec, fields its legality rule reads): made once per record (see ``_legal``)
        self.check: tuple[Record, dict[str, Any] | None] | None = None
        self.msg: tuple[int, bytes] | None = None  # (``_msg``: made once)
        #: a further part of the semop of the operation before it: emitted right after it
        #: (``rec`` holds the plain code; ``_emit`` publishes the joined one)
        self.joined = False
        self.grouped = False  # one of the parts (the first too) of a semop of several
        #: an ``obj.remove`` that ends its object at once (``_GONE_AT_REMOVAL``): the
        #: object's index; ``_UNRESOLVED`` for an ``obj.remove`` not looked at yet; else -1
        self.removes = -1

    @property
    def is_begin(self) -> bool:
        return self.rec is not None and self.rec[0] in _BEGINS


def _unknown_bytes(obj: PipeObj, rec: Record) -> bool:
    """A write the tracer cut (``MAX_PAYLOAD``) is in play: its own record, or one whose
    bytes the pipe may still hold (``PipeObj.unsure``). Its bytes past the cut are
    not known, so where its pieces went cannot be read off the reads' bytes: pieces go
    in as room appears, and the reads are checked by their counts (``pipe/model.py``)."""
    return len(rec[5]) < rec[3] or obj.unsure


def _never() -> bool:
    return False


#: Engine events ``Linearizer.abandon`` keeps: a process's start and end, and the
#: declaration of an object made at run time (the end removes it, and says so)
_KEPT_AT_ABANDON = frozenset(("proc.start", "proc.exit", "obj.declare"))


class Linearizer:
    """The pool of drained, not yet emitted operations, and the choice of what goes next.

    ``publish_record(rec, lane, since, want)`` (``lane``: the pid, or pid | thread << 32)
    and ``publish_event(event)`` number, write and apply events; the linearizer only decides
    the order. ``after_publish``, when set, sees each event it published, right after it
    (a source that says something about an event, next to it: a C example's steps).
    """

    def __init__(
        self,
        model: State,
        t0: int,
        objects: list[str],
        publish_record: Callable[[Record, int, int, int | None], dict[str, Any]],
        publish_event: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> None:
        self.model = model
        self.t0 = t0  # events carry times relative to the run's start
        self.objects = objects
        self._publish_record = publish_record
        self._publish_event = publish_event
        self.after_publish: Callable[[dict[str, Any]], None] | None = None
        self.last_stamp: dict[int, int] = {}  # pid → stamp of its latest record
        #: process → its lanes in ``last_stamp`` (itself and its threads, pid | n << 32):
        #: an exit reads its own, not every lane of every process ever forked
        self._lanes: dict[int, set[int]] = {}
        self._started: dict[int, int] = {}  # pid → when it was forked
        self._ended: set[int] = set()  # processes whose ``proc.exit`` came in
        #: object → program orders whose call on it failed with EIDRM: they saw it removed
        self._saw_removal: dict[int, set[int]] = {}
        self._empty_pool()
        self._cutoff = 0
        self._read_to = 0  # (``emit_ready``)
        #: ``emit_ready``'s earliest end among the heads: once it is ``STUCK_NS`` old, what
        #: is stuck is a conflict, so no wait of an operation that ended later holds it up
        self._min_e = 0
        self._upto = 0  # the latest end of an operation published
        self.late = 0  # records that came stamped before it (order.late)
        self._tie = 0
        self.conflicts = 0
        #: asked every 256 operations emitted: True stops ``emit_ready`` (the user's
        #: second stop, ``abandon``)
        self.halt: Callable[[], bool] = _never
        #: asked before the first: True emits nothing (stopped twice, nothing more is put
        #: in order); ``halt`` alone is asked only after 255 (a command waiting must not
        #: hold every turn's publishing back)
        self.hurried: Callable[[], bool] = _never

    def _empty_pool(self) -> None:
        """No operation waits: the pool's queues and every index over them, empty."""
        self.queues: dict[int, deque[Op]] = {}
        self.open_begin: dict[int, Record] = {}  # pid → begin record of a call in progress
        self._heap: list[tuple[int, int, int]] = []  # (e of head, tiebreak, pid)
        self._in_heap: set[int] = set()
        self._observer_heads: set[int] = set()  # pids whose next operation changes nothing
        self._consumer_heads: dict[int, set[int]] = {}  # object → pids about to take from it
        #: object → pids in a legal order of its known operations (None: greedy order;
        #: ``_NO_ORDER``: none exists yet, wait); recomputed once new records touch it
        self._plans: dict[int, deque[int] | None] = {}
        self._dirty: set[int] = set()
        #: objects whose search ran out of budget: their greedy order is searched again
        #: after each of their operations (a backlog never gets new records to do it)
        self._gave_up: set[int] = set()
        #: the end of an optional operation a search would commit alone (``_search``)
        self._reach = 0
        #: (object, code group) → program order → its planned operations in the pool, in
        #: order: what a search orders, without scanning the whole pool each time
        self._planned: dict[tuple[int, frozenset[int]], dict[int, deque[Op]]] = {}
        #: keys of ``_planned`` where some process's operations do not begin in order (never
        #: seen: a process's stamps only grow); a search there sorts every begin
        self._unsorted: set[tuple[int, frozenset[int]]] = set()
        #: queue → how many of its operations in the pool are not a System V receive of
        #: the oldest message or a send (``_QueueShadow.plan_for``'s ``fifo``, counted as
        #: they come and go: a search no longer reads the whole pool for it)
        self._not_fifo: Counter[int] = Counter()
        #: queue → the keys (priority, type) of its operations in the pool, counted; None
        #: for a refused call (``_QueueShadow.plan_for``'s ``fifo``)
        self._queue_keys: dict[int, Counter[int | None]] = {}
        #: object → {pid: begin record} of takes in progress (a process asleep in a read,
        #: a receive, a wait)
        self._open_takes: dict[int, dict[int, Record]] = {}
        #: queue → pid → the begin of a send in progress (its message not known yet)
        self._open_puts: dict[int, dict[int, Record]] = {}
        self._pool_takes: dict[int, dict[int, _Takes]] = {}  # object → pid → takes
        #: queue → sends in the pool (a dict as an ordered set: one leaves in O(1); a list's
        #: ``remove`` scanned a flood's 100,000 sends once per send emitted)
        self._pending_puts: dict[int, dict[tuple[int, bytes], _Copies]] = {}
        self._all_puts: dict[int, _Copies] = {}  # queue → its sends in the pool, any message
        self._pending_takes: dict[int, dict[tuple[int, bytes], int]] = {}  # queue → receives
        #: queue → message → copies published put and not yet published taken (``_told``:
        #: counted as they go, not by reading the model's queue for every send)
        self._queued: dict[int, Counter[tuple[int, bytes]]] = {}
        #: semaphore → its operations in the pool that are parts of a semop of several
        #: (``Op.grouped``): no search orders it while there are any (``_plan_allows``)
        self._grouped: Counter[int] = Counter()
        self.pending = 0  # operations in the pool

    # -- intake -----------------------------------------------------------------------

    def started(self, pid: int, t: int) -> None:
        """A process exists from ``t`` on: its first operation cannot be earlier."""
        self._stamp(pid, t)
        self._started[pid] = t
        self._ended.discard(pid)  # (a pid used again)

    def _stamp(self, lane: int, t: int) -> None:
        """The stamp of ``lane``'s latest record (or of its start) is ``t``."""
        if lane not in self.last_stamp:
            self._lanes.setdefault(lane & _PID_MASK, set()).add(lane)
        self.last_stamp[lane] = t

    def add_records(self, pid: int, batch: list[Record]) -> None:
        """A ring's records, in the order the process wrote them.

        Each thread of a process is a program order of its own: the ring marks a record
        of thread ``n`` (n > 0) in the high byte of its code (``tracer/ring.py``).
        """
        if max(map(_CODE, batch), default=0) <= 0xFF:  # (map: no Python frame per record)
            self._add(pid, batch)
            return
        lanes: dict[int, list[Record]] = {}
        for rec in batch:
            code = rec[0]
            if code > 0xFF:
                rec = (code & 0xFF, *rec[1:])
            lanes.setdefault(pid | (code >> 8) << 32, []).append(rec)
        for lane, records in lanes.items():
            self._add(lane, records)

    def _add(self, pid: int, batch: list[Record]) -> None:
        q = self.queues.get(pid)
        if q is None:
            q = self.queues[pid] = deque()
        last = self.last_stamp.get(pid) or self._started.get(pid & _PID_MASK, 0)
        was_empty = not q
        if batch[0][2] < self._upto and batch[0][0] != C.PROC_START:
            self._said_late(pid, batch[0])
        for rec in batch:
            code, t = rec[0], rec[2]
            joined = code in _JOINED
            if joined:
                code = _JOINED[code]
                rec = (code, *rec[1:])
            if code in _BEGINS:
                op = Op(pid, t, t, rec)
                old = self.open_begin.get(pid)
                if old is not None:  # the lane's last call never ended (its wrapper
                    # raised: EINVAL, EIDRM, a signal): it is over, not in progress
                    for opened in (self._open_takes, self._open_puts):
                        lanes = opened.get(old[1])
                        if lanes is not None and lanes.get(pid) is old:
                            del lanes[pid]
                self.open_begin[pid] = rec
                if code in _TAKE_BEGINS:
                    self._open_takes.setdefault(rec[1], {})[pid] = rec
                elif code in _PUT_BEGINS:
                    self._open_puts.setdefault(rec[1], {})[pid] = rec
            elif code in C.COMPLETES or code == C.PIPE_EPIPE or code in _ENDS_A_BEGIN:
                begin = self.open_begin.pop(pid, None)
                if begin is not None and begin[0] in _TAKE_BEGINS:
                    self._open_takes.get(begin[1], {}).pop(pid, None)
                elif begin is not None and begin[0] in _PUT_BEGINS:
                    self._open_puts.get(begin[1], {}).pop(pid, None)
                start = begin[2] if begin is not None else last
                op = Op(pid, start, t, rec)
                if begin is not None:
                    if begin[0] == C.MSGQ_RECV_BEGIN:
                        op.want = begin[3]
                    tail = q[-1] if q else None
                    if tail is not None and tail.rec is begin and code != C.PIPE_EPIPE:
                        q.pop()  # never emitted: fold it (the wait was never seen)
                        self.pending -= 1
                        op.since = begin[2]
                        if not q:  # it was the head: its place in the heap goes too
                            self._drop_from_heap(pid, tail)
                            was_empty = True
            else:
                op = Op(pid, last, t, rec)
            if joined:
                self._join(q, op)
            last = t
            q.append(op)
            self.pending += 1
            group = _PLAN_GROUP.get(code)
            if group is not None:
                mine = _lane(self._planned, (rec[1], group), pid)
                if mine and mine[-1].b > op.b:
                    self._unsorted.add((rec[1], group))
                mine.append(op)
                if code in _QUEUE_CODES:
                    self._count_keys(op, 1)
            if code in _REMOVED_CODES:
                self._saw_removal.setdefault(rec[1], set()).add(pid)
            if code in _CONSUMER_CODES:
                _lane(self._pool_takes, rec[1], pid, _Takes).append(op)
            if code in _PUT_CODES:
                _Copies.put(self._pending_puts.setdefault(rec[1], {}), _msg(op), op)
                _Copies.put(self._all_puts, rec[1], op)
            elif code in _TAKE_CODES:
                takes = self._pending_takes.setdefault(rec[1], {})
                m = _msg(op)
                takes[m] = takes.get(m, 0) + 1
        self._stamp(pid, last)
        self._dirty.update(map(_OBJ, batch))  # planned with fewer operations than now
        if was_empty and q:
            self._push(pid)

    def _join(self, q: deque[Op], op: Op) -> None:
        """``op`` is a further part of the semop whose last part is ``q``'s tail: it has
        that call's interval (its begin: the kernel applied every part at one instant in
        it), and is emitted right after it. A tail of another call (the part before
        emitted already: it cannot be joined any more) leaves ``op`` on its own."""
        tail = q[-1] if q else None
        if tail is None or tail.rec is None or tail.rec[2] != op.e or tail.rec[0] in _BEGINS:
            return
        op.b = tail.b
        op.since = tail.since or tail.b
        op.joined = True
        for part in (tail, op):
            if not part.grouped:
                part.grouped = True
                self._grouped[part.rec[1]] += 1  # type: ignore[index]

    def add_event(self, event: dict[str, Any], t: int, pid: int = ENGINE) -> None:
        """An engine event, placed at time ``t`` (after the operations that ended before).

        ``pid``: a worker's own event (its ``proc.exit``) follows that worker's records;
        a ``gate.step`` goes in the lane of the thread it lets go (pid | thread << 32).
        """
        q = self.queues.get(pid)
        if q is None:
            q = self.queues[pid] = deque()
        # A worker's exit happened after its last record (of any of its threads), by the
        # time it was reaped: a reader's end of file because of it may come before that.
        last = [self.last_stamp[k] for k in self._lanes.get(pid & _PID_MASK, ())]
        # A traced child's start is an instant, as ``verify`` reads it: begun at its fork's
        # entry (``started``), it went before an operation that ended before it (mesh).
        instant = pid == ENGINE or not last or event.get("kind") == "proc.start"
        op = Op(pid, t if instant else max(last), t)
        op.event = event
        if event.get("kind") == "obj.remove":
            op.removes = _UNRESOLVED  # (its declaration may still be in the pool)
        q.append(op)
        self.pending += 1
        if len(q) == 1:
            self._push(pid)
        if event.get("kind") == "proc.exit":
            self._ended.add(pid & _PID_MASK)
            for opened in (*self._open_puts.values(), *self._open_takes.values()):
                for lane in [k for k in opened if k & _PID_MASK == pid & _PID_MASK]:
                    del opened[lane]  # (killed in the call: it never ends)
            self._dirty.update(self._plans)  # its SEM_UNDO may explain a wait (_add_undos)

    def _ends_object(self, op: Op) -> int:
        """The index of the object ``op`` removes if its removal ends it at once, else -1;
        ``_UNRESOLVED`` while the model does not know it yet (its declaration not
        published: the object's type is not known)."""
        assert op.event is not None
        name = op.event.get("obj")
        obj = self.model.objects.get(name) if isinstance(name, str) else None
        if obj is None:
            return _UNRESOLVED
        if obj.type not in _GONE_AT_REMOVAL or name not in self.objects:
            return -1
        return self.objects.index(name)

    def _removal_waits(self, op: Op) -> bool:
        """Whether the removal ``op`` of a System V queue or semaphore must wait: an
        operation of another program order on the object began before the removal ended,
        so it may have taken effect before it, and nothing succeeds on the object after it
        (a call in it then fails with EIDRM). Stamps are no order: a send that the kernel
        did before the removal was stamped after it, and placed after it.

        It waits for such operations in the pool, for calls begun on the object whose end
        is not known yet, and for a program order that used the object and may have a
        call in flight (no record of it since before the removal ended), the last two at
        most ``STUCK_NS`` after the removal's end (a sleeper's EIDRM not recorded, a
        process busy elsewhere): then they are taken to come after it."""
        end, lane = op.e, op.pid
        patient = end + STUCK_NS > self._cutoff
        if op.removes == _UNRESOLVED:
            op.removes = self._ends_object(op)
            if op.removes == _UNRESOLVED:
                return patient  # (not declared yet: its operations cannot have gone)
        i = op.removes
        if i < 0:
            return False
        saw = self._saw_removal.get(i, ())
        for group in _BEFORE_REMOVAL:
            for other, ops in self._planned.get((i, group), {}).items():
                if other == lane:
                    continue
                if ops:
                    if ops[0].b <= end:
                        return True
                elif (
                    patient
                    and other not in saw
                    and other not in self.open_begin
                    and other & _PID_MASK not in self._ended
                    and self.last_stamp.get(other, 0) <= end
                ):
                    return True  # (it used the object: its next call may be on it)
        if patient:
            for opened in (self._open_takes.get(i), self._open_puts.get(i)):
                if opened and any(k != lane and rec[2] <= end for k, rec in opened.items()):
                    return True
        return False

    def changed(self, obj_i: int) -> None:
        """An engine event changed object ``obj_i`` (SEM_UNDO at an exit): plan it again."""
        self._dirty.add(obj_i)

    def _push(self, pid: int) -> None:
        """Put the process's (new) head into the heap of candidates."""
        if pid in self._in_heap:
            return
        head = self.queues[pid][0]
        self._tie += 1
        heapq.heappush(self._heap, (head.e, self._tie, pid))
        self._in_heap.add(pid)
        if head.rec is not None and head.rec[0] in _OBSERVER_CODES:
            self._observer_heads.add(pid)
        else:
            self._observer_heads.discard(pid)
        if head.rec is not None and head.rec[0] in _CONSUMER_CODES:
            self._consumer_heads.setdefault(head.rec[1], set()).add(pid)

    def _forget(self, op: Op) -> None:
        """``op`` left the pool: it no longer tells or waits for a message's place."""
        rec = op.rec
        if rec is None:
            return
        group = _PLAN_GROUP.get(rec[0])
        if group is not None:
            planned = self._planned[rec[1], group][op.pid]
            if planned and planned[0] is op:
                planned.popleft()
                if rec[0] in _QUEUE_CODES:
                    self._count_keys(op, -1)
        if op.grouped:
            self._grouped[rec[1]] -= 1
            if not self._grouped[rec[1]]:
                del self._grouped[rec[1]]
        if rec[0] in _CONSUMER_CODES:
            mine = self._pool_takes.get(rec[1], {}).get(op.pid)
            if mine and mine[0] is op:
                mine.popleft()
        if rec[0] in _PUT_CODES:
            _Copies.take(self._pending_puts.get(rec[1], {}), _msg(op), op)
            _Copies.take(self._all_puts, rec[1], op)
        elif rec[0] in _TAKE_CODES:
            takes = self._pending_takes.get(rec[1], {})
            m = _msg(op)
            if takes.get(m, 0) > 1:
                takes[m] -= 1
            else:
                takes.pop(m, None)

    def _count_keys(self, op: Op, n: int) -> None:
        """A queue operation came into the pool (``n`` 1) or left it (-1): its key and
        whether it breaks a FIFO, counted (``_QueueShadow.plan_for``'s ``fifo``, which a
        search no longer reads the whole pool for)."""
        rec = op.rec
        assert rec is not None
        keys = self._queue_keys.get(rec[1])
        if keys is None:
            keys = self._queue_keys[rec[1]] = Counter()
        key = None if rec[0] in _AGAIN_CODES else rec[3]
        keys[key] += n
        if not keys[key]:
            del keys[key]
        if _not_fifo(op):
            self._not_fifo[rec[1]] += n

    def _unmark(self, pid: int, op: Op) -> None:
        """``op`` is no longer ``pid``'s head."""
        self._observer_heads.discard(pid)
        if op.rec is not None and op.rec[0] in _CONSUMER_CODES:
            self._consumer_heads.get(op.rec[1], set()).discard(pid)

    # -- shared memory: a short search instead of a greedy choice ------------------------

    def _consumer_first(
        self,
        pick: tuple[int, int, int],
        popped: list[tuple[int, int, int]],
        min_e: int,
        cutoff: int,
    ) -> tuple[int, int, int]:
        """A legal consumer of the same object before a producer.

        Taking (a read, a receive, a wait) never makes a later put impossible (it frees
        room), but a put can make a take impossible (a message of higher priority now comes
        first): so when both could go next, the take goes first.
        """
        rec = self.queues[pick[2]][0].rec
        if rec is None or rec[0] in _CONSUMER_CODES:
            return pick
        if rec[0] == C.SEM_POST and self._unknown_value(rec[1]):
            return pick  # (the post first: ``_post_first``)
        takers: Any = self._consumer_heads.get(rec[1], ())
        if takers and rec[0] == C.PIPE_WRITE and self._gone(rec[1]):
            return pick  # a FIFO's bytes may be gone: the write first (``_write_first``)
        plan = None if rec[1] in self._dirty else self._plans.get(rec[1])
        if plan is not None:  # up to date: of many waiting takers, only its next one may go
            takers = [plan[0]] if plan is not _NO_ORDER and plan[0] in takers else []
        for pid in takers:
            head = self.queues[pid][0]
            if head.e > cutoff or head.b > min_e:
                continue
            if self._plan_refuses(head) or not self._legal(head) or not self._plan_allows(head):
                continue
            if head.rec is not None and head.rec[0] == C.PIPE_READ and self._sooner_read(head):
                continue
            entry = next((x for x in popped if x[2] == pid), None)
            if entry is None:
                entry = next((x for x in self._heap if x[2] == pid), None)
                if entry is None:
                    continue
                self._claim(entry, popped)
            return entry
        return pick

    def _sooner_read(self, head: Op) -> bool:
        """Another reader's next read of this pipe ends before ``head`` does. A write does
        not hurt a read, so ``head`` need not go first; placed first, a long read (its
        reader asleep in it across a stall) took bytes the other reader's reads, ending
        sooner, needed, and a correct program got ``order.conflict`` (two readers of one
        FIFO, most runs on a loaded machine)."""
        for pid, takes in self._pool_takes.get(head.rec[1], {}).items():  # type: ignore[index]
            if pid != head.pid and takes and takes[0].e < head.e:
                return True
        return False

    def _object(self, obj_i: int) -> Any:
        """The model's object of a ring index (None: not declared, or gone)."""
        return self.model.objects.get(self.objects[obj_i] if obj_i < len(self.objects) else "")

    def _gone(self, obj_i: int) -> bool:
        """Whether the pipe's first bytes may be gone (a FIFO's last close: PipeObj.gone)."""
        obj = self._object(obj_i)
        return isinstance(obj, PipeObj) and bool(obj.gone)

    def _claim(self, entry: tuple[int, int, int], popped: list[tuple[int, int, int]]) -> None:
        """``entry``, still in the heap, is picked instead: out of it, with the popped."""
        self._heap.remove(entry)
        heapq.heapify(self._heap)
        popped.append(entry)

    def _unknown_value(self, obj_i: int) -> bool:
        """Whether the object is a semaphore whose value the trace does not tell (``outside``:
        found at an attach, given by a SETALL strace does not print, used by a command)."""
        if not self.model.any_outside:  # the usual case, asked at every step: no lookup
            return False
        obj = self._object(obj_i)
        return isinstance(obj, SemObj) and obj.outside

    def _post_first(
        self,
        pick: tuple[int, int, int],
        popped: list[tuple[int, int, int]],
        min_e: int,
        cutoff: int,
    ) -> tuple[int, int, int]:
        """A post of the same semaphore before a wait, when its value is not known.

        A post never makes a wait impossible. On a semaphore of known value the legality
        check orders them; on one whose value is the kernel's to say every order is legal,
        and a wait placed before the post that woke it is drawn at 0 (the model keeps an
        ``outside`` value from going below zero) where the kernel went to 0 from 1 after the
        post: the model gains a unit each time, and a correct program ends shown with
        tokens the kernel did not have. So when both could go next, the post goes first.

        With a semop's parts in the pool (``_grouped``: ordered greedily, not searched), a
        post of *any* semaphore goes before a wait: a wait placed first may hold a unit
        (a fork) that a call which ended earlier needed once the post came (philosophers:
        order.conflict "wait completed at value 0"). A call that posts and waits is not
        such a post: its wait could take that unit too."""
        rec = self.queues[pick[2]][0].rec
        if rec is None or rec[0] != C.SEM_WAIT:
            return pick
        if self._unknown_value(rec[1]):
            return self._instead(pick, popped, min_e, cutoff, _POSTS, rec[1])
        if self._grouped:
            return self._instead(pick, popped, min_e, cutoff, _POSTS, _ANY, self._takes_too)
        return pick

    def _takes_from_earlier(
        self, pick: tuple[int, int, int], first: tuple[int, int, int], cutoff: int
    ) -> bool:
        """Whether the wait ``pick`` would take a unit of a semaphore that the wait which
        ended first (``first``, the heap's head) needs and cannot have yet: that one waits
        for a post still on its way (a process descheduled between its semop and its
        record), and placed after ``pick`` it may have no legal place once the post comes
        (philosophers at --quick: 1 in 5 runs). ``pick`` waits for it, at most
        ``STUCK_NS``; then the greedy order goes on."""
        if pick is first or first[0] + STUCK_NS <= cutoff:
            return False
        mine, earlier = self.queues[pick[2]][0], self.queues[first[2]][0]
        waits = [op.rec is not None and op.rec[0] == C.SEM_WAIT for op in (mine, earlier)]
        if not all(waits) or self._legal(earlier):
            return False
        return bool(self._call_objects(mine) & self._call_objects(earlier))

    def _call_objects(self, op: Op) -> set[int]:
        """The objects of the semop whose first part is ``op`` (its lane's head)."""
        q = self.queues[op.pid]
        parts = chain((op,), takewhile(lambda part: part.joined, islice(q, 1, None)))
        return {part.rec[1] for part in parts if part.rec is not None}

    def _takes_too(self, op: Op) -> bool:
        """Whether the semop ``op`` is the first part of also waits (a later part)."""
        q = self.queues[op.pid]
        parts = takewhile(lambda part: part.joined, islice(q, 1, None))
        return any(part.rec is not None and part.rec[0] != C.SEM_POST for part in parts)

    def _write_first(
        self,
        pick: tuple[int, int, int],
        popped: list[tuple[int, int, int]],
        min_e: int,
        cutoff: int,
    ) -> tuple[int, int, int]:
        """A write of the same FIFO before a read, while its first bytes may be gone, or
        before a read of an ``outside`` pipe whose bytes it wrote (``_unwritten``).

        A write only appends, so a read legal in some world before it is legal in that
        world after it; a read placed first may rule out a world (the old bytes read, or
        the new ones) that a later end of file needs. So when both could go next, the
        write goes first."""
        read = self.queues[pick[2]][0]
        rec = read.rec
        if rec is None or rec[0] != C.PIPE_READ:
            return pick
        if self._gone(rec[1]):
            return self._instead(pick, popped, min_e, cutoff, _WRITES, rec[1], self._blocks_a_read)
        rest = self._unwritten(read)
        if rest is None:
            return pick
        return self._instead(
            pick, popped, min_e, cutoff, _WRITES, rec[1], lambda w: not _supplies(w, rest)
        )

    def _send_first(
        self,
        pick: tuple[int, int, int],
        popped: list[tuple[int, int, int]],
        min_e: int,
        cutoff: int,
    ) -> tuple[int, int, int]:
        """A send of the same ``outside`` queue before a receive that took its message,
        when the queue as the model knows it holds none the receive could have taken
        (``_unqueued``). Any receive of such a queue is legal (messages from before the
        attach may be there), so the receive, stamped with the same end as the send that
        woke it, went first: every message a program passed through a queue it held
        under ``ipcviz attach`` was shown received before it was sent."""
        take = self.queues[pick[2]][0]
        rec = take.rec
        if rec is None or rec[0] not in _TAKE_CODES or not self._unqueued(take):
            return pick
        got = _taken(take)
        return self._instead(
            pick,
            popped,
            min_e,
            cutoff,
            _PUT_CODES,
            rec[1],
            lambda put: not takes_message(_put(put), *got) or not self._plan_allows(put),
        )

    def _unqueued(self, take: Op) -> bool:
        """A receive of an ``outside`` queue whose message the model's queue does not
        hold: from before the attach, from a process not watched, or from a concurrent
        send not placed yet (``_send_first``)."""
        obj = self._object(take.rec[1])  # type: ignore[index]
        if not isinstance(obj, QueueObj) or not obj.outside:
            return False
        got = _taken(take)
        return not any(takes_message((m[0], m[1], len(m[1])), *got) for m in obj.messages)

    def _unwritten(self, read: Op) -> bytes | None:
        """The bytes a read of an ``outside`` pipe takes past the traced ones the pipe
        holds (None: it takes none, or the pipe is not ``outside``).

        Any read of such a pipe is legal (bytes from before the attach may be there), so
        no rule holds it back, and the read, stamped with the same end as the write that
        woke it, went first: every line a program sent down a pipe under ``ipcviz attach``
        was shown read before it was written (the review's finding). A concurrent write
        whose bytes these are goes first instead (``_write_first``, ``_supplies``)."""
        rec = read.rec
        assert rec is not None
        obj = self._object(rec[1])
        if not isinstance(obj, PipeObj) or not obj.outside or rec[3] <= obj.nbytes:
            return None
        data = bytes(rec[5][: rec[3]])
        held = min(len(data), obj.nbytes)
        if held and not starts_with(obj, data[:held]):
            return None  # it straddles bytes from outside: no write explains it
        return data[held:]

    def _instead(
        self,
        pick: tuple[int, int, int],
        popped: list[tuple[int, int, int]],
        min_e: int,
        cutoff: int,
        codes: frozenset[int],
        obj_i: int,
        spoils: Callable[[Op], bool] | None = None,
    ) -> tuple[int, int, int]:
        """Another process's next operation that does one of ``codes`` on object ``obj_i``
        (``_ANY``: any) and may go now (real time, legality, and not ``spoils``), claimed
        from the heap; else ``pick``. (``_post_first``, ``_write_first``, ``_send_first``:
        which goes first when both could.)"""
        for entry in [*popped, *self._heap]:
            head = self.queues[entry[2]][0]
            r = head.rec
            if r is None or r[0] not in codes or obj_i not in (r[1], _ANY) or entry is pick:
                continue
            if head.e > cutoff or head.b > min_e or not self._legal(head):
                continue
            if spoils is not None and spoils(head):
                continue
            if entry not in popped:
                self._claim(entry, popped)
            return entry
        return pick

    def _woken_first(self, op: Op) -> bool:
        """Whether a receive comes before this send: it began before the send ended and the
        queue holds a message for it, so the kernel served it (its record is in the pool,
        or still on its way from a process asleep there). The send, which could change
        the message it gets, waits for it, at most ``STUCK_NS``."""
        rec = op.rec
        if rec is None or rec[0] not in _PUT_CODES or self._waited(op):
            return False  # a post or a write never takes from a waiter: no need to wait
        obj_i = rec[1]
        for pid, takes in self._pool_takes.get(obj_i, {}).items():
            if (
                pid != op.pid
                and takes
                and takes[0].b < op.e
                and self._legal(takes[0])
                and not self._unqueued(takes[0])  # (outside: legal, yet nothing queued for it)
            ):
                return True
        begun = self._open_takes.get(obj_i)
        if begun:
            obj = self.model.objects.get(self._obj_name(op) or "")
            for pid, begin in begun.items():
                if (
                    pid != op.pid
                    and begin[2] < op.e
                    and _has_for(obj, begin)
                    and _jumps_ahead(obj, begin, rec[3])
                ):
                    return True
        return False

    def _waited(self, op: Op) -> bool:
        """Whether a send has waited long enough (``_woken_first``, ``_order_unknown``): for
        ``STUCK_NS`` after its end, or after the earliest end among the heads. Past the
        latter, ``emit_ready`` says a conflict if nothing goes: a wait measured from this
        send's own, later end held up an operation that ended before it (a send waited for
        the receive of a concurrent one, 3 s away, and the other send, free 5 ms sooner,
        was accused; the review's finding)."""
        cutoff = self._cutoff
        return op.e + STUCK_NS <= cutoff or self._min_e + STUCK_NS <= cutoff

    def _order_unknown(self, op: Op) -> bool:
        """Whether this message's place in the queue is not known yet.

        Messages of one priority leave a queue in the order they came, so which of two
        concurrent sends of different messages came first is told by the receives, and only
        by them. Until the receives of both are known (``_told``), the send waits, at most
        ``STUCK_NS``: a message nobody takes is then placed in the order of the stamps.
        """
        if self._waited(op):
            return False
        obj_i = op.rec[1]  # type: ignore[index]
        m = _msg(op)
        puts = self._pending_puts.get(obj_i, {})
        # POSIX: one priority's messages leave in order, apart from the others'; System V:
        # a receive of the oldest (type 0) takes every type in the order they came
        obj = self._object(obj_i)
        by_priority = getattr(obj, "by_priority", True)
        for pid, begin in self._open_puts.get(obj_i, {}).items():
            if (
                pid != op.pid
                and begin[2] < op.e
                and (begin[3] == m[0] or not by_priority)
                and not _full_for(obj, begin)
            ):
                return True  # a send in progress may have come first: its message comes
        if len(puts) == 1:
            return False  # one message (a flood of copies): every order is the same queue
        overlapping = [
            o
            for o in self._all_puts[obj_i].overlapping(op)
            if (o.rec[3] == m[0] or not by_priority) and _msg(o) != m  # type: ignore[index]
        ]
        if not overlapping:
            return False
        takes = self._pending_takes.get(obj_i, {})
        if not takes.get(m) or not all(takes.get(_msg(o)) for o in overlapping):
            return True  # a receive that would tell is not in the pool (no need to count)
        held = self._queued.get(obj_i, Counter())
        return not all(self._told(obj_i, o, held) for o in [op, *overlapping])

    def _told(self, obj_i: int, op: Op, held: Counter[tuple[int, bytes]]) -> bool:
        """Whether the receive that takes ``op``'s message is in the pool: of its copies,
        those queued and those put by sends that began before ``op`` ended may come first,
        and each needs a receive of its own. (A copy's receive tells nothing of which copy
        it took: with "x" sent five times, the receives of two of them placed a later "x"
        before a concurrent "y", and a correct program got ``order.conflict``.)"""
        m = _msg(op)
        takes = self._pending_takes.get(obj_i, {}).get(m, 0)
        if not takes:
            return False
        before = self._pending_puts[obj_i][m].began_before(op.e)
        return takes >= held[m] + before

    def _plan_allows(self, op: Op) -> bool:
        """Whether a legal order of the object's known operations lets ``op`` go next.

        Concurrent operations on one object leave many orders open, and an early wrong
        choice (this write before that one, this sender's message before that one) makes a
        later operation impossible. So the pool's next operations on a segment or a queue
        are ordered by a bounded depth-first search, and only the operation that such an
        order starts with may go. If no order of the known operations exists, one that
        explains them has not arrived yet (a process stamped it late): the object waits.
        """
        rec = op.rec
        if rec is None:
            return True
        if self._woken_first(op):
            return False
        if rec[0] not in _PLANNED_CODES or rec[1] in self._grouped:
            return True  # (a semop of several: a search of one semaphore would not keep
            # its parts together, and could choose an order the other parts refuse)
        obj_i = rec[1]
        if rec[0] in _PUT_CODES and self._order_unknown(op):
            return False
        if obj_i in self._dirty or obj_i not in self._plans:
            self._dirty.discard(obj_i)
            self._plans[obj_i] = self._search(obj_i)
        plan = self._plans[obj_i]
        if plan is None:
            return True  # nothing to choose between, or too many choices: the greedy order
        if plan is _NO_ORDER:
            return False
        return plan[0] == op.pid

    def _plan_refuses(self, op: Op) -> bool:
        """A quick no, before the legality check: the object's plan is up to date and starts
        with another process (``_plan_allows`` would say no too). Many processes waiting on
        one object are refused here, at the cost of two lookups each."""
        rec = op.rec
        if rec is None or rec[0] not in _PLANNED_CODES or rec[1] in self._dirty:
            return False
        if rec[1] in self._grouped:
            return False
        plan = self._plans.get(rec[1])
        if plan is None:
            return False  # not planned yet, or no plan needed
        return plan is _NO_ORDER or plan[0] != op.pid

    def _search(self, obj_i: int) -> deque[int] | None:
        """A legal order of the pool's next operations on one object (pids, in order).

        Where the order found starts with an optional operation (it ended past the
        search's horizon), that one would be committed alone, a guess the window cannot
        check: the search is made once more with the horizon at its end, so that what
        happened up to then places it (if that is at most ``REACH * PLAN_DEPTH``
        operations more). Two receives stamped 11 ms long were placed at once and took
        the two messages a pair of processes passed around; 6 ms later a receive of
        theirs had no explanation: 83 ``order.conflict`` on a correct program (a
        6-process mesh under strace)."""
        self._reach = 0
        plan = self._search_to(obj_i, 0)
        if plan is _NO_ORDER and self._read_to < 1 << 62 and self._stuck():
            # No order, maybe only for operations that ended past what was read: one that
            # explains them may not be read yet, or may still be in progress (a receive
            # strace saw begin, and a send after it that needed the room it made). The
            # object waited, and its operations seconds older were blamed once
            # ``STUCK_NS`` had passed (``order.conflict`` on a correct program: an mq flood
            # under strace, the engine a second behind). Those are optional then.
            return self._search_to(obj_i, 0, self._read_to)
        if self._reach:
            wider = self._search_to(obj_i, self._reach)
            if wider is not _NO_ORDER:
                plan = wider
        return plan

    def _search_to(self, obj_i: int, reach: int, known: int = 1 << 62) -> deque[int] | None:
        """``_search`` with the horizon at least at ``reach`` (0: none) if that adds at
        most ``REACH * PLAN_DEPTH`` operations, and at most at ``known`` (or the earliest
        end); sets ``_reach`` if the order found starts with an optional operation whose
        end lies past a horizon the depth cut."""
        self._gave_up.discard(obj_i)
        obj = self._object(obj_i)
        if isinstance(obj, ShmObj):
            shadow: _Shadow = _ShmShadow(obj)
        elif isinstance(obj, SemObj):
            if obj.outside:  # its value is the kernel's to say: every order is legal
                return None
            shadow = _SemShadow(obj)
        elif isinstance(obj, QueueObj):
            if obj.outside:  # it may hold messages no event shows: every order is legal
                return None
            shadow = _QueueShadow(
                obj,
                self._pending_puts.get(obj_i, {}),
                self._pending_takes.get(obj_i, {}),
                [rec[2] for rec in self._open_puts.get(obj_i, {}).values()],
                (self._queue_keys.get(obj_i, Counter()), self._not_fifo[obj_i] == 0),
            )
        else:
            return None
        observing = shadow.observing
        planned = self._planned.get((obj_i, shadow.codes), {})
        in_order = (obj_i, shadow.codes) not in self._unsorted
        cap = PLAN_DEPTH if shadow.full_lists is False else 1 << 30
        pids: list[int] = []
        queues: list[deque[Op]] = []
        observed = False
        for pid in self.queues:
            # This object's operations, in program order; what a process does in between
            # (narration, other objects) changes nothing here (locality: Herlihy & Wing).
            mine = planned.get(pid)
            if not mine:
                continue
            pids.append(pid)
            queues.append(mine)
            observed = observed or any(o.rec[0] in observing for o in islice(mine, cap + 1))  # type: ignore[index]
        undos = self._undos(obj, obj_i) if isinstance(obj, SemObj) and obj.undo else {}
        for pid in undos:
            if pid not in pids:  # a dead process whose only step left is its SEM_UNDO
                pids.append(pid)
                queues.append(deque())
        if len(queues) < 2 or not observed:
            return None  # one process, or nobody looks: every order of the rest is legal
        # Plan the earliest PLAN_DEPTH operations: those that began by ``horizon``. Every
        # one that ended by then must be placed; what explains it began before it ended,
        # so it is in the plan too (unless its record has not arrived: then no order exists).
        horizon = 1 << 62
        # At least up to the earliest end among the heads: an operation that began by then
        # may go first (real time), so the search sees every candidate of its first step
        # and has at most one more per process to place (a head that ends later holds its
        # process's next one back). Cut before it, every operation seen ended past the
        # horizon: none had to be placed, an order of them all was ruled out by takes not
        # seen, and an order of none is an empty plan, ``None``: the greedy order by end,
        # kept until new records come (fed whole: never), and it put a send whose message
        # a take it did not see wanted later first (``order.conflict`` on a correct
        # program: a random history of a POSIX queue, horizon 4).
        first_end = min((q[0].e for q in queues if q), default=horizon)
        # (only a shadow with ``full_lists`` looks further than the plan; a long pool is
        # not copied for the others)
        whole = None
        if shadow.full_lists:  # up to the last take any rule reads (a flood's backlog is
            # 100,000 operations: copied at every search, it made a Ctrl-C minutes long)
            takes_cap = shadow.take_cap if in_order else 1 << 30  # type: ignore[attr-defined]
            takes_of = self._pool_takes.get(obj_i, {})
            pool = [takes_of.get(p) for p in pids]
            whole = [_upto_takes(q, t, takes_cap) for q, t in zip(queues, pool, strict=True)]
            shadow.lane_pool = pool  # type: ignore[attr-defined]
        heads: Sequence[Iterable[Op]] = whole if whole is not None else queues
        known = max(known, first_end)
        cut = None
        if in_order:
            # Each process's operations begin in order: merge them up to the one that counts,
            # and take each one's prefix that began by then (no sort of the whole pool).
            merged = heapq.merge(*[map(_begin, islice(q, cap + 1)) for q in heads])
            cut = next(islice(merged, PLAN_DEPTH, None), None)
            if cut is not None:
                horizon = max(cut - 1, first_end)
                if reach > horizon and (
                    sum(1 for _ in takewhile(reach.__ge__, islice(merged, REACH * PLAN_DEPTH)))
                    < REACH * PLAN_DEPTH
                ):
                    horizon = reach
            horizon = min(horizon, known)
            lists = [list(takewhile(lambda o: o.b <= horizon, q)) for q in heads]
        else:
            lists = [list(islice(q, cap + 1)) for q in heads]
            if whole is None:
                whole = lists  # (every one listed, before the cut below)
            begins = sorted(o.b for lst in lists for o in lst)
            if len(begins) > PLAN_DEPTH:
                horizon = max(begins[PLAN_DEPTH] - 1, first_end)
            if horizon > known:
                horizon = known
            if horizon < 1 << 62:
                lists = [[o for o in lst if o.b <= horizon] for lst in lists]
        full = whole if whole is not None else lists
        for pid, undo in undos.items():  # after all of its operations, if all are in
            k = pids.index(pid)
            if len(lists[k]) == len(queues[k]) and undo.b <= horizon:
                lists[k].append(undo)
        required = sum(map(horizon.__ge__, map(_end, chain.from_iterable(lists))))
        if isinstance(shadow, _SemShadow):
            path = shadow.descend(lists, required, horizon)
            if path is not None:  # the search would take the same path, never going back
                return _answer(pids, lists, path, horizon)
        shadow.plan_for(full, lists)
        # what may still take from it unseen: an operation not in the pool begins after the
        # cutoff; a take in progress is in the pool as its begin only
        taking = {pid: rec[2] for pid, rec in self._open_takes.get(obj_i, {}).items()}
        shadow.watch(lists, horizon, self._read_to, taking)
        if not shadow.explainable(lists, horizon):
            return _NO_ORDER  # a take whose message nobody put yet: its put comes late
        # A list's last operation may be one no order of this search places (it ended
        # past the horizon: optional): the lists end before it, so that the first order,
        # of every operation, is not looked for in vain (a receive stopped 700 ms long
        # spent that part of the budget in each of 60 searches, and the order found
        # without it left its optional operations out).
        for lst in lists:
            if lst and lst[-1].e > horizon and shadow.never(lst[-1]):
                lst.pop()
        if isinstance(shadow, _ShmShadow):  # (a queue's takes can be blocked: not forced)
            forced = _forced(lists)
            if forced is not None:  # one candidate at every step: no search needed
                return _follow(shadow, lists, pids, forced[:required], horizon)
        # How soon a process is needed: the earliest take that waits for any of its next
        # puts (a process's later messages cannot go before its earlier ones).
        need = []
        for lst in lists:
            suffix, best = [], 1 << 30
            for o in reversed(lst):
                best = min(best, shadow.urgency(o))
                suffix.append(best)
            need.append(suffix[::-1])
        pos = [0] * len(lists)
        shadow.pos = pos
        last_take = [  # index of each list's last take (-1: none)
            max((k for k, o in enumerate(lst) if o.rec[0] in _CONSUMER_CODES), default=-1)
            for lst in lists
        ]
        heads = _Heads(lists, need, pos, last_take)
        path: list[int] = []
        placed = [0]  # required operations placed so far
        seen: set[tuple] = set()
        budget = [PLAN_BUDGET]
        deepest: list[int] = []  # the longest legal prefix tried: a step if it gives up
        ends, move, candidates = heads.ends, heads._move, heads.candidates
        apply, blocked, takes_blocked, state, dead = (
            shadow.apply,
            shadow.blocked,
            shadow.takes_blocked,
            shadow.key,
            shadow.dead,
        )

        # The takes past the horizon (the search does not place them), per lane: where they
        # start in its whole list. Known where the lists are whole and in order (a queue's
        # ``take_at``); else any take may begin right after the horizon.
        past: list[tuple[int, list[Op], list[int], int]] = []  # (lane, whole list, takes, k)
        unknown = horizon + 1
        take_at = getattr(shadow, "take_at", None)
        if take_at is not None and in_order:
            unknown = 1 << 62
            for r, (pid, lst, whole) in enumerate(zip(pids, lists, full, strict=False)):
                k = bisect_left(take_at[r], len(lst))
                if k < len(take_at[r]):
                    past.append((pid, whole, take_at[r], k))

        def alone(take: Op) -> bool:
            """``take`` is stuck behind another message, and no take the search does not
            place can have taken that message first: none in progress or not read yet
            began before it ended, and none past the horizon that did took that message.

            Cut without looking past the horizon: a receiver that stamped its begin, was
            preempted for a millisecond and then got the flood's "y" (another process's
            receive, past the horizon, took the "z" in front of it first) had every order
            dead, and the correct program got ``order.conflict``. Not cut where such a
            receive took another message: a put went in front of the only taker's message
            and that order, committed, was a conflict."""
            if not blocked(take):
                return False
            others = [b for p, b in taking.items() if p != take.pid]
            if take.e >= min([unknown, self._read_to + 1, *others]):
                return False  # a take whose message is not known may have come first
            front = shadow.front(take)
            for lane, whole, at, k in past:
                if lane == take.pid:
                    continue
                for j in range(k, len(at)):
                    o = whole[at[j]]
                    if o.b >= take.e:
                        break
                    if takes_message(front, *_taken(o)):
                        return False  # it may have taken the message in front
                else:
                    if len(at) >= shadow.take_cap:  # type: ignore[attr-defined]
                        return False  # its takes past those listed are not looked at
            return True

        # The messages the required takes get: a put of one of them may have to go first.
        fifo = isinstance(shadow, _QueueShadow) and shadow.fifo  # (every take gets the oldest)
        queued = len(shadow.messages) if fifo else 0  # type: ignore[attr-defined]
        # POSIX, several priorities: each priority's messages leave in the order they came
        by_key = isinstance(shadow, _QueueShadow) and not fifo and shadow.by_priority
        keys_queued = Counter(m[0] for m in shadow.messages) if by_key else None  # type: ignore[attr-defined]
        needed = (  # (read only where ``fifo``: not made for any other search)
            {
                _msg(o)
                for lst in lists
                for o in lst
                if o.e <= horizon and o.rec[0] in _TAKE_CODES  # type: ignore[index]
            }
            if fifo
            else set()
        )

        def guess(i: int) -> bool:
            """List ``i``'s head is a put this search need not place first: it ended past
            the horizon (optional) and no required take gets its message."""
            o = lists[i][pos[i]]
            return o.e > horizon and o.rec[0] in _PUT_CODES and _msg(o) not in needed  # type: ignore[index]

        goal = [required]  # how many to place: ``required``, or first all (below)
        every = [False]  # count every operation placed, not only the required ones

        def dfs() -> bool:
            if placed[0] >= goal[0]:
                return True
            budget[0] -= 1
            if budget[0] < 0:
                return False
            key = (tuple(pos), state())
            if key in seen:
                return False
            seen.add(key)
            # A take that another message stands in front of waits for another take; if
            # only its own process has takes left, this branch is dead.
            if heads.taking == 1 and alone(heads.only_taker()):
                return False
            min_end = ends[0][0]
            order = candidates(min_end, takes_blocked())
            if not path and fifo:
                # A plan's first step is committed alone when it is optional. In a FIFO
                # such a put goes in front of every message put later, among them those of
                # operations past the horizon, which the search does not see; a required
                # operation needs nothing they do (they began after it ended). So the first
                # step is a required operation, or a put a required take needs, where one
                # goes. (Where a message of a higher priority goes in front anyway, this
                # was no better: fuzzed histories of several priorities or types, at a
                # horizon of 4, failed as many as it fixed.)
                order = sorted(order, key=guess)
            for i in order:
                o = lists[i][pos[i]]
                if o.b > min_end:
                    continue
                undo = apply(o)
                if undo is None:
                    continue
                move(i, 1)
                if dead(o):
                    move(i, -1)
                    undo()
                    continue
                path.append(i)
                if len(path) > len(deepest):
                    deepest[:] = path
                req = every[0] or o.e <= horizon
                placed[0] += req
                if dfs():
                    return True
                placed[0] -= req
                path.pop()
                move(i, -1)
                undo()
            return False

        def answer(found: list[int]) -> deque[int] | None:
            """The plan of an order found; ``_search``'s ``_reach`` if it starts with an
            optional operation and the depth cut the window (the recursion of ``dfs``,
            one call per operation, keeps a wider window within Python's stack)."""
            if found and cut is not None and not reach:
                first = lists[found[0]][0]
                if first.e > horizon:
                    self._reach = first.e
            upto = _committed(lists, found, horizon)
            if fifo:
                upto = _upto_untold(lists, found, upto, horizon, Counter({None: queued}))
            elif keys_queued is not None:
                upto = _upto_untold(lists, found, upto, horizon, keys_queued, by_key=True)
            return deque(pids[i] for i in found[:upto]) or None

        # First an order of every operation the search sees, with a part of the budget:
        # one that places only the required ones may commit two of them in an order the
        # optional ones it never placed rule out (two sends that both ended by the horizon,
        # and a receive past them, in program order after one, that took the other's
        # message: a 6-process mesh, ``order.conflict`` on a correct program).
        total = sum(map(len, lists))
        if total > required:
            every[0], goal[0], budget[0] = True, total, PLAN_BUDGET // 4
            if dfs():
                return answer(path)
            if budget[0] >= 0 and _places_required(lists, deepest, horizon, required):
                # No order places them all (an optional one waits for an operation past
                # the horizon), but the longest one tried places every required one: it
                # left out only what had to wait. An order of the required ones alone may
                # leave out an optional one that had to come before them: a send blocked
                # on a full queue, whose message a take needs next (a forked flood on a
                # queue of 10 messages and 3 priorities: the required order put a "c0" in
                # the last slot, the "z" a take needed could then never come, and the
                # correct program got ``order.conflict``).
                return answer(deepest)
            every[0], goal[0], budget[0], placed[0] = False, required, PLAN_BUDGET, 0
            seen.clear()
            deepest.clear()
        if not dfs():
            if budget[0] < 0:
                # The prefix that got furthest is a better guess than the earliest end:
                # its first half, then search again (``_gave_up``; a search per step
                # would cost a setup per operation, milliseconds in a long backlog).
                self._gave_up.add(obj_i)
                half = deepest[: max(1, len(deepest) // 2)]
                return _answer(pids, lists, half, horizon)
            return _NO_ORDER
        return answer(path)

    def _undos(self, obj: SemObj, obj_i: int) -> dict[int, Op]:
        """SEM_UNDO: a dead process gives its units back as it exits (the engine records
        ``sem.undo`` right after its ``proc.exit``). For the search, that is a put after
        its last operation: a wait that only this explains is not a missing record."""
        out: dict[int, Op] = {}
        for pid, q in self.queues.items():
            ex = next((o for o in q if o.event and o.event.get("kind") == "proc.exit"), None)
            if ex is None:
                continue
            n = obj.adj.get(pid & _PID_MASK, 0)
            for o in q:
                if o is ex:
                    break
                if o.rec is not None and o.rec[1] == obj_i:
                    code = o.rec[0]
                    n += code == C.SEM_WAIT or (code == C.SEM_TRYWAIT and bool(o.rec[3]))
                    n -= code == C.SEM_POST
            if n:
                out[pid] = Op(pid, ex.b, ex.e, (_UNDO, obj_i, ex.e, n, 0, b""))
        return out

    def _drop_from_heap(self, pid: int, head: Op) -> None:
        """``head``, ``pid``'s head until now, left the queue (folded into its completion)."""
        if pid in self._in_heap:
            self._heap = [x for x in self._heap if x[2] != pid]
            heapq.heapify(self._heap)
            self._in_heap.discard(pid)
            self._unmark(pid, head)

    # -- output -------------------------------------------------------------------------

    def emit_ready(self, cutoff: int, read_to: int | None = None) -> int:
        """Emit, in a legal order, every operation that ended by ``cutoff``. Returns how many.

        ``read_to``: every ring was read up to it (no record stamped before it is missing;
        default: ``cutoff``): an operation not in the pool began after it."""
        emitted = 0
        self._cutoff = cutoff
        self._read_to = max(cutoff, read_to if read_to is not None else cutoff)
        heap = self._heap
        while heap:
            if (emitted == 0 and self.hurried()) or (emitted & 255 == 255 and self.halt()):
                break
            min_e = self._min_e = heap[0][0]
            if min_e > cutoff:
                break
            op = self._pick(min_e, cutoff)
            if op is None:
                if min_e + STUCK_NS > cutoff or self._ends_later(min_e, cutoff):
                    break  # an explanation may still arrive, or has and ends later
                if any(p is _NO_ORDER for p in self._plans.values()):
                    self._dirty.update(self._plans)  # searched before it was stuck
                    op = self._pick(min_e, cutoff)
                if op is None:
                    op = self._conflict()
            self._emit(op)
            emitted += 1
        return emitted

    def _stuck(self) -> bool:
        """``emit_ready`` would say a conflict now if nothing goes (``STUCK_NS``)."""
        return self._min_e + STUCK_NS <= self._cutoff

    def _ends_later(self, min_e: int, cutoff: int) -> bool:
        """Whether a process's next operation began by ``min_e`` and ended past the cutoff:
        it may go first, and explain what is stuck, once the cutoff passes its end. A
        receive that strace saw end 5 s after it began (the engine a second behind, strace
        blocked on its full FIFO) made the room a send that ended at once needed; the send
        was blamed ``STUCK_NS`` after its end, while its explanation waited in the pool."""
        queues = self.queues
        return any(e > cutoff and queues[pid][0].b <= min_e for e, _, pid in self._heap)

    def flush(self) -> int:
        """No record can come any more: emit everything (conflicts said, never dropped)."""
        return self.emit_ready(1 << 62)

    def abandon(self) -> int:
        """Order no more (the user stopped twice: the first stop orders everything the
        processes did, which a backlog of a million operations makes minutes). Every
        operation still in the pool is left out, so the stream ends at the last one emitted:
        a prefix of a legal history. A process's ``proc.exit`` is kept (emitted next: it
        ended, whatever it did last), and so is what it needs before it
        (a forked child's ``proc.start``, the first record of its ring, and
        ``_KEPT_AT_ABANDON``'s events: left out, the kept exit named a process that never
        started, and ``verify`` failed). Other engine events waiting with them (probes,
        gate steps) go too. Returns how many operations were left out."""
        starts = [
            (pid, op.rec)
            for pid, q in self.queues.items()
            for op in q
            if op.rec is not None and op.rec[0] == C.PROC_START
        ]
        left = sum(op.rec is not None for q in self.queues.values() for op in q) - len(starts)
        kept = [
            (pid, op)
            for pid, q in self.queues.items()
            for op in q
            if op.event is not None and op.event.get("kind") in _KEPT_AT_ABANDON
        ]
        self._empty_pool()
        self.halt = self.hurried = _never
        for pid, rec in starts:
            self._add(pid, [rec])
        for pid, op in kept:  # as they were: ``add_event`` would begin a traced child's
            # start at its left-out operations' last stamp, after its own end, and no
            # order could place it ("no legal place", thousands after a fork flood)
            q = self.queues.setdefault(pid, deque())
            q.append(op)
            self.pending += 1
            if len(q) == 1:
                self._push(pid)
        return left

    def _pick(self, min_e: int, cutoff: int) -> Op | None:
        """The next operation: a legal observer first, else the legal one that ended first.

        Candidates are the heads (program order) that ended by ``cutoff`` and began before
        the earliest end among them (real-time order). An observer changes nothing, so
        placing it first never makes another operation impossible; a write into a pipe is
        held back while it would make a concurrent reader's recorded bytes impossible.
        """
        heap = self._heap
        queues = self.queues
        if not self._observer_heads:  # the common case: the earliest end, if nothing objects
            entry = heap[0]
            op = queues[entry[2]][0]
            rec = op.rec
            if (
                rec is not None
                and rec[0] not in _CONSUMER_CODES
                and not self._consumer_heads.get(rec[1])
                and rec[0] != C.PIPE_WRITE
                and not self._plan_refuses(op)
                and self._legal(op)
                and self._plan_allows(op)
            ):
                heapq.heappop(heap)
                self._in_heap.discard(entry[2])
                return op
        popped: list[tuple[int, int, int]] = []
        chosen: tuple[int, int, int] | None = None
        fallback: tuple[int, int, int] | None = None
        while heap and heap[0][0] <= cutoff:
            entry = heapq.heappop(heap)
            popped.append(entry)
            op = queues[entry[2]][0]
            if (
                op.b > min_e
                or self._plan_refuses(op)
                or not self._legal(op)
                or not self._plan_allows(op)
            ):
                continue
            if entry[2] in self._observer_heads:
                chosen = entry
                break
            if chosen is not None:
                continue
            rec = op.rec
            if rec is not None and rec[0] == C.PIPE_WRITE and self._blocks_a_read(op):
                fallback = fallback or entry
                continue
            chosen = entry
            if not self._observer_heads:
                break
        if chosen is None and fallback is not None and fallback[0] + STUCK_NS > cutoff:
            # Every legal candidate is a write that would spoil a recorded read. The write
            # that explains the read may be in the pool already and end a little later (a
            # thread that wrote, then waited for the GIL to stamp its record): wait for it,
            # at most ``STUCK_NS``, rather than place the spoiling write first.
            fallback = None
        pick = chosen or fallback
        if pick is not None and pick[2] not in self._observer_heads:
            pick = self._consumer_first(pick, popped, min_e, cutoff)
            pick = self._write_first(pick, popped, min_e, cutoff)
            pick = self._post_first(pick, popped, min_e, cutoff)
            pick = self._send_first(pick, popped, min_e, cutoff)
            if popped and self._grouped and self._takes_from_earlier(pick, popped[0], cutoff):
                pick = None
        for entry in popped:
            if entry is not pick:
                heapq.heappush(heap, entry)
        if pick is None:
            return None
        self._in_heap.discard(pick[2])
        return queues[pick[2]][0]

    def _said_late(self, pid: int, rec: Record) -> None:
        """A record stamped before an operation already published: the drain read past it
        (tracer/ring.py's promise broken). Said, with the gap, where it is found."""
        self.late += 1
        late_ns = self._upto - rec[2]
        self._event_out(
            {
                "t": rec[2] - self.t0,
                "seq": -1,
                "pid": pid & _PID_MASK,
                "kind": "order.late",
                "late_ns": late_ns,
                "message": f"a record came {late_ns} ns after an operation that ended later "
                "was published: it cannot be placed where it belongs",
            }
        )

    def _conflict(self) -> Op:
        """Nothing legal is left although everything before was known: say so, go on."""
        _, _, pid = heapq.heappop(self._heap)
        self._in_heap.discard(pid)
        op = self.queues[pid][0]
        if self._maybe_filled(op):
            return op  # (``outside`` now: every order is legal)
        why = self._why(op)
        # the trace carries no language: the reason in English, whatever the run's language
        reason = why.render("en") if why is not None else phrases.NO_PLACE
        self.conflicts += 1
        event = {"t": op.e - self.t0, "seq": -1, "pid": op.proc, "kind": "order.conflict"}
        obj = self._obj_name(op)
        if obj is not None:  # (an engine event's has none: ``obj: null`` is no trace's)
            event["obj"] = obj
        self._event_out({**event, "message": phrases.CONFLICT.format(reason=reason)})
        return op

    def _maybe_filled(self, op: Op) -> bool:
        """Whether ``op`` is on a POSIX queue opened with O_CREAT alone where what existed
        before the run is not known (``QueueObj.maybe_filled``): it may have held messages
        already, and no order of the traced calls explains a receive of one, or a send
        refused on a queue full of them. Said (``notice`` unseen-contents: ``outside`` from
        now on) rather than an ``order.conflict`` that accuses a correct program. (The
        mapper says it itself where one process holds the queue; with two, only the search
        can tell.)"""
        rec = op.rec
        if rec is None or rec[0] not in _QUEUE_CODES:
            return False
        obj = self._object(rec[1])
        if not isinstance(obj, QueueObj) or not obj.maybe_filled:
            return False
        name = self.objects[rec[1]]
        event = {"t": op.e - self.t0, "seq": -1, "pid": op.proc, "kind": "notice"}
        message = phrases.NOTICES["unseen-contents"].format(name=name)
        self._event_out({**event, "reason": "unseen-contents", "obj": name, "message": message})
        self._dirty.add(rec[1])
        return True

    def _event_out(self, event: dict[str, Any]) -> None:
        published = self._publish_event(event)
        if self.after_publish is not None:
            self.after_publish(published)

    def _emit(self, op: Op) -> None:
        q = self.queues[op.pid]
        rec = op.rec
        if rec is not None and rec[0] == C.PIPE_WRITE and self._split(op):
            self._push(op.pid)
            return
        q.popleft()
        self.pending -= 1
        self._unmark(op.pid, op)
        self._forget(op)
        if rec is not None and rec[0] in _QUEUE_CODES and rec[0] not in _AGAIN_CODES:
            queued = self._queued.setdefault(rec[1], Counter())
            m = _msg(op)
            if rec[0] in _PUT_CODES:
                queued[m] += 1
            elif queued[m] > 1:
                queued[m] -= 1
            else:
                queued.pop(m, None)
        if rec is not None:
            plan = self._plans.get(rec[1])
            if plan and plan is not _NO_ORDER and rec[0] in _PLANNED_CODES and plan[0] == op.pid:
                plan.popleft()
                if not plan:
                    self._dirty.add(rec[1])
            elif plan is not None or rec[1] in self._gave_up:
                self._dirty.add(rec[1])  # an operation outside the plan changed the object
        if op.event is not None:
            self._event_out(op.event)
        else:
            assert rec is not None
            if op.e > self._upto:
                self._upto = op.e
            if op.joined:
                rec = (_JOINED_CODE[rec[0]], *rec[1:])
            event = self._publish_record(rec, op.pid, op.since, op.want)  # pid | thread << 32
            if self.after_publish is not None:
                self.after_publish(event)
        if q and q[0].joined:
            self._emit(q[0])  # the rest of the semop: at the same instant, nothing between
        elif q:
            self._push(op.pid)

    def _split(self, op: Op) -> bool:
        """A write larger than PIPE_BUF goes in as room appears (the kernel splits it)."""
        rec = op.rec
        assert rec is not None
        obj = self.model.objects.get(self._obj_name(op) or "")
        if not isinstance(obj, PipeObj) or obj.outside:  # (outside: its room is not known)
            return False
        n = rec[3]
        room = self._piece(op, obj)
        if n <= room or room <= 0:
            return False
        data = rec[5]
        part = {
            "t": rec[2] - self.t0,
            "seq": -1,
            "pid": op.proc,
            "kind": "pipe.write",
            "obj": obj.name,
            "n": room,
            "size": rec[4],
            "data": b64(bytes(data[:room])),
            "part": True,
        }
        part[RAW] = bytes(data[:room])
        # a piece goes in while the call runs, before it returns: it is stamped with the
        # call's end and its begin (or, with none recorded, the earliest it can have taken
        # effect), so a read placed after it never ended before the piece could begin
        begun = op.since or op.b
        if begun and begun < rec[2]:
            part["since"] = begun - self.t0
            op.since = begun  # (and its last piece, published as the write itself)
        self._event_out(part)
        op.rec = (rec[0], rec[1], rec[2], n - room, rec[4], data[room:])
        op.msg = None
        return True

    def _piece(self, op: Op, obj: PipeObj) -> int:
        """How much of a write goes in now: what there is room for (a FIFO's bytes that
        may be gone take none: PipeObj.gone) and, for a write larger than PIPE_BUF, no
        more than the pending reads show next. The kernel is free to put another writer's
        bytes between the pieces of such a write (it waits whenever the pipe is full, and
        the other writer may get the room first): the reads tell where it did."""
        rec = op.rec
        assert rec is not None
        room = obj.room()
        n = rec[3]
        piece = min(n, room)
        if n <= PIPE_BUF or piece <= 0 or obj.gone or _unknown_bytes(obj, rec):
            return room
        want = self._read_stream(rec[1], obj.nbytes, obj.nbytes + piece)
        if want is None:
            return room
        data = bytes(rec[5][: len(want)])
        same = next((i for i, (a, b) in enumerate(zip(data, want, strict=False)) if a != b), None)
        return room if same is None else same

    # -- legality -----------------------------------------------------------------------

    def _obj_name(self, op: Op) -> str | None:
        if op.rec is None:
            return op.event.get("obj") if op.event else None
        i = op.rec[1]
        objects = self.objects
        if 0 <= i < list.__len__(objects):  # known: no need to ask for new names
            return objects[i]
        return objects[i] if 0 <= i < len(objects) else None

    def _fields(self, op: Op) -> dict[str, Any] | None:
        rec = op.rec
        if rec is None or rec[0] not in _CHECKED_CODES:
            return None
        spec = C.TABLE[rec[0]]
        fields: dict[str, Any] = {"kind": spec.kind, "obj": self._obj_name(op), RAW: rec[5]}
        if spec.a:
            fields[spec.a] = rec[3]
        if spec.b:
            fields[spec.b] = rec[4]
        fields.update(spec.fixed)
        if op.want is not None:
            fields["want"] = op.want
        return fields

    def _why(self, op: Op) -> Lazy | None:
        fields = self._fields(op)
        return violation(self.model, fields) if fields is not None else None

    def _legal(self, op: Op) -> bool:
        """Whether the model allows ``op`` now: ``violation()``, with the fields it reads
        made once per record (many heads are checked again and again while they wait)."""
        check = op.check
        if check is None or check[0] is not op.rec:
            check = op.check = (op.rec, self._fields(op))  # type: ignore[assignment]
        fields = check[1]  # type: ignore[index]
        if fields is None:
            return op.removes == -1 or not self._removal_waits(op)
        kind = fields["kind"]
        if kind == "pipe.write":
            obj = self.model.objects.get(fields["obj"] or "")
            if isinstance(obj, PipeObj):
                if obj.outside:  # an unwatched reader may have made room: not known
                    return True
                n = fields["n"]
                room = obj.room()
                return n <= room or (n > PIPE_BUF and room > 0)
        state_class, rule = RULES[kind]
        obj = self.model.objects.get(fields["obj"])
        if not isinstance(obj, state_class) or rule(obj, fields) is None:
            return not op.grouped or self._joined_legal(op)
        return False

    def _joined_legal(self, op: Op) -> bool:
        """Whether the semop ``op`` is the first part of can go now as a whole: the kernel
        applies all its parts or none, so a part that could not go (a semaphore at 0) holds
        back the parts before it too. Taken in the call's order: a part's units are the
        value the parts before it left (a post then a wait on one semaphore)."""
        q = self.queues[op.pid]
        if op.joined or q[0] is not op:
            return True  # (only a call's first part, at its lane's head, is ever a candidate)
        taken: Counter[int] = Counter()
        for k, op in enumerate(q):
            if k and not op.joined:
                break
            rec = op.rec
            assert rec is not None
            code, obj_i = rec[0], rec[1]
            if code == C.SEM_POST:
                taken[obj_i] -= 1
            elif code == C.SEM_WAIT or (code == C.SEM_TRYWAIT and rec[3]):
                obj = self._object(obj_i)
                if isinstance(obj, SemObj) and not obj.outside and obj.value - taken[obj_i] < 1:
                    return False
                taken[obj_i] += 1
        return True

    def _blocks_a_read(self, op: Op) -> bool:
        """Writing this now would make the recorded reads impossible.

        What the reader will read is known: the bytes of its pending reads, in order, are
        the stream the pipe must deliver from its current start. With several writers (or
        threads) a write goes in only where its bytes are the ones the stream has next.
        """
        rec = op.rec
        assert rec is not None
        obj = self.model.objects.get(self._obj_name(op) or "")
        if not isinstance(obj, PipeObj) or obj.outside or _unknown_bytes(obj, rec):
            return False  # (what the reads took may be bytes no record shows)
        if rec[3] > PIPE_BUF and not obj.gone and obj.room() > 0:
            return self._piece(op, obj) <= 0  # its first piece is what the reads show next
        need = obj.nbytes + len(rec[5])
        if not obj.gone:
            want = self._read_stream(rec[1], obj.nbytes, need)
            return want is not None and bytes(rec[5][: len(want)]) != want
        stream = self._read_stream(rec[1], 0, need)
        if stream is None:
            return False
        # a FIFO's first bytes may be gone (PipeObj.gone): it spoils the reads if it does
        # in every world the reads agree with (each starts its stream with what it holds)
        data = bytes(rec[5])
        spoils = False
        for skip in (0, *obj.gone):
            held = obj.nbytes - skip
            if not starts_with(obj, stream[:held], skip):
                continue  # the reads took other bytes than this world holds
            want = stream[held : held + len(data)]
            if data[: len(want)] == want:
                return False
            spoils = True
        return spoils

    def _read_stream(self, obj_i: int, start: int, end: int) -> bytes | None:
        """Bytes [start, end) of what the pool's reads of a pipe took, in order, counted
        from the pipe's first byte (shorter where the reads end; None: several readers).
        Found through the reader's takes by offset (``_Takes.stream``): walking them from
        the first made each write cost O(pipe fill), 64 Ki steps a write in a pipe full of
        1-byte reads, and a Ctrl-C on such a run minutes of ordering."""
        lanes = self._pool_takes.get(obj_i)
        readers = [r for r in lanes.values() if r] if lanes else []
        if len(readers) != 1:
            return None
        return readers[0].stream(start, end)


def _supplies(write: Op, rest: bytes) -> bool:
    """Whether ``write``'s bytes are the next ones a read took (``rest``: what it took
    past the bytes the pipe holds), as far as both payloads tell (a cut one: by count)."""
    data = write.rec[5]  # type: ignore[index]
    k = min(len(rest), len(data))
    return bytes(data[:k]) == rest[:k]


def _full_for(obj: Any, begin: Record) -> bool:
    """Whether the queue, as published, has no room for the send that ``begin`` started:
    most likely it waits for room (a bounded buffer's producer), and waiting for its
    message would hold every other send back for ``STUCK_NS`` (the review measured 948 ms
    of lag)."""
    if not isinstance(obj, QueueObj):
        return False
    if obj.by_priority:
        return bool(obj.max_messages) and len(obj.messages) >= obj.max_messages
    return not fits(obj.max_bytes, obj.nbytes, len(obj.messages), begin[4])


class _Copies:
    """A queue's sends of one message still in the pool, by begin (``_order_unknown``):
    how many began before a time, and which overlap an operation, in a bisection each (a
    scan of them all for each send made a flood of two alternating messages quadratic:
    16,000 sends took 17 s instead of 1.5). The oldest leave first: they are only
    stepped past (``lo``), the lists cut now and then, as ``_Takes`` does (a deletion at
    the front of 45,000 copies of a flood's "y" moved them all, once per send)."""

    __slots__ = ("begins", "lo", "longest", "ops")

    def __init__(self) -> None:
        self.begins: list[int] = []
        self.ops: list[Op | None] = []
        self.lo = 0  # the first still in the pool (those before it have left)
        self.longest = 0  # the longest send among them: how far back an overlap can begin

    @staticmethod
    def put(table: dict[Any, _Copies], key: Any, op: Op) -> None:
        """``op`` into ``table[key]``, made if need be."""
        copies = table.get(key)
        if copies is None:
            copies = table[key] = _Copies()
        copies.add(op)

    @staticmethod
    def take(table: dict[Any, _Copies], key: Any, op: Op) -> None:
        """``op`` out of ``table[key]``, dropped once empty."""
        copies = table.get(key)
        if copies is not None and copies.remove(op):
            del table[key]

    def __len__(self) -> int:
        return len(self.ops) - self.lo

    def live(self) -> Iterator[Op]:
        """Those in the pool, by begin."""
        return islice(self.ops, self.lo, None)  # type: ignore[arg-type]

    def add(self, op: Op) -> None:
        i = bisect_right(self.begins, op.b, self.lo)
        self.begins.insert(i, op.b)
        self.ops.insert(i, op)
        self.longest = max(self.longest, op.e - op.b)

    def remove(self, op: Op) -> bool:
        """Take ``op`` out; whether none are left."""
        ops, lo = self.ops, self.lo
        i = bisect_left(self.begins, op.b, lo)
        while i < len(ops) and ops[i] is not op:
            i += 1
        if i == len(ops):
            pass  # not among them
        elif i == lo:
            ops[i] = None
            lo = self.lo = lo + 1
            if lo >= 1024 and 2 * lo >= len(ops):  # (amortised O(1))
                del ops[:lo], self.begins[:lo]
                self.lo = 0
        else:
            del self.begins[i], ops[i]
        if len(self) == 0:
            self.longest = 0
            return True
        return False

    def began_before(self, t: int) -> int:
        return bisect_left(self.begins, t, self.lo) - self.lo

    def overlapping(self, op: Op) -> list[Op]:
        """Those that began before ``op`` ended and ended after it began."""
        lo = bisect_left(self.begins, op.b - self.longest, self.lo)
        hi = bisect_left(self.begins, op.e, self.lo)
        return [o for o in self.ops[lo:hi] if o.e > op.b and o is not op]  # type: ignore[union-attr]


def _not_fifo(op: Op) -> bool:
    """A queue operation that is neither a send nor a System V receive of the oldest
    message (a POSIX receive, one of a type, a refused one): messages may then leave a
    queue out of the order they came (``_QueueShadow.fifo``)."""
    code = op.rec[0]  # type: ignore[index]
    return code not in _PUT_CODES and (code not in _MSGQ_TAKES or bool(op.want))


def _upto_takes(ops: deque[Op], takes: _Takes | None, cap: int) -> list[Op]:
    """``ops`` up to (not including) the take after the first ``cap``: a queue's rules read
    no take further on (``_QueueShadow.take_cap``). ``takes``: the takes among ``ops``."""
    if takes is None or len(takes) <= cap:
        return list(ops)
    return list(islice(ops, ops.index(takes[cap])))


def _lane(
    index: dict[Any, dict[int, Any]], key: Any, pid: int, make: Callable[[], Any] = deque
) -> Any:
    """``index[key][pid]``, made if missing (``setdefault`` would make a dict and a deque
    for every record only to throw them away)."""
    by_pid = index.get(key)
    if by_pid is None:
        by_pid = index[key] = {}
    mine = by_pid.get(pid)
    if mine is None:
        mine = by_pid[pid] = make()
    return mine


class _Takes:
    """One process's takes from one object in the pool, oldest first (a deque's
    ``append``, ``popleft``, ``[k]``, ``len``, iteration), with where each one's bytes
    start in what the process took: a write's check finds the reads that cover its
    bytes by bisection, not by walking every read before them."""

    __slots__ = ("head", "ops", "starts", "total")

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.starts: list[int] = []  # per op, the bytes taken before it (since the first)
        self.head = 0  # ops[:head] left the pool
        self.total = 0

    def append(self, op: Op) -> None:
        assert op.rec is not None
        self.ops.append(op)
        self.starts.append(self.total)
        self.total += len(op.rec[5])

    def popleft(self) -> Op:
        op = self.ops[self.head]
        self.head += 1
        if self.head >= 1024 and 2 * self.head >= len(self.ops):  # (amortised O(1))
            del self.ops[: self.head], self.starts[: self.head]
            self.head = 0
        return op

    def __getitem__(self, k: int) -> Op:
        if not 0 <= k < len(self):
            raise IndexError(k)
        return self.ops[self.head + k]

    def __len__(self) -> int:
        return len(self.ops) - self.head

    def __iter__(self) -> Iterator[Op]:
        return islice(self.ops, self.head, None)

    def stream(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of what these takes took, from the first one's first byte."""
        if not self or end <= start:
            return b""
        ops, starts = self.ops, self.starts
        base = starts[self.head]
        i = bisect_right(starts, base + start, self.head) - 1  # the take holding ``start``
        at = starts[i] - base
        parts: list[bytes] = []
        got = at
        while i < len(ops) and got < end:
            part = bytes(ops[i].rec[5])  # type: ignore[index]
            parts.append(part)
            got += len(part)
            i += 1
        return b"".join(parts)[start - at : end - at]


def _forced(lists: list[list[Op]]) -> list[int] | None:
    """The one order real time leaves ``lists`` (list indexes, by end), or None when an
    operation of one list overlaps one of another (then the order is a choice).

    Operations under a lock, say, never overlap another process's: at every step of the
    search only the operation that ends first began in time, so the search would place
    them by their ends (checked by comparing each one's begin with the latest end of
    another list before it, in the merged order of ends)."""
    merged = sorted(  # by end; (end, list, begin, its index in the list)
        chain.from_iterable(
            zip(map(_end, lst), repeat(i), map(_begin, lst), count()) for i, lst in enumerate(lists)
        )
    )
    order: list[int] = []
    last_e = other_e = -(1 << 62)  # the latest end; the latest end of another list
    last_list = -1
    nxt = [0] * len(lists)  # each list's next operation in program order
    for e, i, b, k in merged:
        if b <= (other_e if i == last_list else last_e) or k != nxt[i]:
            return None  # an overlap (or a list whose ends do not follow its order)
        nxt[i] = k + 1
        if i == last_list:
            last_e = e
        else:
            other_e, last_e, last_list = last_e, e, i
        order.append(i)
    return order


def _path_ops(lists: list[list[Op]], path: list[int]) -> Iterator[Op]:
    """The operations a found order places, in its order (``path``: the list of each)."""
    seen = [0] * len(lists)
    for i in path:
        yield lists[i][seen[i]]
        seen[i] += 1


def _follow(
    shadow: _Shadow, lists: list[list[Op]], pids: list[int], order: list[int], horizon: int
) -> deque[int] | None:
    """The search's answer for an order it had no choice in: legal, or none exists."""
    if any(shadow.apply(o) is None for o in _path_ops(lists, order)):
        return _NO_ORDER
    return _answer(pids, lists, order, horizon)


def _answer(
    pids: list[int], lists: list[list[Op]], path: list[int], horizon: int
) -> deque[int] | None:
    """A search's plan: the processes of ``path`` up to what it commits (None: empty)."""
    return deque(pids[i] for i in path[: _committed(lists, path, horizon)]) or None


def _places_required(lists: list[list[Op]], path: list[int], horizon: int, required: int) -> bool:
    """Whether ``path`` places ``required`` operations that ended by ``horizon``."""
    return sum(o.e <= horizon for o in _path_ops(lists, path)) >= required


def _committed(lists: list[list[Op]], path: list[int], horizon: int) -> int:
    """How much of a found order to commit: up to its first optional operation (one that
    ended after the horizon), or that one alone if it comes first. The search does not see
    the operations that began after the horizon; one of those may need to come between
    two optional ones (a take that began after a put ended must follow it, and that put
    needs the slot an optional put took). By the time the first optional one is placed,
    the next search's horizon lies further and sees them."""
    for k, o in enumerate(_path_ops(lists, path)):
        if o.e > horizon:
            return max(k, 1)
    return len(path)


def _upto_untold(
    lists: list[list[Op]],
    path: list[int],
    upto: int,
    horizon: int,
    queued: Counter[int | None],
    by_key: bool = False,
) -> int:
    """How much of the first ``upto`` steps of an order found on a FIFO queue (``queued``
    messages in it first) to commit: up to the first put placed in front of a concurrent
    put of another message (another list's next one, begun before it ended) while no
    required take of the order gets its message. Which of the two came first is then told
    only by a take past the horizon, which the next search, starting there, sees. (A
    6-process mesh: the horizon fell 1 ns before the receive that tells two sends apart,
    the order put them the other way round, and that receive had no explanation:
    ``order.conflict`` on a correct program.) Never cut to less than half: in a deep
    queue every put's take lies past the horizon (the ranks check those, ``watch``).

    ``by_key``: a POSIX queue of several priorities, whose messages of one priority leave
    in the order they came (``queued``: per priority), so only a put of the same priority
    is concurrent that way. (Committed in front of another sender's send in progress, a
    send made that one's receive impossible: 5 senders, 5 receivers, 10 slots.)"""
    places: dict[int | None, deque[Op | None]] = {
        key: deque(repeat(None, n)) for key, n in queued.items()
    }  # each place's put (None: before)
    told: set[int] = set()  # ids of the puts whose message a required take gets
    for o in _path_ops(lists, path):
        code = o.rec[0]  # type: ignore[index]
        key = o.rec[3] if by_key else None  # type: ignore[index]
        if code in _PUT_CODES:
            places.setdefault(key, deque()).append(o)
        elif code in _TAKE_CODES and places.get(key):
            put = places[key].popleft()
            if put is not None and o.e <= horizon:
                told.add(id(put))
    at = [0] * len(lists)
    for k, i in enumerate(path[:upto]):
        o = lists[i][at[i]]
        at[i] += 1
        if o.rec[0] not in _PUT_CODES or id(o) in told:  # type: ignore[index]
            continue
        m = _msg(o)
        for j, lst in enumerate(lists):
            other = lst[at[j]] if j != i and at[j] < len(lst) else None
            if (
                other is not None
                and other.rec[0] in _PUT_CODES  # type: ignore[index]
                and other.b <= o.e
                and _msg(other) != m
                and (not by_key or other.rec[3] == m[0])  # type: ignore[index]
            ):
                return k if 2 * k >= upto else upto
    return upto


class _Heads:
    """The search's next operation of each list, kept sorted three ways as the search moves
    one list at a time (two bisections per move instead of a sort per step): in the order
    the search tries them (observers, then takes, then puts: ``_RANK``; the list needed
    soonest: ``need``; the earliest end; the list's index), by end (the earliest end bounds
    which may go next), and by begin (only those that began by then may).
    """

    def __init__(
        self, lists: list[list[Op]], need: list[list[int]], pos: list[int], last_take: list[int]
    ) -> None:
        self.lists, self.need, self.pos, self.last_take = lists, need, pos, last_take
        #: per list, its head's try-order key, (end, list) and (begin, list), or None
        self.keys: list[tuple[int, int, int, int] | None] = [None] * len(lists)
        self.end_keys: list[tuple[int, int] | None] = [None] * len(lists)
        self.begin_keys: list[tuple[int, int] | None] = [None] * len(lists)
        for i in range(len(lists)):
            self._head(i)
        self.order = sorted(k for k in self.keys if k is not None)  # the try order
        self.ends = sorted(k for k in self.end_keys if k is not None)
        self.begins = sorted(k for k in self.begin_keys if k is not None)
        #: how many lists still have a take ahead (a take's place depends on other takes)
        self.taking = sum(1 for i, last in enumerate(last_take) if last >= pos[i])

    def candidates(self, min_end: int, takes_blocked: bool) -> Iterable[int]:
        """The lists whose heads may go next, in the order to try them: a superset of those
        that began by ``min_end``; without takes when no take can succeed now (they would
        all fail). The search moves heads while it goes through them, and puts them back
        before it asks for the next one, so the order can be read as it goes (lazily: the
        first one usually goes)."""
        begins = self.begins
        early = bisect_right(begins, (min_end, 1 << 62))
        order = self.order
        if early * 2 < len(order):  # few began in time: sort just those
            head = self.keys
            keys = sorted([head[i] for _, i in begins[:early]])  # type: ignore[type-var]
            if takes_blocked:
                return [k[3] for k in keys if k[0] != 1]
            return [k[3] for k in keys]
        if not takes_blocked:
            return map(_LIST, order)
        lo, hi = bisect_left(order, (1,)), bisect_left(order, (2,))
        return chain(map(_LIST, islice(order, lo)), map(_LIST, islice(order, hi, None)))

    def only_taker(self) -> Op:
        """The head of the one list with takes left (``taking == 1``)."""
        i = next(j for j, last in enumerate(self.last_take) if last >= self.pos[j])
        return self.lists[i][self.pos[i]]

    def _head(self, i: int) -> bool:
        """Make list ``i``'s keys for its head at ``pos[i]``; False if it has none."""
        k, lst = self.pos[i], self.lists[i]
        if k >= len(lst):
            self.keys[i] = self.end_keys[i] = self.begin_keys[i] = None
            return False
        o = lst[k]
        self.keys[i] = (_RANK.get(o.rec[0], 2), self.need[i][k], o.e, i)  # type: ignore[index]
        self.end_keys[i] = (o.e, i)
        self.begin_keys[i] = (o.b, i)
        return True

    def _move(self, i: int, step: int) -> None:
        """List ``i``'s head was placed (step 1: its next operation is its head now), or
        that is undone (step -1)."""
        old = self.keys[i]
        if old is not None:  # its head leaves the three orders
            del self.order[bisect_left(self.order, old)]
            del self.ends[bisect_left(self.ends, self.end_keys[i])]  # type: ignore[arg-type]
            del self.begins[bisect_left(self.begins, self.begin_keys[i])]  # type: ignore[arg-type]
        if self.last_take[i] == (self.pos[i] if step > 0 else self.pos[i] - 1):
            self.taking -= step  # it passes (or comes back to) its last take
        self.pos[i] += step
        if self._head(i):  # its new head enters them
            insort(self.order, self.keys[i])  # type: ignore[arg-type]
            insort(self.ends, self.end_keys[i])  # type: ignore[arg-type]
            insort(self.begins, self.begin_keys[i])  # type: ignore[arg-type]


# -- shadows: a copy of one object's state that the search can change and undo ----------

Undo = Callable[[], None]


class _Shadow:
    codes: frozenset[int] = frozenset()
    #: operations whose result depends on the order (reads, takes): without one, any order
    #: of the others is legal and no search is needed
    observing: frozenset[int] = frozenset()
    #: whether the search needs every known operation (later takes tell earlier puts' order)
    full_lists = False
    pos: list[int]  # the search's position in each process's list

    def key(self) -> Any:
        raise NotImplementedError

    def apply(self, op: Op) -> Undo | None:
        """Apply ``op`` if it is legal here; return how to undo it, or None if illegal."""
        raise NotImplementedError

    def blocked(self, op: Op) -> bool:
        """Whether ``op`` is a take that another message stands in the way of (only another
        take can remove it: puts never can)."""
        return False

    def takes_blocked(self) -> bool:
        """Whether every take (``_CONSUMER_CODES``) would fail now: the search skips them."""
        return False

    def plan_for(self, full: list[list[Op]], lists: list[list[Op]]) -> None:
        """Look at the operations to be ordered (``lists``; ``full``: every known one of
        each process, from which later takes tell the order of earlier puts)."""

    def urgency(self, op: Op) -> int:
        """Among puts, which to try first (smaller: sooner)."""
        return 0

    def explainable(self, lists: list[list[Op]], horizon: int) -> bool:
        """A quick necessary condition: every take that must be placed has its message."""
        return True

    def watch(
        self, lists: list[list[Op]], horizon: int, read_to: int, taking: dict[int, int]
    ) -> None:
        """Get ready for ``dead`` in a search of ``lists`` up to ``horizon``; ``read_to``:
        what is not in the pool began after it; ``taking``: pids in a take right now, and
        when each began."""

    def dead(self, op: Op) -> bool:
        """Whether no order can go on from here, ``op`` just placed (checked after each
        step the search takes): a branch cut at once instead of at its end, many steps
        later."""
        return False

    def never(self, op: Op) -> bool:
        """Whether ``op`` can go nowhere in this search, whatever it places first."""
        return False


class _ShmShadow(_Shadow):
    codes = _SHM_CODES
    observing = frozenset({C.SHM_READ})

    def __init__(self, obj: ShmObj) -> None:
        self.mem = bytearray(obj.data)

    def key(self) -> Any:
        return bytes(self.mem)

    def apply(self, op: Op) -> Undo | None:
        code, _, _, off, _, data = op.rec  # type: ignore[misc]
        mem, n = self.mem, len(data)
        if code == C.SHM_READ:
            return _nothing if mem[off : off + n] == data else None
        old = bytes(mem[off : off + n])
        mem[off : off + n] = data

        def undo() -> None:
            mem[off : off + n] = old

        return undo


def _has_for(obj: Any, begin: Record) -> bool:
    """Whether ``obj`` holds what the take that ``begin`` started waits for."""
    if isinstance(obj, QueueObj):
        if begin[0] == C.MQ_RECV_BEGIN:
            return bool(obj.messages)
        return select_message(obj, {"want": begin[3]}) is not None
    if isinstance(obj, SemObj):
        return obj.value > 0
    if isinstance(obj, PipeObj):
        return obj.nbytes > 0 or not obj.writers
    return False


def _jumps_ahead(obj: Any, begin: Record, key: int) -> bool:
    """Whether a message of ``key`` (a priority, a type) put now would be the one the take
    that ``begin`` started gets, instead of the one queued for it: of a higher priority
    (POSIX), of a lower type under a negative ``want`` (System V). Else it goes behind
    that one (a receive of the oldest, or of the oldest of one type), and the take gets
    what it gets whatever the order."""
    if not isinstance(obj, QueueObj):
        return True
    if begin[0] == C.MQ_RECV_BEGIN:
        return key > max(m[0] for m in obj.messages)
    want = begin[3]
    if want >= 0:
        return False
    i = select_message(obj, {"want": want})
    return i is not None and key < obj.messages[i][0]


def _msg(op: Op) -> tuple[int, bytes]:
    """A message's identity: (priority or type, bytes); made once per operation (a search
    asks it of every take in the pool)."""
    m = op.msg
    if m is None:
        m = op.msg = (op.rec[3], bytes(op.rec[5]))  # type: ignore[index]
    return m


class _SemShadow(_Shadow):
    """A semaphore's value: waits compete for units, and a wait whose process was woken
    late (stamped long after it took its unit) must still get one."""

    codes = _SEM_CODES
    observing = frozenset({C.SEM_WAIT, C.SEM_TRYWAIT})

    def __init__(self, obj: SemObj) -> None:
        self.value = obj.value
        self.trywaits = True  # a failed trywait is a take that succeeds at 0 (plan_for)
        # the undo of a post and of a wait, made once (not a closure per step)
        self._unpost, self._unwait = self._down, self._up

    def _down(self) -> None:
        self.value -= 1

    def _up(self) -> None:
        self.value += 1

    def plan_for(self, full: list[list[Op]], lists: list[list[Op]]) -> None:
        self.trywaits = any(o.rec[0] == C.SEM_TRYWAIT for lst in lists for o in lst)  # type: ignore[index]

    def takes_blocked(self) -> bool:
        return self.value < 1 and not self.trywaits

    def descend(self, lists: list[list[Op]], required: int, horizon: int) -> list[int] | None:
        """The search's path when it never has to go back, found with heaps (None: it would).

        With only waits and posts, the search's first candidate always applies (a take is
        tried only while the value is at least 1; a post always can), so the search goes
        straight down until it places ``required`` operations or finds no candidate (then
        it would go back: None, the search decides). Its candidates are the heads that
        began by the earliest end among the heads (that end only grows on the way down),
        tried takes first, each kind by (end, list): here a heap of each, not three sorted
        lists kept for going back."""
        pos = [0] * len(lists)
        ends = [(lst[0].e, i, 0) for i, lst in enumerate(lists) if lst]  # (end, list, index)
        later = [(lst[0].b, i, 0) for i, lst in enumerate(lists) if lst]  # not begun yet
        heapq.heapify(ends)
        heapq.heapify(later)
        takes: list[tuple[int, int, int]] = []  # begun heads, (end, list, index)
        puts: list[tuple[int, int, int]] = []
        value, placed, path = self.value, 0, []
        heappush, heappop = heapq.heappush, heapq.heappop
        while placed < required:
            while pos[ends[0][1]] != ends[0][2]:  # a head placed already
                heappop(ends)
            min_end = ends[0][0]
            while later and later[0][0] <= min_end:
                _, i, k = heappop(later)
                o = lists[i][k]
                code = o.rec[0]  # type: ignore[index]
                if code not in _WAIT_POST:
                    return None  # a trywait or a dead process's SEM_UNDO: the search's
                heappush(takes if code == C.SEM_WAIT else puts, (o.e, i, k))
            if value >= 1 and takes:
                _, i, k = heappop(takes)
                value -= 1
            elif puts:
                _, i, k = heappop(puts)
                value += 1
            else:
                return None
            o = lists[i][k]
            placed += o.e <= horizon
            path.append(i)
            pos[i] = k = k + 1
            if k < len(lists[i]):
                nxt = lists[i][k]
                heappush(ends, (nxt.e, i, k))
                heappush(later, (nxt.b, i, k))
        return path

    def key(self) -> Any:
        return self.value

    def apply(self, op: Op) -> Undo | None:
        code, ok = op.rec[0], op.rec[3]  # type: ignore[index]
        if code == C.SEM_POST:
            self.value += 1
            return self._unpost
        if code == _UNDO:  # the kernel keeps the value in 0..SEMVMX
            delta = min(max(self.value + ok, 0), SEMVMX) - self.value
        elif code == C.SEM_SET:  # semctl(SETVAL): ``ok`` is the value given
            delta = ok - self.value
        elif code == C.SEM_TRYWAIT and not ok:
            return _nothing if self.value == 0 else None
        elif self.value < 1:
            return None
        else:
            self.value -= 1
            return self._unwait
        self.value += delta

        def undo() -> None:
            self.value -= delta

        return undo


def _nothing() -> None:
    return None


#: ``_QueueShadow.key``'s hash: modulo a Mersenne prime, by powers of a base
_MOD = (1 << 61) - 1
_BASE = 1_000_003
_INV_BASE = pow(_BASE, _MOD - 2, _MOD)


def _message_hash(key: int, data: bytes | bytearray, size: int) -> int:
    return hash((key, bytes(data), size)) % _MOD


def _put(op: Op) -> tuple[int, bytes, int]:
    """A send's message, as ``takes`` compares it: key, recorded bytes, size."""
    _, _, _, key, size, data = op.rec  # type: ignore[misc]
    return key, bytes(data), size


def _taken(op: Op) -> tuple[int, bytes, int, bool]:
    """What a receive got, as ``takes`` compares it: key, recorded bytes, size, cut."""
    code, _, _, key, size, data = op.rec  # type: ignore[misc]
    return key, bytes(data), size, code in _CUT_TAKES


def _shared_out(
    messages: list[list[Any]],
    takes: list[list[tuple[int, bytes, int, bool]]],
    must: list[int],
    start: tuple[int, ...],
    after: list[list[tuple[int, ...]]],
) -> bool:
    """Whether ``messages``, oldest first, can go one by one to the takers' next takes
    (``takes[i][start[i]:]``, in each taker's program order, a take matching a message by
    type and bytes), until they run out or every taker is past its ``must`` first takes.
    A take goes only after the takes that ended before it began (``after[i][v]``: how many
    of each taker's takes those are; real-time order). Follows every way of sharing them
    out, up to ``DEAD_WAYS`` (then: yes)."""
    ways = {start}
    ge = int.__ge__
    for m in messages:
        nxt = set()
        for way in ways:
            if all(map(ge, way, must)):
                return True  # the takes that must be placed have their messages
            for i, v in enumerate(way):
                if (
                    v < len(takes[i])
                    and takes_message(m, *takes[i][v])
                    and all(map(ge, way, after[i][v]))
                ):
                    nxt.add((*way[:i], v + 1, *way[i + 1 :]))
        if not nxt:
            return False
        if len(nxt) > DEAD_WAYS:
            return True
        ways = nxt
    return True


class _Sharing:
    """The takes to come of a search's lists, as ``_shared_out`` reads them: those of
    one key (a priority or type; None: every take), per list that has any (``takers``),
    where each stands in its list (``take_at``), what it got (``takes``), how many must be
    placed (``must``) and how many of each taker's ended before it began (``after``)."""

    __slots__ = ("after", "must", "take_at", "takers", "takes")

    def __init__(
        self, lists: list[list[Op]], horizon: int, taking: dict[int, int], key: int | None
    ) -> None:
        take_at = [
            [
                k
                for k, o in enumerate(lst)
                if o.rec[0] in _TAKE_CODES and (key is None or o.rec[3] == key)  # type: ignore[index]
            ]
            for lst in lists
        ]
        self.takers = [i for i, at in enumerate(take_at) if at]
        self.take_at = [take_at[i] for i in self.takers]
        self.takes = [
            [_taken(lists[i][k]) for k in at]
            for i, at in zip(self.takers, self.take_at, strict=True)
        ]
        # a take in progress may come before any take that ended after it began
        self.must = []
        for i, at in zip(self.takers, self.take_at, strict=True):
            pid = lists[i][0].pid
            bound = min([horizon + 1, *(b for p, b in taking.items() if p != pid)])
            self.must.append(sum(1 for k in at if lists[i][k].e < bound))
        # real-time order among the takes: per take, how many of each taker's takes ended
        # before it began (a process's takes end in program order: a bisection each)
        ends = [
            [lists[i][k].e for k in at] for i, at in zip(self.takers, self.take_at, strict=True)
        ]
        self.after = [
            [tuple(bisect_left(e, lists[i][k].b) for e in ends) for k in at]
            for i, at in zip(self.takers, self.take_at, strict=True)
        ]

    def start(self, pos: list[int]) -> tuple[int, ...]:
        """How many of each taker's takes the search placed (``pos``: per list)."""
        return tuple(
            bisect_left(at, pos[i]) for i, at in zip(self.takers, self.take_at, strict=True)
        )

    def out(self, messages: list[list[Any]], start: tuple[int, ...]) -> bool:
        return _shared_out(messages, self.takes, self.must, start, self.after)


def _ranks(
    lists: list[list[Op]], base: int, top: int, edge: int
) -> tuple[int, list[list[tuple[int, bytes, int, bool]]]]:
    """``_QueueShadow._rank_takes``' places: below the first returned, each place from
    ``base`` on (1: the oldest message now) with the takes that may get it (``lists``:
    each taker's takes, in program order; every take not in them began after ``edge``)."""
    ends = sorted(islice(heapq.merge(*[map(_end, lst) for lst in lists]), min(top, RANKS)))
    known = min(bisect_left(ends, edge) + 1, RANKS)
    by_rank: list[list[tuple[int, bytes, int, bool]]] = [[] for _ in range(known - base)]
    if known <= base:
        return known, by_rank
    last = ends[-1]  # a take that began later has a rank past ``top``
    takes = [o for lst in lists for o in takewhile(lambda o: o.b <= last, lst)]
    begins = sorted(o.b for o in takes)
    pairs = RANK_PAIRS
    for lo, o in sorted(((bisect_left(ends, o.b) + 1, o) for o in takes), key=itemgetter(0)):
        if lo >= known:
            break
        hi = min(bisect_right(begins, o.e), known - 1)
        if hi < base:
            continue
        lo = max(lo, base)
        pairs -= hi - lo + 1
        if pairs < 0:
            return lo, by_rank  # the places from here on are not all looked at
        got = _taken(o)
        for rank in range(lo - base, hi + 1 - base):
            by_rank[rank].append(got)
    return known, by_rank


class _QueueShadow(_Shadow):
    """Messages as [key, bytes, size] (bytes as recorded: maybe fewer than the size); the
    same selection rule as ``legal.select_message``, the same match as ``takes``."""

    codes = _QUEUE_CODES
    observing = _TAKE_CODES | _AGAIN_CODES
    full_lists = True

    def __init__(
        self,
        obj: QueueObj,
        pool_puts: dict[tuple[int, bytes], _Copies] | None = None,
        pool_takes: dict[tuple[int, bytes], int] | None = None,
        putting: list[int] | None = None,
        pool_summary: tuple[Counter[int | None], bool] | None = None,
    ) -> None:
        """``pool_puts``, ``pool_takes``: the pool's sends and receives of this queue by
        message, as the linearizer keeps them (else ``plan_for`` counts them);
        ``putting``: when each send in progress began (its message is not known yet);
        ``pool_summary``: the keys (priorities, types) of the pool's operations (None for
        a refused call), and whether every one is a send or a System V receive of the
        oldest message (else ``plan_for`` reads them all to say)."""
        self.messages = [[m[0], m[1], len(m[1])] for m in obj.messages]
        self._pool = (pool_puts, pool_takes) if pool_puts is not None else None
        self._pool_summary = pool_summary if pool_puts is not None else None
        #: how many takes of each list the rules read (the places a put of this search can
        #: get, and then some): ``plan_for``, and the lists ``_search`` copies
        self.take_cap = min(RANKS, len(self.messages) + 2 * PLAN_DEPTH)
        #: per list, its takes in the pool, all of them (``_search`` says; ``plan_for``
        #: skips a list with none, ``_tight_scan`` reads past ``take_cap``)
        self.lane_pool: list[_Takes | None] | None = None
        self.max_messages = obj.max_messages
        self.max_bytes = obj.max_bytes
        self.by_priority = obj.by_priority
        self.nbytes = sum(m[2] for m in self.messages)
        self._rehash()
        self.fifo = False  # (``plan_for`` says)
        self._fifo = True  # (``watch``: ``fifo`` as the search reads it; else per key)
        self._taken = 0  # takes placed by the search so far (``_not_its_rank``)
        self._joint: list[set[tuple[int, ...]] | None] | None = None  # (``_joint_setup``)
        self._jback: list[set[tuple[int, ...]]] | None = None
        self._horizon = self._read_to = 1 << 62  # (``watch``)
        self._lists: list[list[Op]] = []  # (``watch``: ``_overfull``)
        self._room_by = 1 << 62
        self.putting = sorted(putting or ())  # (``_tight_scan``)

    def _rehash(self) -> None:
        """``_h``: the messages in order as one number (a polynomial hash, ``_MOD``), and
        ``_top``: the weight of the next message put."""
        h, weight = 0, 1
        for m in self.messages:
            h = (h + _message_hash(*m) * weight) % _MOD
            weight = weight * _BASE % _MOD
        self._h, self._top = h, weight

    def key(self) -> Any:
        """The queue's contents, in order, as the search's memo keeps them: a hash kept as
        messages come and go, not a copy of the queue. A copy a step made a search over a
        queue of 16,384 one-byte messages hold gigabytes (the engine was killed for
        memory ending a flood) and spend its time copying. Two different queues agree on
        all three numbers with a chance of about 2^-61: that branch is then not tried."""
        return (len(self.messages), self.nbytes, self._h)

    def takes_blocked(self) -> bool:
        return not self.messages  # a receive from an empty queue never succeeds

    def plan_for(self, full: list[list[Op]], lists: list[list[Op]]) -> None:
        """Payload identity: messages of one priority (or type) leave in the order they
        came, so when one process took m1 before m2, m1 was put before m2."""
        self.taken_at: dict[tuple[int, bytes], int] = {}
        self.before: dict[tuple[int, bytes], list[tuple[int, bytes]]] = {}
        #: message → (list, index): it was put only after that list's take at that index
        #: (POSIX: a take of a lower priority came first in the same process, so the
        #: message was not in the queue yet, or the take would have got it)
        self.not_before: dict[tuple[int, bytes], tuple[int, int]] = {}
        self.put: set[tuple[int, bytes]] = set()
        searched = {_msg(o) for lst in lists for o in lst if o.rec[0] in _PUT_CODES}  # type: ignore[index]
        puts = searched
        # "Taken before, so put before" holds for a message that exists once: a copy in
        # the queue already, or the same bytes put or taken twice (a report sent each
        # round), may be the one taken, so such a message orders nothing here (the search
        # still checks every take against the queue).
        count = Counter((m[0], bytes(m[1])) for m in self.messages)
        self._have = count  # (``_steals``: the queue as the search began)
        #: message → the tight takes found so far, and the scan that finds the next ones
        self._tight: dict[
            tuple[int, bytes], tuple[list[tuple[int, int, int]], Iterator[tuple[int, int, int]]]
        ] = {}
        if self._pool is not None:  # (counted as they come and go: not the pool again)
            pool_puts, pool_takes = self._pool
            puts = {
                m
                for m in puts
                if count[m] + (len(pool_puts[m]) if m in pool_puts else 0) == 1  # type: ignore[index]
                and pool_takes.get(m, 0) <= 1  # type: ignore[union-attr]
            }
        else:
            count.update(_msg(o) for lst in full for o in lst if o.rec[0] in _PUT_CODES)  # type: ignore[index]
            taken = Counter(_msg(o) for lst in full for o in lst if o.rec[0] in _TAKE_CODES)  # type: ignore[index]
            puts = {m for m in puts if count[m] == 1 and taken[m] <= 1}
        #: per list, its takes' begins and indices: a put that ended before a take began
        #: is due before that take (real time), however late its own take comes
        self.take_begins: list[tuple[list[int], list[int]]] = []
        #: per list, where its takes are (indices); and a message put once and taken once
        #: → (the list that takes it, how many of that list's takes come first): ``ahead``
        self.take_at: list[list[int]] = []
        self.ahead: dict[tuple[int, bytes], tuple[int, int]] = {}
        # the places a put of this search can get, and then some: no rule looks further
        cap = self.take_cap
        # A FIFO: every take gets the oldest message. So it is where every take is a System
        # V receive of the oldest (type 0), and where every message queued, put or taken
        # has one key (a POSIX queue of one priority; System V, of one type, whatever type
        # a receive asked for): the oldest of that key is the oldest. There the search
        # looks past its horizon at which place each take may get (``watch``); else it
        # committed two concurrent sends in the order the receives past it ruled out
        # (``order.conflict`` on a correct program: 3 senders, 3 receivers, 8 slots).
        keys: set[int | None] = {m[0] for m in self.messages}
        known = self._pool_summary is not None  # (else: read every operation to say)
        if self._pool_summary is not None:  # the pool's keys, counted as they come and go
            pool_keys, pool_oldest = self._pool_summary
            keys.update(pool_keys)  # (None: a refused call, which no FIFO rule explains)
            one = None not in keys and len(keys) <= 1
            oldest = not self.by_priority and pool_oldest
        else:
            one = len(keys) <= 1
            oldest = not self.by_priority
        key = next(iter(keys), None)  # the one key (None: none seen yet)
        taken_at, before, ahead, not_before = self.taken_at, self.before, self.ahead, {}
        # One pass over each list's takes: a search runs this over the whole pool (100,000
        # operations in a flood's backlog), so only what is asked is kept: where each list's
        # takes are, and, for the search's messages, their first take (``_own_due``) and
        # what was taken before a unique one (``before``, ``ahead``, ``not_before``); at
        # most ``cap`` takes a list (a take further on is never among the first ``cap`` of
        # all, and a rule that does not see it only cuts less).
        lane_pool = self.lane_pool if known else None
        for r, lst in enumerate(full):
            at: list[int] = []
            if lane_pool is not None and not lane_pool[r]:
                self.take_at.append(at)  # (a forked flood's hundreds of senders: their
                continue  # sends read at every search made its Ctrl-C a minute long)
            begins: list[int] = []
            earlier: dict[int, list[tuple[int, bytes]]] = {}  # priority → unique ones taken
            lowest: list[tuple[int, int]] = []  # POSIX: (priority, index) of takes so far
            for k, o in enumerate(lst):
                code = o.rec[0]  # type: ignore[index]
                if not known:
                    if one:  # (a put's and a take's rec[3]: its priority or type)
                        if key is None:
                            key = o.rec[3]  # type: ignore[index]
                        one = o.rec[3] == key  # type: ignore[index]
                    if code not in _TAKE_CODES:
                        one = one and code in _PUT_CODES
                        oldest = oldest and code in _PUT_CODES
                        continue
                    oldest = oldest and code in _MSGQ_TAKES and not o.want
                elif code not in _TAKE_CODES:
                    continue
                if len(at) >= cap:
                    if known:
                        break  # past every rule's view (their ranks, a unique one's take)
                    continue
                at.append(k)
                begins.append(o.b)
                m = _msg(o)
                if m in searched and m not in taken_at:
                    taken_at[m] = k
                if m in puts:
                    if m not in before:
                        ahead[m] = (r, len(at) - 1)
                        before[m] = [x for x in earlier.get(m[0], ()) if x != m]
                        lower = [i for prio, i in lowest if prio < m[0]]
                        if lower:
                            not_before[m] = (r, max(lower))
                    earlier.setdefault(m[0], []).append(m)
                if code == C.MQ_RECV:
                    lowest.append((m[0], k))
            if at:
                self.take_begins.append((begins, at))
            self.take_at.append(at)
        #: per list, its takes (those of ``take_at``): ``_rank_takes``, ``_joint_setup``,
        #: ``_tight_scan``
        self._take_lists = [
            [lst[k] for k in at] for lst, at in zip(full, self.take_at, strict=True)
        ]
        self.fifo = one or oldest
        self.not_before = not_before
        # A put's deadline is also that of every put that must come after it (a message
        # taken before another was put before it): 0:12 before 30:15, due at take 53,
        # is due there too, though its own take comes later.
        # Only the search's puts are asked for theirs (``urgency``; ``before`` names only
        # them): working out every put's in the pool made a flood's Ctrl-C minutes long.
        # A message's own deadline is its copy's that ended first (``_own_due`` never
        # falls as the end grows): one call per message, not one per copy.
        first_end: dict[tuple[int, bytes], int] = {}
        if self._pool is not None:  # its copies in the pool, by begin: the first to end
            # began before it ended, so the scan stops at a begin past the best end so far
            pool_copies = self._pool[0]
            for m in searched:
                best = 1 << 62
                copies = pool_copies.get(m)
                if copies is None:
                    continue
                for o in copies.live():
                    if o.b >= best:
                        break
                    best = min(best, o.e)
                first_end[m] = best
        else:
            for lst in full:
                for o in lst:
                    if o.rec[0] in _PUT_CODES:  # type: ignore[index]
                        m = _msg(o)
                        if m in searched and o.e < first_end.get(m, 1 << 62):
                            first_end[m] = o.e
        self.due: dict[tuple[int, bytes], int] = {
            m: self._own_due(m, e) for m, e in first_end.items()
        }
        for m, earlier_puts in self.before.items():
            due = self.due.get(m)
            if due is None:
                continue
            for x in earlier_puts:
                if self.due.get(x, -1) > due:
                    self.due[x] = due

    def _too_soon(self, m: tuple[int, bytes]) -> bool:
        """In a FIFO, put now, message ``m`` would be taken by the next take after those of
        the messages in the queue now; but its taker takes more messages than that before
        it. Each take gets the oldest message, so every take between this put and ``m``'s
        take (the taker's own, and any other's) takes one of the messages ahead of ``m``:
        their number is at least the taker's takes in between. A unique message only (a
        copy may be the one taken). With many identical messages and a few unique ones
        (pages, and each job's "end of job"), the put of a unique one placed a few hundred
        slots early shows only at its take, past what the search looks at: it had been
        committed already (``order.conflict`` on a correct program, from then on)."""
        ahead = self.ahead.get(m)
        if ahead is None:
            return False
        r, rank = ahead
        return len(self.messages) < rank - bisect_left(self.take_at[r], self.pos[r])

    def explainable(self, lists: list[list[Op]], horizon: int) -> bool:
        have: dict[tuple[int, bytes], int] = {}
        for m in self.messages:
            key = (m[0], bytes(m[1]))
            have[key] = have.get(key, 0) + 1
        for lst in lists:
            for o in lst:
                if o.rec[0] in _PUT_CODES:  # type: ignore[index]
                    key = _msg(o)
                    have[key] = have.get(key, 0) + 1
        for lst in lists:
            for o in lst:
                if o.rec[0] in _TAKE_CODES and o.e <= horizon:  # type: ignore[index]
                    key = _msg(o)
                    if not have.get(key):
                        return False
                    have[key] -= 1
        return True

    def watch(
        self, lists: list[list[Op]], horizon: int, read_to: int, taking: dict[int, int]
    ) -> None:
        """``dead``'s view of the search: each list's takes (where, which message) and how
        many of them must be placed (ended by ``horizon``). Where every take gets the
        oldest message (a System V receive of type 0, every message of one key), the
        queue's messages leave in the order they stand, whoever takes them (``plan_for``:
        ``fifo``); elsewhere those of one key do (``_rank_keys``, ``_dead_key``)."""
        self._fifo = self.fifo
        self._joint = self._jback = None
        self._horizon, self._read_to = horizon, read_to
        # (``_overfull``: a take not in the lists began past the horizon or what was read,
        # or it is in progress: it comes after any moment before all of those)
        self._lists = lists
        self._room_by = min([horizon, read_to, *(b - 1 for b in taking.values())])
        self._dead_memo: dict[Any, bool] = {}
        if not self._fifo:
            # Messages of one key still leave in the order they came, whoever takes them
            # (``_by_key``): each key's takes share out that key's messages.
            keys = {o.rec[3] for lst in lists for o in lst if o.rec[0] in _TAKE_CODES}  # type: ignore[index]
            self._by_key = {p: _Sharing(lists, horizon, taking, p) for p in keys}
            self._rank_keys(lists, read_to, taking)
            return
        puts = sum(o.rec[0] in _PUT_CODES for lst in lists for o in lst)  # type: ignore[index]
        self._rank_takes(read_to, taking, len(self.messages) + puts + 1)
        self._joint_setup()
        self._sharing = _Sharing(lists, horizon, taking, None)

    def dead(self, op: Op) -> bool:
        """No order goes on from here: the queue's oldest messages cannot be shared out
        among the takes to come. Each take gets the oldest message, so the next takes, of
        whichever processes, take the messages in the order they stand: a message that
        none of the takers' next takes (in each one's program order) can be was put in the
        wrong place. With identical messages from many senders, a put placed one slot off
        shows only 20 takes later; a search that finds that out by going there backtracks
        through every order of the puts in between and runs out of its budget (forked
        children flooding one queue: ``order.conflict`` on a correct program).

        A necessary condition only, so it never cuts a branch that goes on: takes of
        operations not in the search (those that began after the horizon, of any process)
        come after every take that must be placed, so once those are matched (``_must``)
        the rest is left open."""
        if op.rec[0] in _TAKE_CODES and op.e > self._horizon and self._steals(op):  # type: ignore[index]
            return True
        if not self.messages:
            return False
        if op.rec[0] == C.MQ_SEND and self._overfull():  # type: ignore[index]
            return True
        if not self._fifo:
            return self._dead_key(op)
        if op.rec[0] in _PUT_CODES:  # type: ignore[index]
            if self._not_its_rank():
                return True
            ways = self._joint[-1] if self._joint is not None else None
            if ways is not None and not ways:
                return True  # no way to share the queue's messages out among the takes
            if len(self.messages) > DEAD_DEPTH:
                return False  # put past the part looked at: nothing looked at changed
        elif self._jback is not None and self._taken < len(self._jback):
            counts = tuple(bisect_left(self.take_at[r], self.pos[r]) for r in self._jlists)
            if counts not in self._jback[self._taken]:
                return True  # the rest of the queue cannot go to the takes left
        start = self._sharing.start(self.pos)
        memo_key = (start, self.key())
        known = self._dead_memo.get(memo_key)
        if known is None:
            known = self._dead_memo[memo_key] = not self._sharing.out(
                self.messages[:DEAD_DEPTH], start
            )
        return known

    def _overfull(self) -> bool:
        """POSIX, a queue of ``max_messages``: whether the sends that must be placed by
        some moment ``t`` overfill it, whatever the order. Every send that ended by ``t``
        comes before every operation that began after it (real time), so the receives
        placed before the last of them began by ``t``. A receive takes the oldest message
        of its priority: one stuck behind a message that no receive begun by ``t`` can
        take frees nothing, and the messages of that priority put after it stay too.

        Without it, a send was placed in front of another sender's concurrent one of the
        same priority, whose receive had to make room in time (5 senders, 5 receivers, 10
        slots): that showed only when the queue filled, 25 steps later, the search ran
        out of its budget going back through the orders in between, and its guess was
        committed (``[11 queued]`` in a 10-slot queue on a correct program). A necessary
        condition only: it never cuts a branch that goes on."""
        cap = self.max_messages
        if not cap or not self.by_priority:
            return False
        bound, pos = self._room_by, self.pos
        puts: list[tuple[int, tuple[int, bytes]]] = []  # (end, message) of those to place
        for i, lst in enumerate(self._lists):
            for k in range(pos[i], len(lst)):
                o = lst[k]
                if o.b > bound:
                    break
                if o.rec[0] == C.MQ_SEND and o.e <= bound:  # type: ignore[index]
                    puts.append((o.e, _msg(o)))
        if len(puts) + len(self.messages) <= cap:
            return False
        puts.sort(key=itemgetter(0))
        # A message taken before a unique one of its priority by the same process was put
        # before it (``before``): due then too, if it is not put yet.
        due: Counter[int] = Counter()
        early: set[tuple[int, bytes]] = set()  # counted as due before one it came before
        own: set[tuple[int, bytes]] = set()  # counted as due by its own end
        total = checked = 0
        for n, (t, m) in enumerate(puts):
            for x in self.before.get(m, ()):  # (unique messages: ``before`` names no other)
                if x not in early and x not in own and x not in self.put:
                    early.add(x)
                    due[x[0]] += 1
                    total += 1
            if m in early and m not in own:
                own.add(m)  # its put is counted already
            else:
                own.add(m)
                due[m[0]] += 1
                total += 1
            if n + 1 < len(puts) and puts[n + 1][0] == t:
                continue
            if len(self.messages) + total <= cap:
                continue
            if self._left(t, due) > cap:
                return True
            checked += 1
            if checked >= ROOM_CHECKS:
                break
        return False

    def _left(self, t: int, due: Counter[int]) -> int:
        """At least how many messages the queue holds once the sends ``due`` by ``t`` are
        placed: of each priority, those queued and due less what the receives that began
        by ``t`` can take (each process's in its program order): the messages queued in
        order while one can take the next, then any."""
        takes: dict[int, list[list[tuple[int, bytes, int, bool]]]] = {}
        for i, lst in enumerate(self._lists):
            mine: dict[int, list[tuple[int, bytes, int, bool]]] = {}
            for k in range(self.pos[i], len(lst)):
                o = lst[k]
                if o.b > t:
                    break
                if o.rec[0] == C.MQ_RECV:  # type: ignore[index]
                    mine.setdefault(o.rec[3], []).append(_taken(o))  # type: ignore[index]
            for key, got in mine.items():
                takes.setdefault(key, []).append(got)
        queued: Counter[int] = Counter(m[0] for m in self.messages)
        left = 0
        for key in queued.keys() | due.keys():
            lanes = takes.get(key, [])
            ways = {(0,) * len(lanes)}
            taken = 0
            for m in self.messages:
                if m[0] != key:
                    continue
                ways = {
                    (*way[:r], v + 1, *way[r + 1 :])
                    for way in ways
                    for r, v in enumerate(way)
                    if v < len(lanes[r]) and takes_message(m, *lanes[r][v])
                }
                if not ways or len(ways) > DEAD_WAYS:
                    break
                taken += 1
            if ways and (taken == queued[key] or len(ways) > DEAD_WAYS):
                taken = sum(map(len, lanes))  # past those queued (or too many ways to say)
            left += max(0, queued[key] + due[key] - taken)
        return left

    def _dead_key(self, op: Op) -> bool:
        """``dead`` where messages of several keys are queued or taken: every take gets
        the oldest message of its own key (POSIX: of the highest priority; System V: of
        the type asked for, or the lowest one under a negative type, or the oldest of
        all), so the messages of the key ``op`` put or took must still be shared out
        among the takes of that key to come, in order.

        Without it, with three priorities (a forked flood: children sending "c0", "c1",
        "c2" at priorities 0 to 2, another process "z" at 1), a put was placed in front
        of a message a take needed first, and it showed only takes later, past what the
        search looks at (``order.conflict`` on a correct program, 37 of them)."""
        if op.rec[0] not in _PUT_CODES and op.rec[0] not in _TAKE_CODES:  # type: ignore[index]
            return False
        key = op.rec[3]  # type: ignore[index]
        if op.rec[0] in _PUT_CODES and self._not_its_key_rank(key):  # type: ignore[index]
            return True
        sharing = self._by_key.get(key)
        if sharing is None:
            return False  # no take of this key to come in the search: none is owed
        start = sharing.start(self.pos)
        memo_key = (key, start, self.key())
        known = self._dead_memo.get(memo_key)
        if known is None:
            mine = [m for m in self.messages if m[0] == key]
            if op.rec[0] in _PUT_CODES and len(mine) > DEAD_DEPTH:  # type: ignore[index]
                known = False  # put past the part looked at: nothing looked at changed
            else:
                known = not sharing.out(mine[:DEAD_DEPTH], start)
            self._dead_memo[memo_key] = known
        return known

    def _rank_takes(self, read_to: int, taking: dict[int, int], top: int) -> None:
        """Which takes may get the message in each place of the queue (``_by_rank``).

        Each take gets the oldest message, so the message in place R (1: the oldest now,
        counting every message put from here) is the one the R-th take from here gets.
        A take's rank lies between 1 + the takes that ended before it began and the takes
        that began before it ended (real time orders the rest). Ranks below ``_known`` are
        all taken by takes in the pool: a take not in it began after ``read_to`` (or began,
        in progress, at a time in ``taking``) and comes after every take that ended before.
        With many senders of a few look-alike messages and two takers, a put placed in the
        wrong order showed only at its take, 700 places later, past what the search looks
        at (``order.conflict`` on a correct program, in half the runs)."""
        # A put of this search gets place (the queue now) + (its puts so far): only the
        # places from the queue's end to ``top`` are asked, so only they are worked out
        # (every one up to RANKS took most of a forked flood's Ctrl-C).
        self._taken = 0
        self._known, self._by_rank = _ranks(
            self._take_lists, len(self.messages) + 1, top, min([read_to, *taking.values()])
        )
        self._rank_base = len(self.messages) + 1

    def _rank_keys(self, lists: list[list[Op]], read_to: int, taking: dict[int, int]) -> None:
        """``_rank_takes`` per key, where messages of several keys are queued or taken:
        messages of one key leave in the order they came (every take gets the oldest of
        its own key), so the message in place R among those of key K is the one the R-th
        take of key K from here gets (``_key_ranks``: key → its known places, the first
        of them, and which takes may get each one; ``_not_its_key_rank``).

        A list cut at ``take_cap`` takes may hold a take of key K right after them: one
        that began after its last take listed ended, so the places are known only up to
        the takes that ended before then."""
        self._key_taken: Counter[int] = Counter()
        self._key_count: Counter[int] = Counter(m[0] for m in self.messages)
        self._key_ranks: dict[int, tuple[int, int, list[list[Any]]]] = {}
        puts = Counter(o.rec[3] for lst in lists for o in lst if o.rec[0] in _PUT_CODES)  # type: ignore[index]
        if not puts:
            return
        edge = min([read_to, *taking.values()])
        pool = self.lane_pool
        for r, at in enumerate(self.take_at):
            if at and pool is not None and pool[r] is not None and len(pool[r]) > len(at):  # type: ignore[arg-type]
                edge = min(edge, self._take_lists[r][-1].e)
        for key, n in puts.items():
            base = self._key_count[key] + 1
            # (a list's takes of this key past the first ``base + n`` get no place asked)
            mine = [
                list(islice((o for o in lst if o.rec[3] == key), base + n))  # type: ignore[index]
                for lst in self._take_lists
                if lst
            ]
            known, by_rank = _ranks(mine, base, base + n, edge)
            self._key_ranks[key] = (known, base, by_rank)

    def _not_its_rank(self) -> bool:
        """The message just put is in a place no take that may get it there took it:
        this put is in the wrong place, however far off that take is (a page put in the
        slot of the one "end of job" the printer takes 150 takes later)."""
        rank = self._taken + len(self.messages)
        if rank >= self._known:
            return False  # a take not known yet may get it
        m = self.messages[-1]
        return not any(takes_message(m, *got) for got in self._by_rank[rank - self._rank_base])

    def _not_its_key_rank(self, key: int) -> bool:
        """``_not_its_rank`` among the messages of ``key`` (``_rank_keys``)."""
        ranks = self._key_ranks.get(key)
        if ranks is None:
            return False
        known, base, by_rank = ranks
        rank = self._key_taken[key] + self._key_count[key]
        if rank >= known:
            return False  # a take not known yet may get it
        m = self.messages[-1]
        return not any(takes_message(m, *got) for got in by_rank[rank - base])

    def _steals(self, take: Op) -> bool:
        """``take``, optional (it ended past the horizon), got a message that a take which
        ends sooner needs: by that take's end, every copy put or queued is needed by the
        takes that end by then (``_tight``), and this one is not among them.

        A receive stamped 59 ms long (its process preempted) was placed as soon as a "y"
        stood first: the search tries takes first, and nothing it saw needed that "y".
        Another receiver's, 33 ms on, did: exactly as many "y" were put by then as taken
        by then (a forked flood: thousands of ``order.conflict`` on a correct program).
        The take that needs it may lie past every list the search reads: a receive
        stopped 700 ms long with the run got a "y" that the parent's take 800 takes on
        needed; read up to ``take_cap`` takes only, nothing needed it, the receive went
        first, and everything after that parent's take was a conflict (10,322 of them).
        So the pool's takes are read by end for as long as this take asks."""
        if self._pool is None or take.rec[0] in _CUT_TAKES:  # type: ignore[index]
            return False  # (cut: what it got may be a longer message than its bytes)
        pos = self.pos  # (one not placed yet: its copy is gone)
        return any(pos[r] <= k for _, r, k in self._tight_before(_msg(take), take.e))

    def never(self, op: Op) -> bool:
        """``op``, a take past the horizon, needs a copy that a take past the lists needs
        (``_steals`` says yes wherever it is placed: that take is never placed)."""
        if (
            self._pool is None
            or op.rec[0] not in _TAKE_CODES  # type: ignore[index]
            or op.rec[0] in _CUT_TAKES  # type: ignore[index]
        ):
            return False
        return any(k == _FAR for _, _, k in self._tight_before(_msg(op), op.e))

    def _tight_before(self, m: tuple[int, bytes], end: int) -> Iterator[tuple[int, int, int]]:
        """``_tight_scan``'s takes of ``m`` that end before ``end``, read (once a search)
        only as far as asked."""
        tight = self._tight.get(m)
        if tight is None:
            tight = self._tight[m] = ([], self._tight_scan(m))
        found, more = tight
        i = 0
        while True:
            if i == len(found):
                nxt = next(more, None)
                if nxt is None:
                    return
                found.append(nxt)
            if found[i][0] >= end:
                return
            yield found[i]
            i += 1

    def _tight_scan(self, m: tuple[int, bytes]) -> Iterator[tuple[int, int, int]]:
        """The pool's takes of ``m`` by which every copy of it queued or put is taken,
        as (end, list, index), by end: each needs all those copies (a count). A send that
        began by then may be a copy: one in progress (its message not known yet), or one
        not read yet (a take that ended past ``read_to``) makes no take tight.

        Every take of the pool is read (``lane_pool``), not only the lists' first
        ``take_cap``: a take left out counts no copy, and the tight one may lie past
        them. Lazily (the caller stops at the first one it needs), at most ``TIGHT_SCAN``
        takes. A take past a list's ``take_at`` has index ``1 << 62``: never placed."""
        if self.lane_pool is None:  # (no pool to read: the lists' takes alone)
            lanes: list[Iterable[Op]] = self._take_lists
        else:
            lanes = [t if t is not None else () for t in self.lane_pool]
        far = _FAR

        def lane(r: int, ops: Iterable[Op]) -> Iterator[tuple[int, int, int]]:
            at, last = self.take_at[r], 0
            for n, o in enumerate(ops):
                if o.e < last:
                    return  # (ends out of program order: the rest counts no copy)
                last = o.e
                if _msg(o) == m and o.rec[0] not in _CUT_TAKES:  # type: ignore[index]
                    yield o.e, r, at[n] if n < len(at) else far

        copies = self._pool[0].get(m) if self._pool is not None else None  # type: ignore[union-attr]
        have = self._have.get(m, 0)
        unknown = min([self._read_to, *self.putting[:1]])
        merged = heapq.merge(*[lane(r, ops) for r, ops in enumerate(lanes)])
        for j, (e, r, k) in enumerate(islice(merged, TIGHT_SCAN), 1):
            if e >= unknown:
                return
            if have + (copies.began_before(e + 1) if copies is not None else 0) <= j:
                yield e, r, k

    def _joint_setup(self) -> None:
        """The ways the queue's messages, oldest first, can go to the pool's takes: a way
        is how many of each taker's takes have a message. Every place below ``_known``
        goes to a take in the pool, so the ways are followed up to there (at most
        ``JOINT_DEPTH``, ``JOINT_WAYS`` at once).

        ``_not_its_rank`` checks each place on its own; which taker gets which of two
        places is a joint constraint. Four senders of look-alike messages ("x", "xy", …)
        and two takers made a queue 400 to 3,000 deep, and the correct program got one to
        thousands of ``order.conflict``: two places that each one of the two takers could
        get, but not both, were filled 400 places before the takes; or one taker's takes
        were placed one after another while the other's, stamped long (it was preempted),
        needed a message among them. Two checks, each a necessary condition:

        - ``_jback[c]``: the ways at place c that go on to the end of the queue as it is
          now. After the search's c-th take, its takers' counts must be one of them.
        - ``_joint``: a stack, the ways after each put the search placed, followed from
          the ways at the end of the queue (whichever takes the search placed: a superset
          of the ways, so it never cuts a branch that goes on)."""
        self._jback = None
        lists = self._take_lists
        self._jlists = [r for r, lst in enumerate(lists) if lst]  # the takers' full lists
        if len(self._jlists) < 2:
            return  # one taker: ``_not_its_rank`` says it all
        takers = [lists[r] for r in self._jlists]
        self._jl = takers
        self._jlimit = min(self._known - 1, JOINT_DEPTH)
        self._jgot: dict[tuple[int, int], tuple[int, bytes, int, bool]] = {}  # (as needed)
        self._jends = [[o.e for o in lst] for lst in takers]
        self._jafter: dict[tuple[int, int], tuple[int, ...]] = {}
        ways: set[tuple[int, ...]] | None = {(0,) * len(takers)}
        steps: list[dict[tuple[int, ...], list[tuple[int, ...]]]] = []  # per place: way → next
        for m in self.messages[: self._jlimit]:
            step = {w: self._joint_next(w, m, -1) for w in ways}  # type: ignore[union-attr]
            ways = set().union(*step.values())
            if not ways:
                return  # none: a conflict already published
            steps.append(step)
            if len(ways) > JOINT_WAYS:
                ways = None
                break  # too many ways: checked up to here
        if ways is not None and len(self.messages) < self._jlimit:
            self._joint = [ways]
        back = [ways if ways is not None else set(steps[-1])]  # (the last place followed)
        for step in reversed(steps[: len(steps) - (ways is None)]):
            ahead = back[-1]
            back.append({w for w, nxt in step.items() if any(x in ahead for x in nxt)})
        back.reverse()
        self._jback = back

    def _joint_step(
        self, ways: Iterable[tuple[int, ...]], m: list[Any], put_b: int
    ) -> set[tuple[int, ...]] | None:
        """The ways after message ``m`` (put at ``put_b``) goes to one of the next takes.
        None: more than ``JOINT_WAYS``."""
        nxt: set[tuple[int, ...]] = set()
        for way in ways:
            nxt.update(self._joint_next(way, m, put_b))
        return nxt if len(nxt) <= JOINT_WAYS else None

    def _joint_next(self, way: tuple[int, ...], m: list[Any], put_b: int) -> list[tuple[int, ...]]:
        """The ways after ``way`` when ``m`` goes to a taker's next take: a take of its
        bytes, ending after the put began, after every take that ended before it began."""
        got, after, out = self._jgot, self._jafter, []
        for i, v in enumerate(way):
            if v >= len(self._jl[i]):
                continue
            take = self._jl[i][v]
            its = got.get((i, v))
            if its is None:
                its = got[i, v] = _taken(take)
            if not takes_message(m, *its):
                continue
            if take.e < put_b:
                continue
            need = after.get((i, v))
            if need is None:
                need = after[i, v] = tuple(bisect_left(e, take.b) for e in self._jends)
            if all(map(int.__ge__, way, need)):
                out.append((*way[:i], v + 1, *way[i + 1 :]))
        return out

    def _joint_put(self, op: Op) -> None:
        """After a put: its message's ways pushed (``_joint``; an empty set: there is none,
        ``dead`` says so)."""
        joint = self._joint
        ways = joint[-1]  # type: ignore[index]
        if ways is not None and self._taken + len(self.messages) <= self._jlimit:
            ways = self._joint_step(ways, self.messages[-1], op.b)
        else:
            ways = None  # past what is followed: any way
        joint.append(ways)  # type: ignore[union-attr]

    def urgency(self, op: Op) -> int:
        """A put's deadline (``due``): trying puts by their take alone filled a full queue
        with messages taken soon and left no room for one that real time, or a message
        taken before it, needed in first (32 senders blocked on one queue)."""
        rec = op.rec
        if rec is None or rec[0] not in (C.MQ_SEND, C.MSGQ_SEND):
            return 0
        m = (rec[3], bytes(rec[5]))
        due = self.due.get(m)
        return self._own_due(m, op.e) if due is None else due

    def _own_due(self, m: tuple[int, bytes], end: int) -> int:
        """A put's own deadline, as an index into the takes' lists: its take, or the first
        take that began after it ended, whichever is sooner."""
        due = self.taken_at.get(m, 1 << 30)
        for begins, index in self.take_begins:
            i = bisect_right(begins, end)
            if i < len(index) and index[i] < due:
                due = index[i]
        return due

    def _select(self, op: Op) -> int | None:
        code, key = op.rec[0], op.rec[3]  # type: ignore[index]
        probe: dict[str, Any] = {"prio": key} if code == C.MQ_RECV else {"want": op.want or 0}
        if code in _EXCEPT_TAKES:
            probe["except"] = 1
        return select_message(self, probe)  # type: ignore[arg-type]

    def front(self, op: Op) -> list[Any]:
        """The message the kernel would give take ``op`` now (one is queued)."""
        i = self._select(op)
        assert i is not None
        return self.messages[i]

    def blocked(self, op: Op) -> bool:
        code, key = op.rec[0], op.rec[3]  # type: ignore[index]
        if code not in _TAKE_CODES:
            return False
        i = self._select(op)
        if i is None:
            return False
        m = self.messages[i]
        if takes_message(m, *_taken(op)):
            return False
        # A put can still bring a message the kernel would select before ``m``: one of a
        # higher priority (POSIX), or of a lower type under a negative ``want`` (System V).
        if code == C.MQ_RECV:
            return m[0] >= key
        want = op.want or 0
        return want >= 0 or m[0] <= key

    def apply(self, op: Op) -> Undo | None:
        code, _, _, key, size, data = op.rec  # type: ignore[misc]
        data = bytes(data)
        msgs = self.messages
        if code == C.MSGQ_LIMIT:  # msgctl(IPC_SET): the sends from now on are held to it
            was_max = self.max_bytes
            self.max_bytes = key

            def unlimit() -> None:
                self.max_bytes = was_max

            return unlimit
        if code == C.MSGQ_COPY:  # the message at index ``want`` is this one; it stays
            i = op.want or 0
            return (
                _nothing if 0 <= i < len(msgs) and takes_message(msgs[i], key, data, size) else None
            )
        if code == C.MSGQ_AGAIN_SEND:  # refused: the message (``size``) did not fit then
            return None if fits(self.max_bytes, self.nbytes, len(msgs), size) else _nothing
        if code == C.MQ_AGAIN:  # refused: a send only when full, a receive only when
            if key:  # nothing it could take is queued
                # (a System V queue's limit is in bytes, and a worker's refused send's
                # size is not recorded: full for it at any moment, as ``_legal_again``
                # says too; a traced program's is ``MSGQ_AGAIN_SEND``)
                full = not self.max_messages or len(msgs) >= self.max_messages
                return _nothing if full else None
            probe = {"prio": 0} if self.by_priority else {"want": size}
            return None if select_message(self, probe) is not None else _nothing  # type: ignore[arg-type]
        if code in (C.MQ_SEND, C.MSGQ_SEND):
            if code == C.MQ_SEND and self.max_messages and len(msgs) >= self.max_messages:
                return None
            if code == C.MSGQ_SEND and not fits(self.max_bytes, self.nbytes, len(msgs), size):
                return None
            m = (key, data)
            if any(x not in self.put for x in self.before.get(m, ())):
                return None  # a message taken before this one was not put yet
            after = self.not_before.get(m)
            if after is not None and self.pos[after[0]] <= after[1]:
                return None  # a take of a lower priority has to happen first
            if self.fifo and self._too_soon(m):
                return None
            was = self._h, self._top
            msgs.append([key, data, size])
            self.nbytes += size
            self._h = (self._h + _message_hash(key, data, size) * self._top) % _MOD
            self._top = self._top * _BASE % _MOD
            fresh = m not in self.put
            self.put.add(m)
            counts = None if self._fifo else self._key_count
            if counts is not None:
                counts[key] += 1
            joint = self._joint if self.fifo else None
            if joint is not None:
                self._joint_put(op)

            def unsend() -> None:
                if joint is not None:
                    joint.pop()
                if counts is not None:
                    counts[key] -= 1
                msgs.pop()
                self.nbytes -= size
                self._h, self._top = was
                if fresh:
                    self.put.discard(m)

            return unsend
        i = self._select(op)
        if i is None or not takes_message(msgs[i], *_taken(op)):
            return None
        was = self._h, self._top
        taken = msgs.pop(i)
        self.nbytes -= taken[2]
        self._taken += 1
        if not self._fifo:
            self._key_count[taken[0]] -= 1
            self._key_taken[taken[0]] += 1
        if i == 0:  # the oldest (a FIFO's every take): the others move one place down
            self._h = (self._h - _message_hash(*taken)) * _INV_BASE % _MOD
            self._top = self._top * _INV_BASE % _MOD
        else:
            self._rehash()

        def unreceive() -> None:
            msgs.insert(i, taken)
            self.nbytes += taken[2]
            self._taken -= 1
            if not self._fifo:
                self._key_count[taken[0]] += 1
                self._key_taken[taken[0]] -= 1
            self._h, self._top = was

        return unreceive
