"""The engine's ordering, fed records the way the rings deliver them: stamps out of order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ipcviz.engine import linearize
from ipcviz.engine.linearize import Linearizer
from ipcviz.model.legal import violation
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.tracer import codes as C

MS = 1_000_000


class Harness:
    """A linearizer over a real model; records what it publishes, checking each event."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.model = State()
        self.out: list[dict[str, Any]] = []
        self.names = [o["obj"] for o in objects]
        for o in objects:
            apply(self.model, {"t": 0, "seq": -1, "pid": 0, "kind": "obj.declare", **o})
        self.lin = Linearizer(self.model, 0, self.names, self._record, self._event)

    def start(self, *pids: int) -> None:
        for pid in pids:
            apply(
                self.model, {"t": 0, "seq": -1, "pid": pid, "kind": "proc.start", "name": f"p{pid}"}
            )
            self.lin.started(pid, 0)

    def _record(self, rec, pid, since, want):
        spec = C.TABLE[rec[0]]
        e: dict[str, Any] = {
            "t": rec[2],
            "seq": len(self.out),
            "pid": pid,
            "kind": spec.kind,
            "obj": self.names[rec[1]],
            "_raw": bytes(rec[5]),
        }
        if spec.a:
            e[spec.a] = rec[3]
        if spec.b:
            e[spec.b] = rec[4]
        e.update(spec.fixed)
        if want is not None:
            e["want"] = want
        return self._event(e)

    def _event(self, e):
        assert violation(self.model, e) is None, (e, violation(self.model, e))
        apply(self.model, e)
        self.out.append(e)
        return e

    def kinds(self) -> list[tuple[int, str]]:
        return [(e["pid"], e["kind"]) for e in self.out if not e["kind"].endswith(".begin")]


def rec(code: int, t_ms: float, a: int = 0, b: int = 0, data: bytes = b"", obj: int = 0):
    return (code, obj, int(t_ms * MS), a, b, data)


def test_a_read_stamped_before_its_write_comes_after_it():
    h = Harness([{"obj": "p", "type": "pipe", "capacity": 65536}])
    h.start(1, 2)
    # The reader returned (3 ms) before the writer did (4 ms): stamps would put it first.
    h.lin.add_records(2, [rec(C.PIPE_READ_BEGIN, 1, 10), rec(C.PIPE_READ, 3, 5, 0, b"hello")])
    h.lin.add_records(1, [rec(C.PIPE_WRITE_BEGIN, 2, 5), rec(C.PIPE_WRITE, 4, 5, 5, b"hello")])
    h.lin.emit_ready(100 * MS)
    assert h.kinds() == [(1, "pipe.write"), (2, "pipe.read")]
    assert h.lin.conflicts == 0


def test_a_woken_wait_stamped_before_the_post_comes_after_it():
    h = Harness([{"obj": "s", "type": "posix_sem", "value": 0}])
    h.start(1, 2)
    h.lin.add_records(1, [rec(C.SEM_WAIT_BEGIN, 1), rec(C.SEM_WAIT, 5)])
    h.lin.add_records(2, [rec(C.SEM_POST, 6)])  # recorded on return, after the waiter woke
    h.lin.emit_ready(100 * MS)
    assert h.kinds() == [(2, "sem.post"), (1, "sem.wait")]


def test_nothing_is_published_before_every_ring_has_caught_up():
    h = Harness([{"obj": "s", "type": "posix_sem", "value": 1}])
    h.start(1)
    h.lin.add_records(1, [rec(C.SEM_POST, 50)])
    assert h.lin.emit_ready(40 * MS) == 0  # the post ended after the cutoff: not yet
    assert h.lin.emit_ready(60 * MS) == 1


def test_messages_of_one_priority_are_put_in_the_order_they_were_taken():
    h = Harness([{"obj": "q", "type": "posix_mq", "max_messages": 10}])
    h.start(1, 2, 3)
    # Two concurrent sends; "b" ended first by the stamps, but the receiver got "a" first.
    h.lin.add_records(1, [rec(C.MQ_SEND_BEGIN, 1), rec(C.MQ_SEND, 5, 0, 1, b"a")])
    h.lin.add_records(2, [rec(C.MQ_SEND_BEGIN, 1), rec(C.MQ_SEND, 4, 0, 1, b"b")])
    h.lin.add_records(
        3,
        [
            rec(C.MQ_RECV_BEGIN, 6),
            rec(C.MQ_RECV, 7, 0, 1, b"a"),
            rec(C.MQ_RECV_BEGIN, 8),
            rec(C.MQ_RECV, 9, 0, 1, b"b"),
        ],
    )
    h.lin.emit_ready(100 * MS)
    sends = [e["_raw"] for e in h.out if e["kind"] == "mq.send"]
    assert sends == [b"a", b"b"]
    assert h.lin.conflicts == 0


def test_a_higher_priority_send_that_overlaps_a_receive_goes_after_it():
    h = Harness([{"obj": "q", "type": "posix_mq", "max_messages": 10}])
    h.start(1, 2, 3)
    h.lin.add_records(1, [rec(C.MQ_SEND, 1, 0, 3, b"low")])
    # A priority-5 send ended (4 ms) before the receive of "low" ended (6 ms): by the
    # stamps it goes first, and the receive would have got it. It overlapped: it went after.
    h.lin.add_records(2, [rec(C.MQ_SEND_BEGIN, 2), rec(C.MQ_SEND, 4, 5, 4, b"high")])
    h.lin.add_records(
        3,
        [
            rec(C.MQ_RECV_BEGIN, 3),
            rec(C.MQ_RECV, 6, 0, 3, b"low"),
            rec(C.MQ_RECV_BEGIN, 7),
            rec(C.MQ_RECV, 8, 5, 4, b"high"),
        ],
    )
    h.lin.emit_ready(100 * MS)
    assert [e["_raw"] for e in h.out if e["kind"] in ("mq.send", "mq.recv")] == [
        b"low",
        b"low",
        b"high",
        b"high",
    ]


def test_concurrent_read_modify_writes_are_ordered_so_every_read_is_explained():
    h = Harness([{"obj": "c", "type": "posix_shm", "size": 8, "cells": 1}])
    h.start(1, 2)
    v = lambda n: n.to_bytes(8, "little")  # noqa: E731
    # 1 reads 0 and writes 1; 2 reads 1 (so 1's write came first) and writes 2. By end
    # stamps 2's read (2.0 ms) would come before 1's write (2.5 ms).
    h.lin.add_records(1, [rec(C.SHM_READ, 1, 0, 0, v(0)), rec(C.SHM_WRITE, 2.5, 0, 1, v(1))])
    h.lin.add_records(2, [rec(C.SHM_READ, 2, 0, 1, v(1)), rec(C.SHM_WRITE, 3, 0, 2, v(2))])
    h.lin.emit_ready(100 * MS)
    assert [(e["pid"], e["kind"]) for e in h.out] == [
        (1, "shm.read"),
        (1, "shm.write"),
        (2, "shm.read"),
        (2, "shm.write"),
    ]


def test_an_unexplainable_operation_is_said_not_hidden():
    h = Harness([{"obj": "s", "type": "posix_sem", "value": 0}])
    h.start(1)
    h.lin.add_records(1, [rec(C.SEM_WAIT_BEGIN, 1), rec(C.SEM_WAIT, 2)])  # nobody posted
    h.model.objects["s"].value = 0
    h.out.clear()
    h.lin._publish_record = lambda *a: h.out.append({"kind": "sem.wait"})  # type: ignore
    h.lin.flush()
    assert [e["kind"] for e in h.out] == ["order.conflict", "sem.wait"]
    assert h.lin.conflicts == 1


def test_a_plan_commits_no_optional_operation_before_it_must():
    """A found order is committed up to its first operation that ended after the horizon
    (optional: the search cannot see what began after the horizon, which may need to come
    between two of them); a plan that starts with one commits that one alone."""
    from ipcviz.engine.linearize import Op, _committed

    def op(b: int, e: int) -> Op:
        return Op(1, b, e, (C.MQ_SEND, 0, e, 0, 0, b""))

    lists = [[op(0, 3), op(5, 30)], [op(1, 4), op(6, 8)], [op(2, 25)]]
    # list 0: required then optional; list 1: both required; list 2: optional
    assert _committed(lists, [0, 1, 1, 0, 2], horizon=10) == 3  # stops before list 0's 2nd
    assert _committed(lists, [2, 0, 1], horizon=10) == 1  # an optional first: that one alone
    assert _committed(lists, [0, 1, 1], horizon=10) == 3  # all required: all of it


def test_a_write_that_would_spoil_a_read_waits_for_the_write_that_explains_it():
    """tests/truth/threads4 under load: a thread wrote "A"s, then waited for the GIL before
    it stamped its record, so its write ends later than another thread's "D"s, which the
    reader did not get. Placing the "D"s first (the earliest end) made the read impossible
    (``order.conflict``); the "D"s now wait until the "A"s, already in the pool, may go."""
    h = Harness([{"obj": "p", "type": "pipe", "capacity": 65536}])
    h.start(1, 2, 3)
    h.lin.add_records(2, [rec(C.PIPE_READ_BEGIN, 0.5, 100), rec(C.PIPE_READ, 4, 2, 0, b"AA")])
    h.lin.add_records(3, [rec(C.PIPE_WRITE_BEGIN, 2, 2), rec(C.PIPE_WRITE, 3, 2, 2, b"DD")])
    h.lin.add_records(1, [rec(C.PIPE_WRITE_BEGIN, 1, 2), rec(C.PIPE_WRITE, 10, 2, 2, b"AA")])
    assert h.lin.emit_ready(5 * MS) == 0  # the "D"s would spoil the read: not yet
    h.lin.emit_ready(20 * MS)
    assert h.kinds() == [(1, "pipe.write"), (2, "pipe.read"), (3, "pipe.write")]
    assert h.lin.conflicts == 0


def test_a_record_stamped_before_what_was_published_is_said_late():
    """The drain promised every ring was read up to the cutoff; a record that arrives
    stamped before an operation already published breaks that promise. It cannot be put
    back in its place: the engine says so (order.late, with the gap), never silently."""
    h = Harness([{"obj": "s", "type": "posix_sem", "value": 5}])
    h.start(1, 2)
    h.lin.add_records(1, [rec(C.SEM_POST, 10)])
    assert h.lin.emit_ready(20 * MS) == 1
    h.lin.add_records(2, [rec(C.SEM_POST, 12)])  # in time: stamped after the post
    h.lin.add_records(2, [rec(C.SEM_POST, 30)])
    assert h.lin.late == 0
    h.lin.emit_ready(40 * MS)
    h.lin.add_records(1, [rec(C.SEM_POST, 25)])  # stamped before the post at 30, published
    late = [e for e in h.out if e["kind"] == "order.late"]
    assert h.lin.late == 1 and len(late) == 1
    assert late[0]["pid"] == 1 and late[0]["late_ns"] == 5 * MS


def test_the_same_message_sent_twice_is_not_mistaken_for_one():
    """The speed scenario's report: the same bytes sent in both rounds. The first copy is
    in the queue already; the receiver takes it, then another message, then the second
    copy. "Taken before, so put before" holds for distinct messages only: applied to the
    copy in the queue, it demanded the second copy be sent before the other message,
    which its sender sent first, and the search found no order (order.conflict, seen in
    2 of 75 runs of speed)."""
    q = {"obj": "q", "type": "sysv_mq", "max_bytes": 16384, "max_message_size": 8192}
    h = Harness([q])
    h.start(1, 2)
    report, first = b'{"calls": 512}', b"first" * 10
    h.lin.add_records(1, [rec(C.MSGQ_SEND, 1, 1, len(report), report)])
    h.lin.add_records(2, [rec(C.MSGQ_RECV_BEGIN, 0.5)])
    h.lin.emit_ready(2 * MS)
    assert h.kinds() == [(1, "mq.send")]  # the first copy is in the queue
    h.lin.add_records(2, [rec(C.MSGQ_RECV, 3, 1, len(report), report)])
    h.lin.add_records(1, [rec(C.MSGQ_SEND, 10, 1, len(first), first)])
    h.lin.add_records(2, [rec(C.MSGQ_RECV, 11, 1, len(first), first)])
    h.lin.add_records(1, [rec(C.MSGQ_SEND, 20, 1, len(report), report)])
    h.lin.add_records(2, [rec(C.MSGQ_RECV, 21, 1, len(report), report)])
    h.lin.emit_ready(2000 * MS)
    assert h.lin.conflicts == 0
    assert h.kinds() == [(1, "mq.send"), (2, "mq.recv")] * 3


def _pool(seed: int) -> tuple[list[dict[str, Any]], dict[int, list[tuple]]]:
    """A pool of semaphore and shared-memory operations of three processes: on a global
    timeline (each operation after a spacer on another object, so that none overlaps
    another process's: the order is forced), or with random overlaps."""
    import random

    rng = random.Random(seed)
    objects = [
        {"obj": "s", "type": "posix_sem", "value": rng.choice([0, 1, 2])},
        {"obj": "c", "type": "posix_shm", "size": 8, "cells": 1},
        {"obj": "spacer", "type": "posix_sem", "value": 0},
    ]
    forced = rng.random() < 0.6
    recs: dict[int, list[tuple]] = {1: [], 2: [], 3: []}
    t = 1.0
    for _ in range(rng.randint(2, 14)):
        pid = rng.choice([1, 2, 3])
        if forced:
            recs[pid].append(rec(C.SEM_POST, t, obj=2))  # bounds the next one's begin
            t += 0.01
        else:
            t = rng.uniform(1.0, 20.0)
        kind = rng.choice(["wait", "post", "read", "write"])
        if kind == "wait":
            recs[pid].append(rec(C.SEM_WAIT, t))
        elif kind == "post":
            recs[pid].append(rec(C.SEM_POST, t))
        else:
            code = C.SHM_READ if kind == "read" else C.SHM_WRITE
            data = rng.choice([0, 1]).to_bytes(8, "little")
            recs[pid].append(rec(code, t, 0, 8, data, obj=1))
        t += 0.5
    for pid in recs:  # a process's stamps grow
        recs[pid].sort(key=lambda r: r[2])
    return objects, recs


def _published(
    objects, recs, forced: bool, monkeypatch, follows: list[int], pids=(1, 2, 3)
) -> list[tuple]:
    from ipcviz.engine import linearize

    with monkeypatch.context() as m:
        if not forced:
            m.setattr(linearize, "_forced", lambda lists: None)
        follow = linearize._follow

        def counted(*args):
            follows.append(1)
            return follow(*args)

        m.setattr(linearize, "_follow", counted)
        h = Harness(objects)
        h.start(*pids)
        h.lin._publish_record = lambda r, pid, since, want: h.out.append((pid, r)) or {}
        h.lin._publish_event = lambda e: h.out.append(("event", e["kind"])) or e
        for pid, batch in recs.items():
            if batch:
                h.lin.add_records(pid, batch)
        h.lin.flush()
        return h.out


def test_an_order_real_time_forces_is_the_one_the_search_would_find(monkeypatch):
    """``_forced``: where no two processes' operations on an object overlap, the search is
    skipped; it must publish exactly what the search publishes, conflicts included."""
    follows: list[int] = []
    conflicts = 0
    for seed in range(300):
        objects, recs = _pool(seed)
        fast = _published(objects, recs, True, monkeypatch, follows)
        slow = _published(objects, recs, False, monkeypatch, [])
        assert fast == slow, seed
        conflicts += ("event", "order.conflict") in fast
    assert len(follows) > 100  # the fast path was taken, not only the search
    assert conflicts > 10  # and pools with no legal order were among them


def _waits_and_posts(seed: int) -> tuple[list[dict[str, Any]], dict[int, list[tuple]]]:
    """Four processes wait and post on one semaphore, waits often asleep a long time
    (a begin record well before their end): overlaps everywhere, as under a busy lock."""
    import random

    rng = random.Random(seed)
    objects = [{"obj": "s", "type": "posix_sem", "value": rng.choice([0, 1, 2])}]
    recs: dict[int, list[tuple]] = {}
    for pid in (1, 2, 3, 4):
        t, mine = rng.uniform(0.5, 3.0), []
        for _ in range(rng.randint(0, 6)):
            if rng.random() < 0.5:
                mine.append(rec(C.SEM_WAIT_BEGIN, t))
                t += rng.choice([0.01, rng.uniform(0.1, 6.0)])
                mine.append(rec(C.SEM_WAIT, t))
            else:
                t += rng.uniform(0.01, 2.0)
                mine.append(rec(C.SEM_POST, t))
            t += rng.uniform(0.01, 1.0)
        recs[pid] = mine
    return objects, recs


def test_a_semaphores_straight_descent_is_the_searchs_path(monkeypatch):
    """``_SemShadow.descend``: waits and posts never make the search go back until it finds
    no candidate, so heaps find its path; it must publish exactly what the search does."""
    from ipcviz.engine import linearize

    descents: list[bool] = []
    descend = linearize._SemShadow.descend

    def counted(self, *args):
        path = descend(self, *args)
        descents.append(path is not None)
        return path

    for seed in range(300):
        objects, recs = _waits_and_posts(seed)
        with monkeypatch.context() as m:
            m.setattr(linearize._SemShadow, "descend", counted)
            fast = _published(objects, recs, True, monkeypatch, [], pids=(1, 2, 3, 4))
        with monkeypatch.context() as m:
            m.setattr(linearize._SemShadow, "descend", lambda self, *a: None)
            slow = _published(objects, recs, True, monkeypatch, [], pids=(1, 2, 3, 4))
        assert fast == slow, seed
    assert descents.count(True) > 100  # the descent answered, not only the search
    assert descents.count(False) > 10  # and it left the dead ends to the search


#: a recorded backlog's operations ("s"end or "r"eceive) → each type's ring codes
_BACKLOG_CODES = {
    "posix_mq": {
        "s": (C.MQ_SEND_BEGIN, C.MQ_SEND),
        "r": (C.MQ_RECV_BEGIN, C.MQ_RECV),
    },
    "sysv_mq": {
        "s": (C.MSGQ_SEND_BEGIN, C.MSGQ_SEND),
        "r": (C.MSGQ_RECV_BEGIN, C.MSGQ_RECV),
    },
}


def _backlog(path: Path, kind: str) -> tuple[Harness, dict[int, list[tuple]]]:
    """A recorded queue backlog (``data/*.json``: per process, its operations as kind,
    since, t, priority or type, payload): a Harness with that queue and its processes
    started, and each process's records as its ring would hold them."""
    data = json.loads(path.read_text())
    h = Harness([{"obj": "q", "type": kind, **data["queue"]}])
    pids = sorted(int(p) for p in data["processes"])
    h.start(*pids)
    history: dict[int, list[tuple]] = {}
    for pid in pids:
        records = history[pid] = []
        for op, since, t, key, text in data["processes"][str(pid)]:
            raw = text.encode()
            begin, done = _BACKLOG_CODES[kind][op]
            first = (begin, 0, since, key if op == "s" else 0, 0, b"")
            records += [first, (done, 0, t, key, len(raw), raw)]
    return h, history


def _in_turns(h: Harness, history: dict[int, list[tuple]], turns: int) -> Iterator[tuple[int, int]]:
    """Feed ``history`` as the engine's loop does, in ``turns`` (+1): each turn, the records
    stamped by then; yields (the turn's time, a turn's length) for the caller to order."""
    end = max(r[2] for records in history.values() for r in records)
    step = end // turns + 1
    fed = dict.fromkeys(history, 0)
    for turn in range(1, turns + 2):
        for pid, records in history.items():
            upto = fed[pid]
            while upto < len(records) and records[upto][2] <= turn * step:
                upto += 1
            if upto > fed[pid]:
                h.lin.add_records(pid, records[fed[pid] : upto])
                fed[pid] = upto
        yield turn * step, step


@pytest.mark.parametrize("budget", [linearize.PLAN_BUDGET, 30])
@pytest.mark.parametrize("run", [1, 2])
def test_a_backlog_of_32_senders_on_a_full_queue_is_ordered_without_a_conflict(
    run: int, budget: int, monkeypatch: pytest.MonkeyPatch
):
    """Recorded from loaded runs of ``senders32`` whose engine fell behind (each published
    an ``order.conflict``, about 1 in 40 such runs): fed as one backlog, the search ran out
    of its budget and the greedy order that stood in for it put two senders' messages in
    the wrong order. It tried puts by when they are taken, and filled the full queue with
    messages taken soon, leaving no room for one that real time (run 1), or a message
    taken before it (run 2), needed in first. With a budget too small for any search, the
    furthest prefix tried, one step at a time, still finds the order."""
    monkeypatch.setattr(linearize, "PLAN_BUDGET", budget)
    path = Path(__file__).parent / "data" / f"senders32_backlog{run}.json"
    h, history = _backlog(path, "posix_mq")
    for pid, records in history.items():
        h.lin.add_records(pid, records)
    h.lin.emit_ready(1 << 62)
    h.lin.flush()
    assert h.lin.conflicts == 0
    assert sum(e["kind"] == "mq.recv" for e in h.out) == 32 * 20  # every event legal (Harness)


def test_a_queue_shadow_key_follows_its_messages_through_puts_takes_and_undos() -> None:
    """The search's memo keys a queue by a hash kept as messages come and go (a copy per
    step made a search over 16,384 queued messages hold gigabytes): after every put,
    take (the oldest, or the first of a type, from the middle) and undo, the key is the
    one a shadow made afresh from the same messages has."""
    import random

    from ipcviz.mechanisms.sysv_mq import codes as Q

    class Queue:  # what a shadow reads of a System V queue
        def __init__(self, messages: list[list[Any]]) -> None:
            self.messages = [[k, d, 0] for k, d in messages]
            self.max_messages, self.max_bytes, self.by_priority = 0, None, False

    def fresh(messages: list[list[Any]]) -> Any:
        return linearize._QueueShadow(Queue(messages))  # type: ignore[arg-type]

    shadow = fresh([[1, b"a"], [2, b"b"]])
    shadow.before, shadow.not_before, shadow.put, shadow.pos = {}, {}, set(), [0]
    rng = random.Random(7)
    undos: list[Any] = []
    takes = 0
    for t in range(3000):
        msgs = shadow.messages
        roll = rng.random()
        if undos and roll < 0.2:
            undos.pop()()
        elif msgs and roll < 0.6:
            kind = msgs[rng.randrange(len(msgs))][0]
            i = next(k for k, m in enumerate(msgs) if m[0] == kind)  # msgrcv(type)
            data = bytes(msgs[i][1])
            op = linearize.Op(1, t, t, (Q.MSGQ_RECV, 0, t, kind, len(data), data))
            op.want = kind
            undos.append(shadow.apply(op))
            assert undos[-1] is not None
            takes += i > 0
        else:
            kind, data = rng.randrange(1, 4), bytes([rng.randrange(3)])
            undos.append(shadow.apply(linearize.Op(2, t, t, (Q.MSGQ_SEND, 0, t, kind, 1, data))))
        assert shadow.key() == fresh([m[:2] for m in shadow.messages]).key()
    assert takes > 100  # takes from the middle were tried too


def test_a_refused_write_goes_where_no_reader_held_the_fifo() -> None:
    """A write refused with EPIPE overlaps the reader's close and its next open: the only
    legal place for it is between them. Placed by its end (after the open), it was
    'EPIPE while a reader still held the read end' (an order.conflict in 1 run of 3 of
    the review's FIFO churn): a refused write changes nothing, so it goes first wherever
    it is legal."""
    h = Harness([{"obj": "f", "type": "fifo", "path": "/tmp/f", "capacity": 65536}])
    h.start(1, 2)
    h.lin.add_records(
        2, [rec(C.PIPE_OPEN_BEGIN, 1, C.READ_END), rec(C.PIPE_OPEN, 2, C.READ_END, 3)]
    )
    h.lin.add_records(
        1, [rec(C.PIPE_OPEN_BEGIN, 2.2, C.WRITE_END), rec(C.PIPE_OPEN, 2.5, C.WRITE_END, 4)]
    )
    h.lin.add_records(1, [rec(C.PIPE_WRITE_BEGIN, 3, 3), rec(C.PIPE_EPIPE, 9, 3)])
    h.lin.add_records(
        2,
        [
            rec(C.PIPE_CLOSE, 4, C.READ_END),
            rec(C.PIPE_OPEN_BEGIN, 5, C.READ_END),
            rec(C.PIPE_OPEN, 6, C.READ_END, 3),
        ],
    )
    h.lin.emit_ready(100 * MS)
    assert h.lin.conflicts == 0
    said = h.kinds()
    assert said.index((2, "pipe.close")) < said.index((1, "pipe.epipe"))
    assert said.index((1, "pipe.epipe")) < said.index((2, "pipe.open"), 1)


@pytest.mark.parametrize(
    ("budget", "turns"),
    [(linearize.PLAN_BUDGET, 1), (400, 1), (linearize.PLAN_BUDGET, 5), (linearize.PLAN_BUDGET, 20)],
)
def test_forked_children_flooding_one_queue_get_an_order_without_a_conflict(
    budget: int, turns: int, monkeypatch: pytest.MonkeyPatch
):
    """The review's flood: a parent forks a child that sends 50 identical messages and takes
    50, while another process sends one and takes one, over and over, on one System V
    queue (a run's trace, fed as one backlog). Each take gets the oldest message, so
    where a send goes decides what a take 20 messages later gets; the search found out
    only there, ran out of its budget going back through the sends in between, and
    committed a send no order could go on from: 18 ``order.conflict`` on a correct
    program, and an illegal event (the Harness checks each). ``_QueueShadow.dead`` cuts
    such a branch as soon as the queue's oldest messages cannot be shared out among the
    takes to come. Fed in ``turns``, as the engine's loop feeds it (each turn's records
    and cutoff), as well as whole: a version of that cut that trusted takes the pool
    did not yet know the whole of cut a good branch there."""
    monkeypatch.setattr(linearize, "PLAN_BUDGET", budget)
    path = Path(__file__).parent / "data" / "forky_backlog.json"
    h, history = _backlog(path, "sysv_mq")
    for now, step in _in_turns(h, history, turns):
        h.lin.emit_ready(now - step)
    h.lin.flush()
    _every_receive_placed(h, history)


def _every_receive_placed(h: Harness, history: dict[int, list[tuple]]) -> None:
    """No conflict, and every recorded System V receive published (each event legal: the
    Harness checks it as it comes)."""
    assert h.lin.conflicts == 0
    taken = sum(e["kind"] == "mq.recv" for e in h.out)
    assert taken == sum(r[0] == C.MSGQ_RECV for records in history.values() for r in records)


def _fed_backlog(name: str, turns: int) -> tuple[Harness, dict[int, list[tuple]]]:
    """A System V queue's recorded backlog (``data/NAME``) fed whole, or in ``turns`` with a
    30 ms hold and the rings read to each turn's end; then flushed."""
    h, history = _backlog(Path(__file__).parent / "data" / name, "sysv_mq")
    if turns:
        for now, _ in _in_turns(h, history, turns):
            h.lin.emit_ready(now - 30 * MS, now)
    else:
        for pid, records in history.items():
            h.lin.add_records(pid, records)
    h.lin.flush()
    return h, history


@pytest.mark.parametrize("turns", [0, 40])
def test_a_receive_stopped_long_with_the_run_leaves_the_spare_copy_to_a_take_800_on(
    turns: int,
) -> None:
    """A forked flood stopped with Ctrl-C (``data/forky_stopped.json``, a run's trace cut
    from a moment its queue was empty): the other process sent "z", which the parent took
    in place of a "y", and began a receive that the stop left 700 ms long; it got a "y".
    One "y" was spare, and the parent's take 800 takes on, past every list the search's
    rules read (``take_cap``), needed it. Nothing the search saw did, takes go first, so
    the long receive took the spare at once, and from that take on every operation was an
    ``order.conflict`` (10,322 in the whole run; 192 here). ``_QueueShadow._steals`` reads
    the pool's takes past the lists (``_tight_scan``). Fed whole, and in ``turns``."""
    h, history = _fed_backlog("forky_stopped.json", turns)
    _every_receive_placed(h, history)


@pytest.mark.parametrize("turns", [0, 12, 40])
def test_two_receives_stamped_long_are_placed_where_what_came_after_them_says(
    turns: int,
) -> None:
    """A C program under strace, 6 processes on one System V queue
    (``data/mesh_long_receives.json``, 560 operations from a moment the queue was empty):
    two receives were stamped 11.7 ms long (their processes waited for the tracer) and
    took the two spare messages that two other processes passed around meanwhile. A
    search sees the first 300 operations, about 6 ms: both receives ended past it and may
    go anywhere in it, takes are tried first, so the order found began with them and
    committed them there; 6 ms later a receive that got the other process's message
    while its own was put last had no explanation (83 ``order.conflict`` on a correct
    program, here and in the whole run). An optional operation a search would commit
    alone is placed by a second search that reaches its end (``Linearizer._search``).
    Fed whole, and in ``turns``."""
    h, history = _fed_backlog("mesh_long_receives.json", turns)
    _every_receive_placed(h, history)


@pytest.mark.parametrize("turns", [0, 12])
def test_two_sends_a_take_past_the_horizon_tells_apart_are_not_committed_before_it(
    turns: int,
) -> None:
    """The same C program, another run (``data/mesh_untold_sends.json``, 629 operations
    from a moment the queue was empty): three processes passed their messages around,
    one spare in the queue, while a fourth one's receive was stamped 3.1 ms long. A
    search's horizon fell 1 ns before the receive that told two concurrent sends of
    "proc2" and "proc4" apart; nothing before it did, the order found put "proc4" first
    (the long receive could take it) and both sends were committed. That receive then had
    no explanation (2 ``order.conflict`` on a correct program, here and in the whole
    3 s run). A put placed in front of a concurrent one of another message, which no
    required take tells, waits for the next search (``_upto_untold``). Fed whole, and in
    ``turns``."""
    h, history = _fed_backlog("mesh_untold_sends.json", turns)
    _every_receive_placed(h, history)


@pytest.mark.parametrize("turns", [0, 40])
def test_look_alike_messages_from_four_senders_go_where_the_takes_700_places_on_say(
    turns: int,
) -> None:
    """Four senders of "x", "y", "xy" and "xyz" and two takers of the oldest, on one System
    V queue (``mixed_words.py``, a run's trace fed back): the queue grew 700 deep, and the
    order of two concurrent sends of different messages is told only by the takes that
    get them, 700 places on, far past the 300 operations a search looks at. The search
    placed them in an order those takes contradict (212 ``order.conflict``; half of the
    runs at 800 messages a sender). Now each place of the queue is checked against the
    takes that may get the message there (``_QueueShadow._rank_takes``). Fed whole, and
    in ``turns`` with a 30 ms hold and the rings read to the turn's end."""
    h, _ = _fed_backlog("mixed_backlog.json", turns)
    assert h.lin.conflicts == 0
    assert sum(e["kind"] == "mq.recv" for e in h.out) == 1602  # every event legal (Harness)


def test_a_unique_message_is_not_put_before_more_messages_than_its_taker_takes_first():
    """A print shop (``own scenario``: helpers put identical pages, each job ends with its
    own "end of job N"; one printer takes the oldest each time): a helper's page send that
    took long overlapped another job's "end" send. The "end" send had to be placed (it
    ended early), the page was optional, and the printer's takes that tell them apart
    came 350 takes later, past what the search looks at: "end" was put first, and from
    its take on, every operation was an ``order.conflict`` (123 in the scenario at 40 jobs
    of 200 pages). The printer takes 351 pages before "end": "end" cannot be put while
    fewer than 351 messages are ahead of it."""
    q = {"obj": "q", "type": "sysv_mq", "max_bytes": 16384, "max_message_size": 8192}
    h = Harness([q])
    h.start(1, 2, 3)
    page, end = b"page", b"end of job 2"
    pages = []
    for k in range(350):
        pages += [rec(C.MSGQ_SEND_BEGIN, k, 1), rec(C.MSGQ_SEND, k + 0.5, 1, 4, page)]
    pages += [rec(C.MSGQ_SEND_BEGIN, 350.2, 1), rec(C.MSGQ_SEND, 900, 1, 4, page)]  # slow
    h.lin.add_records(1, pages)
    h.lin.add_records(2, [rec(C.MSGQ_SEND_BEGIN, 360, 1), rec(C.MSGQ_SEND, 361, 1, len(end), end)])
    takes = []
    for k in range(352):
        got = page if k < 351 else end
        takes += [rec(C.MSGQ_RECV_BEGIN, 1000 + k), rec(C.MSGQ_RECV, 1000.5 + k, 1, len(got), got)]
    h.lin.add_records(3, takes)
    h.lin.emit_ready(1 << 62)
    h.lin.flush()
    assert h.lin.conflicts == 0
    assert sum(e["kind"] == "mq.recv" for e in h.out) == 352  # every event legal (Harness)


def test_a_message_is_not_put_in_the_slot_of_a_unique_one_its_only_taker_takes_there():
    """The other way round (the print shop again, another run): a page send that ended
    first overlapped another job's "end" send, and the printer, the queue's only taker,
    takes "end" right after the 149 pages already queued. Put first, the page took the
    150th slot; the take that says so was far past the search's horizon, and the trace
    was an ``order.conflict`` from there on (140 of them). With one taker, the message in
    slot L is the one its L-th take from now gets: a put is checked against that take."""
    q = {"obj": "q", "type": "sysv_mq", "max_bytes": 16384, "max_message_size": 8192}
    h = Harness([q])
    h.start(1, 2, 3)
    page, end = b"page", b"end of job 3"
    sends = []
    for k in range(149):
        sends += [rec(C.MSGQ_SEND_BEGIN, k, 1), rec(C.MSGQ_SEND, k + 0.5, 1, 4, page)]
    sends += [rec(C.MSGQ_SEND_BEGIN, 150, 1), rec(C.MSGQ_SEND, 150.8, 1, 4, page)]  # ends first
    for k in range(300):
        sends += [rec(C.MSGQ_SEND_BEGIN, 160 + k, 1), rec(C.MSGQ_SEND, 160.5 + k, 1, 4, page)]
    h.lin.add_records(1, sends)
    h.lin.add_records(2, [rec(C.MSGQ_SEND_BEGIN, 150.5, 1), rec(C.MSGQ_SEND, 151.5, 1, 12, end)])
    takes = []
    for k in range(451):
        got = end if k == 149 else page
        takes += [rec(C.MSGQ_RECV_BEGIN, 1000 + k), rec(C.MSGQ_RECV, 1000.5 + k, 1, len(got), got)]
    h.lin.add_records(3, takes)
    h.lin.emit_ready(1 << 62)
    h.lin.flush()
    assert h.lin.conflicts == 0
    assert sum(e["kind"] == "mq.recv" for e in h.out) == 451  # every event legal (Harness)


def _sent(h: Harness, kind: str) -> list[bytes]:
    return [e["_raw"] for e in h.out if e["kind"] == kind]


def test_a_send_waits_for_the_receive_that_made_room_while_it_ends_past_the_cutoff():
    """A POSIX queue flood under strace, the engine a second behind (recorded, its input
    replayed): a receive began 6 µs after a send of a full queue, and strace printed its
    end 5 s later (blocked on its full FIFO); the send had ended at once, in the room the
    receive made. Turn by turn, the send was ready and the receive not (it ended past the
    cutoff): the send was blamed ``STUCK_NS`` after its end (``order.conflict``; fed
    whole, none). A process's next operation that began by then and ends later may go
    first: the stuck one waits for it (``Linearizer._ends_later``). Here, with a queue of
    one message."""
    h = Harness([{"obj": "q", "type": "posix_mq", "max_messages": 1}])
    h.start(1, 2)
    h.lin.add_records(1, [rec(C.MQ_SEND_BEGIN, 0, 0), rec(C.MQ_SEND, 1, 0, 1, b"a")])
    h.lin.add_records(1, [rec(C.MQ_SEND_BEGIN, 2.5, 0), rec(C.MQ_SEND, 3, 0, 1, b"b")])
    h.lin.add_records(2, [rec(C.MQ_RECV_BEGIN, 2), rec(C.MQ_RECV, 3000, 0, 1, b"a")])
    h.lin.emit_ready(2000 * MS, 2000 * MS)
    assert h.lin.conflicts == 0
    assert _sent(h, "mq.send") == [b"a"]  # "b" waits for the receive
    h.lin.flush()
    assert h.lin.conflicts == 0
    assert _sent(h, "mq.send") == [b"a", b"b"] and _sent(h, "mq.recv") == [b"a"]


def test_an_operation_past_what_was_read_leaves_the_order_of_older_ones_open():
    """The same flood, another run (recorded, its input replayed): a turn read strace 4 s
    on (the pool's last 30 ms past its cutoff and read horizon) and ended with a receive
    begun and a send after it that needed the room it made. The search, with fewer
    operations than its depth, required all of them: the send had no order, so no
    operation of the queue went, and those of 4 s before were blamed (166
    ``order.conflict``; fed whole, none). Where the search finds no order, operations
    that ended past ``read_to`` are optional (``Linearizer._search``). Here, with a
    queue of one."""
    h = Harness([{"obj": "q", "type": "posix_mq", "max_messages": 1}])
    h.start(1, 2)
    h.lin.add_records(1, [rec(C.MQ_SEND_BEGIN, 0, 0), rec(C.MQ_SEND, 1, 0, 1, b"a")])
    h.lin.add_records(2, [rec(C.MQ_RECV_BEGIN, 2), rec(C.MQ_RECV, 3, 0, 1, b"a")])
    h.lin.add_records(1, [rec(C.MQ_SEND_BEGIN, 3990, 0), rec(C.MQ_SEND, 3991, 0, 1, b"x")])
    h.lin.add_records(2, [rec(C.MQ_RECV_BEGIN, 3995)])  # in progress: it takes "x"
    h.lin.add_records(1, [rec(C.MQ_SEND_BEGIN, 3996, 0), rec(C.MQ_SEND, 3998, 0, 1, b"y")])
    h.lin.emit_ready(3950 * MS, 3950 * MS)
    assert h.lin.conflicts == 0
    assert _sent(h, "mq.send") == [b"a"] and _sent(h, "mq.recv") == [b"a"]
    h.lin.add_records(2, [rec(C.MQ_RECV, 4010, 0, 1, b"x")])
    h.lin.flush()
    assert h.lin.conflicts == 0
    assert _sent(h, "mq.send") == [b"a", b"x", b"y"] and _sent(h, "mq.recv") == [b"a", b"x"]
