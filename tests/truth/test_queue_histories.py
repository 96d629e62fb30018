"""Random legal histories of one System V queue, fed to the linearizer as the rings deliver
them: every one must come out as a legal order, without an ``order.conflict``.

A history is made the way the kernel makes one: one order of sends and receives (each
receive takes the oldest message), each operation given a begin and an end stamp around
its moment, within its process's program order. So a legal order exists by construction,
and any conflict is the linearizer accusing a correct program. Messages repeat ("x" sent
many times) and are prefixes of one another ("xy", "xyz"), the two things that fooled it.
"""

from __future__ import annotations

import random

import pytest

from ipcviz.engine import linearize as L
from ipcviz.tracer import codes as C
from tests.truth.test_linearize import MS, Harness, rec

QUEUE = {"obj": "q", "type": "sysv_mq", "max_bytes": 1 << 20, "max_message_size": 8192}


def _history(seed: int, words: list[bytes], width: float = 3.0) -> dict[int, list[tuple]]:
    """Records per process of a random legal history: 2-5 processes, each operation's
    interval at most ``width`` ms either side of its moment (so neighbours overlap)."""
    r = random.Random(seed)
    pids = list(range(1, r.randint(2, 5) + 1))
    queue: list[bytes] = []
    moments: dict[int, list[tuple[str, bytes, float]]] = {p: [] for p in pids}
    t = 0.0
    for _ in range(r.randint(6, 30) * len(pids)):
        t += 1.0
        p = r.choice(pids)
        if queue and r.random() < 0.5:
            moments[p].append(("recv", queue.pop(0), t))
        else:
            queue.append(r.choice(words))
            moments[p].append(("send", queue[-1], t))
    while queue:  # every message taken in the end
        t += 1.0
        moments[r.choice(pids)].append(("recv", queue.pop(0), t))
    records: dict[int, list[tuple]] = {}
    for p, ops in moments.items():
        out, prev_end = [], 0.0
        for k, (kind, data, at) in enumerate(ops):
            nxt = ops[k + 1][2] if k + 1 < len(ops) else at + width
            b = r.uniform(max(prev_end, at - width), at)
            e = r.uniform(at, min(nxt, at + width, (at + nxt) / 2))
            if kind == "send":
                out += [rec(C.MSGQ_SEND_BEGIN, b, 1, len(data))]
                out += [rec(C.MSGQ_SEND, e, 1, len(data), data)]
            else:
                out += [rec(C.MSGQ_RECV_BEGIN, b), rec(C.MSGQ_RECV, e, 1, len(data), data)]
            prev_end = e
        if out:
            records[p] = out
    return records


def _op(
    begin: float,
    end: float,
    data: bytes,
    send: bool,
    *,
    key: int = 1,
    want: int = 0,
    cut: int = 0,
    posix: bool = False,
) -> list[tuple]:
    """A send or a receive of ``data`` as its begin and end records (in ms): System V, of
    type ``key`` (a receive asking for ``want``; ``cut``: MSG_NOERROR cut it to that
    size), or POSIX, of priority ``key``."""
    n = len(data)
    if posix:
        if send:
            return [rec(C.MQ_SEND_BEGIN, begin, key, n), rec(C.MQ_SEND, end, key, n, data)]
        return [rec(C.MQ_RECV_BEGIN, begin), rec(C.MQ_RECV, end, key, n, data)]
    if send:
        return [rec(C.MSGQ_SEND_BEGIN, begin, key, n), rec(C.MSGQ_SEND, end, key, n, data)]
    code = C.MSGQ_RECV_CUT if cut else C.MSGQ_RECV
    return [rec(C.MSGQ_RECV_BEGIN, begin, want), rec(code, end, key, cut or n, data)]


def _order(
    records: dict[int, list[tuple]], turn_by_turn: bool, queue: dict | None = None
) -> Harness:
    """Feed the records whole, or turn by turn as the engine drains them: every 10 ms,
    what was stamped by then, publishing what ended 3 ms before (its hold)."""
    h = Harness([queue or QUEUE])
    h.start(*records)
    if turn_by_turn:
        fed = dict.fromkeys(records, 0)
        last = max(r[2] for rs in records.values() for r in rs)
        cut = 10 * MS
        while cut <= last + 10 * MS:
            for p, rs in records.items():
                new = [x for x in rs[fed[p] :] if x[2] <= cut]
                if new:
                    h.lin.add_records(p, new)
                    fed[p] += len(new)
            h.lin.emit_ready(cut - 3 * MS, cut)
            cut += 10 * MS
    else:
        for p, rs in records.items():
            h.lin.add_records(p, rs)
    h.lin.flush()
    return h


def _assert_ordered(records: dict[int, list[tuple]], receives: int) -> None:
    """Fed whole and turn by turn: no ``order.conflict``, every event legal (the Harness
    checks each), and every receive published."""
    for turn_by_turn in (False, True):
        h = _order(records, turn_by_turn)
        assert h.lin.conflicts == 0, turn_by_turn
        assert sum(e["kind"] == "mq.recv" for e in h.out) == receives, turn_by_turn


@pytest.mark.parametrize("turn_by_turn", [False, True], ids=["whole", "turn-by-turn"])
@pytest.mark.parametrize(
    "words", [[b"x", b"y"], [b"x", b"y", b"xy", b"xyz"]], ids=["x-y", "prefixes"]
)
def test_random_legal_histories_of_a_queue_are_ordered_without_a_conflict(
    words: list[bytes], turn_by_turn: bool
) -> None:
    """Before: 5 of 72 seeds whole and 16 of 72 turn by turn got a conflict. Three causes:
    a receive of "xyz" was taken to have got "xy" (the search went on from a queue the
    kernel never held); the order search ran out of its budget where real time between
    the receives decides; and a send was placed before a concurrent one of a different
    message on the word of a receive that took another copy of its own."""
    for seed in range(60):
        h = _order(_history(seed, words), turn_by_turn)  # (Harness: every event legal)
        assert h.lin.conflicts == 0, seed
        received = sum(e["kind"] == "mq.recv" for e in h.out)
        assert received == sum(e["kind"] == "mq.send" for e in h.out), seed


def test_a_send_waiting_for_a_concurrent_ones_receive_does_not_hold_up_its_own_past_stuck():
    """ "x" and "y" sent at once, "x" first; the receive of "x" is known at once, that of
    "y" comes 3 s later (a slow consumer). The send of "x" waited for it, measured from its
    own end (10 ms); the send of "y" (5 ms) was free 5 ms sooner but could not go first:
    nothing went, and ``emit_ready`` accused the earliest, 1 s after it ended (the
    review's finding)."""
    records = {
        1: [rec(C.MSGQ_SEND_BEGIN, 0, 1, 1), rec(C.MSGQ_SEND, 10, 1, 1, b"x")],
        2: [rec(C.MSGQ_SEND_BEGIN, 0, 1, 1), rec(C.MSGQ_SEND, 5, 1, 1, b"y")],
        3: [
            rec(C.MSGQ_RECV_BEGIN, 11),
            rec(C.MSGQ_RECV, 12, 1, 1, b"x"),
            rec(C.MSGQ_RECV_BEGIN, 3000),
            rec(C.MSGQ_RECV, 3001, 1, 1, b"y"),
        ],
    }
    h = _order(records, turn_by_turn=True)
    assert h.lin.conflicts == 0
    assert [e["_raw"] for e in h.out if e["kind"] == "mq.send"] == [b"x", b"y"]


@pytest.mark.parametrize("kind", ["sysv_mq", "posix_mq"])
def test_a_send_in_progress_may_have_come_first(kind: str) -> None:
    """A send of "x" began at 0 and returned at 30 ms (preempted, or blocked: the kernel
    queued "x" at about 5 ms); a send of "y" ran from 6 to 8 ms. At the 17 ms turn only the
    begin of "x" was known, "y" was placed first, and the receive of "x" at 40 ms was a
    conflict (the review's finding). A send now waits while one that began before it
    ended is still in progress (at most ``STUCK_NS``)."""
    if kind == "sysv_mq":
        queue: dict = QUEUE
        sb, s, rb, r, key = C.MSGQ_SEND_BEGIN, C.MSGQ_SEND, C.MSGQ_RECV_BEGIN, C.MSGQ_RECV, 1
    else:
        queue = {"obj": "q", "type": "posix_mq", "max_messages": 10}
        sb, s, rb, r, key = C.MQ_SEND_BEGIN, C.MQ_SEND, C.MQ_RECV_BEGIN, C.MQ_RECV, 0
    records = {
        1: [rec(sb, 0, key, 1), rec(s, 30, key, 1, b"x")],
        2: [rec(sb, 6, key, 1), rec(s, 8, key, 1, b"y")],
        3: [rec(rb, 40), rec(r, 41, key, 1, b"x"), rec(rb, 42), rec(r, 43, key, 1, b"y")],
    }
    h = _order(records, turn_by_turn=True, queue=queue)
    assert h.lin.conflicts == 0
    assert [e["_raw"] for e in h.out if e["kind"] == "mq.send"] == [b"x", b"y"]


def test_sends_of_two_types_are_one_order_for_a_receive_of_the_oldest() -> None:
    """System V: type 1 "a" and type 2 "b" sent at once, "a" first; a receive of the oldest
    (type 0) takes "a", then "b". Their order was waited for only among sends of one type,
    so "b" (ended first) was placed first and the receive was a conflict (the review's
    finding): a receive of type 0 takes every type in the order they came."""
    records = {
        1: [rec(C.MSGQ_SEND_BEGIN, 0, 1, 1), rec(C.MSGQ_SEND, 10, 1, 1, b"a")],
        2: [rec(C.MSGQ_SEND_BEGIN, 0, 2, 1), rec(C.MSGQ_SEND, 5, 2, 1, b"b")],
        3: [
            rec(C.MSGQ_RECV_BEGIN, 40, 0),
            rec(C.MSGQ_RECV, 41, 1, 1, b"a"),
            rec(C.MSGQ_RECV_BEGIN, 42, 0),
            rec(C.MSGQ_RECV, 43, 2, 1, b"b"),
        ],
    }
    h = _order(records, turn_by_turn=True)
    assert h.lin.conflicts == 0
    assert [e["_raw"] for e in h.out if e["kind"] == "mq.send"] == [b"a", b"b"]


def test_a_send_that_failed_holds_up_no_other_send() -> None:
    """A send whose call raised (a message too long: EINVAL) has a begin and no end. It
    stayed a send in progress (``_open_puts``) until its process exited, and every other
    send on the queue waited ``STUCK_NS`` for its message. A lane's next call begins only
    once the last one is over."""
    records = {
        1: [
            rec(C.MSGQ_SEND_BEGIN, 0, 1, 100000),  # raised: no end
            rec(C.MSGQ_RECV_BEGIN, 30),
            rec(C.MSGQ_RECV, 31, 1, 1, b"b"),
        ],
        2: [
            rec(C.MSGQ_SEND_BEGIN, 10, 1, 1),
            rec(C.MSGQ_SEND, 11, 1, 1, b"a"),
            rec(C.MSGQ_SEND_BEGIN, 12, 1, 1),
            rec(C.MSGQ_SEND, 13, 1, 1, b"b"),
        ],
        3: [rec(C.MSGQ_RECV_BEGIN, 20), rec(C.MSGQ_RECV, 21, 1, 1, b"a")],
    }
    h = Harness([QUEUE])
    h.start(*records)
    for p, rs in records.items():
        h.lin.add_records(p, rs)
    h.lin.emit_ready(100 * MS, 103 * MS)  # every ring read to 103 ms
    assert h.lin.conflicts == 0
    assert [e["_raw"] for e in h.out if e["kind"] == "mq.send"] == [b"a", b"b"]


def test_a_send_blocked_on_a_full_queue_holds_no_other_send_back() -> None:
    """A bounded buffer: a 4-byte send blocks while the queue (6 bytes) holds two 3-byte
    messages, kept full by another sender while a receiver takes. Waiting for a send in
    progress (its message may have come first) held every other send back STUCK_NS: the
    review measured 948 ms of lag on screen. A send that has no room in the queue as
    published is not waited for. (Stamps, not seconds: which turn publishes each send.)"""
    q = {"obj": "q", "type": "sysv_mq", "max_bytes": 6, "max_message_size": 8192}
    sb, s, rb, r = C.MSGQ_SEND_BEGIN, C.MSGQ_SEND, C.MSGQ_RECV_BEGIN, C.MSGQ_RECV
    records: dict[int, list[tuple]] = {1: [rec(sb, 5, 1, 4)], 2: [], 3: []}
    records[2] += [rec(sb, 1, 1, 3), rec(s, 2, 1, 3, b"a00"), rec(sb, 3, 1, 3)]
    records[2] += [rec(s, 4, 1, 3, b"a01")]
    t = 10.0
    for i in range(2, 40):  # one taken, one put: the queue stays full for the 4 bytes
        records[3] += [rec(rb, t), rec(r, t + 1, 1, 3, b"a%02d" % (i - 2))]
        records[2] += [rec(sb, t + 2, 1, 3), rec(s, t + 3, 1, 3, b"a%02d" % i)]
        t += 50
    records[3] += [rec(rb, t), rec(r, t + 1, 1, 3, b"a38"), rec(rb, t + 2)]
    records[3] += [rec(r, t + 3, 1, 3, b"a39"), rec(rb, t + 5), rec(r, t + 6, 1, 4, b"full")]
    records[1] += [rec(s, t + 4, 1, 4, b"full")]
    h = Harness([q])
    h.start(*records)
    fed = dict.fromkeys(records, 0)
    lags = []
    cut = 10 * MS
    while cut <= (t + 100) * MS:
        for p, rs in records.items():
            new = [x for x in rs[fed[p] :] if x[2] <= cut]
            if new:
                h.lin.add_records(p, new)
                fed[p] += len(new)
        n = len(h.out)
        h.lin.emit_ready(cut - 3 * MS, cut)
        lags += [cut - e["t"] for e in h.out[n:] if e["kind"] == "mq.send" and e["pid"] == 2]
        cut += 10 * MS
    h.lin.flush()
    assert h.lin.conflicts == 0
    assert max(lags) <= 20 * MS  # the turn after it ended (STUCK_NS before: 1 s)


def test_a_receiver_preempted_past_the_searchs_horizon_is_not_the_only_taker() -> None:
    """A process sends "z" and takes it back, over and over; once, it stamps the begin of
    its receive and is preempted for a long while. Meanwhile a forked child floods "y", and
    the parent's receive takes the "z" first, then the "y"s; the preempted receive gets a
    "y" in the end. The search looks PLAN_DEPTH operations ahead: the parent's receive was
    past that horizon, so the preempted receive, stuck behind "z", looked like the only take
    left and every order was cut (a forked flood's trace: 11,145 ``order.conflict`` on a
    correct program, the first 20 ms into it)."""
    other: list[tuple] = []
    t = 0.0
    for _ in range(147):  # 294 operations: with the next 6, the search's window is full
        other += [rec(C.MSGQ_SEND_BEGIN, t, 1, 1), rec(C.MSGQ_SEND, t + 0.2, 1, 1, b"z")]
        other += [rec(C.MSGQ_RECV_BEGIN, t + 0.4), rec(C.MSGQ_RECV, t + 0.6, 1, 1, b"z")]
        t += 1.0
    other += [rec(C.MSGQ_SEND_BEGIN, t, 1, 1), rec(C.MSGQ_SEND, t + 0.2, 1, 1, b"z")]
    other += [rec(C.MSGQ_RECV_BEGIN, t + 0.4), rec(C.MSGQ_RECV, t + 50, 1, 1, b"y")]
    child: list[tuple] = []
    for k in range(10):
        b = t + 10 + k
        child += [rec(C.MSGQ_SEND_BEGIN, b, 1, 1), rec(C.MSGQ_SEND, b + 0.2, 1, 1, b"y")]
    parent = [rec(C.MSGQ_RECV_BEGIN, t + 15.5), rec(C.MSGQ_RECV, t + 15.7, 1, 1, b"z")]
    for k in range(9):
        b = t + 20 + k
        parent += [rec(C.MSGQ_RECV_BEGIN, b), rec(C.MSGQ_RECV, b + 0.2, 1, 1, b"y")]
    for turn_by_turn in (False, True):
        h = _order({1: other, 2: child, 3: parent}, turn_by_turn)
        assert h.lin.conflicts == 0, turn_by_turn
        assert sum(e["kind"] == "mq.recv" for e in h.out) == 158


def test_places_two_takers_could_each_get_are_shared_out_jointly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four concurrent sends, "x", "x", "y", "y"; then two takers: one takes "x" then "y",
    the other "y" then "x". Each place alone could go to either taker's take, so "x", "x"
    first passed the check of each place (``_not_its_rank``), but both "x" cannot go to
    the first two takes: one of them takes "y". With the takes past the search's horizon
    (a queue hundreds deep, here a horizon of 4), that order was committed and the takes
    got ``order.conflict`` (a lecturer's mixed-words run: 1 to thousands)."""
    monkeypatch.setattr("ipcviz.engine.linearize.PLAN_DEPTH", 4)
    sends = {
        p: [rec(C.MSGQ_SEND_BEGIN, 0.1 * k, 1, 1), rec(C.MSGQ_SEND, 1 + 0.1 * k, 1, 1, data)]
        for k, (p, data) in enumerate([(1, b"x"), (2, b"x"), (3, b"y"), (4, b"y")])
    }

    def takes(first: bytes, then: bytes, at: float) -> list[tuple]:
        return [
            *[rec(C.MSGQ_RECV_BEGIN, 2 + at), rec(C.MSGQ_RECV, 10 + at, 1, 1, first)],
            *[rec(C.MSGQ_RECV_BEGIN, 10.5 + at), rec(C.MSGQ_RECV, 20 + at, 1, 1, then)],
        ]

    records = {**sends, 5: takes(b"x", b"y", 0), 6: takes(b"y", b"x", 0.1)}
    _assert_ordered(records, receives=4)


@pytest.mark.parametrize("seed", [135, 142])
def test_a_take_placed_where_the_rest_of_the_queue_has_no_taker_is_undone(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random legal histories (wide intervals) with the search's horizon cut to 4
    operations, as a queue hundreds deep cuts it: the search placed one taker's takes
    while a take of the other's, long in progress, needed a message among them; the
    place after had no taker left, and the takes after it were conflicts (a mixed-words
    run: 4,449). After each take, the takers' counts must be a way that shares the rest of
    the queue out (``_jback``)."""
    monkeypatch.setattr("ipcviz.engine.linearize.PLAN_DEPTH", 4)
    h = _order(_history(seed, [b"x", b"y"], width=8.0), turn_by_turn=False)
    assert h.lin.conflicts == 0


def test_a_long_receive_does_not_take_a_copy_a_receive_that_ends_sooner_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One "y" is queued; a receive stamped long (its process preempted: 1.5 to 100 ms)
    could take it, and so could another receive at 50 ms, with the next "y" put only at
    60 ms. Past the search's horizon, nothing needed that "y", and the search tries takes
    first: the long receive took it, and the one at 50 ms was a conflict (a forked flood,
    where as many "y" were put as taken: thousands). The copies a receive that ends sooner
    needs (by its end, every one queued or put) are not for a receive that ends later."""
    monkeypatch.setattr("ipcviz.engine.linearize.PLAN_DEPTH", 4)

    records = {
        1: _op(0.9, 1.0, b"y", True) + _op(60, 61, b"y", True),  # the "y"s
        2: _op(1.5, 100, b"y", False),  # the long receive
        3: _op(2, 2.1, b"z", True) + _op(3, 3.1, b"z", True) + _op(4, 4.1, b"z", True),
        4: _op(50, 51, b"y", False),  # needs the first "y"
        5: _op(62, 63, b"z", False) + _op(64, 65, b"z", False) + _op(66, 67, b"z", False),
    }
    _assert_ordered(records, receives=5)


def test_a_long_receive_does_not_take_a_copy_a_receive_past_every_list_read_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One "y" is queued to spare; a receive stamped long (stopped with the run) takes a
    "y" in the end. A child sends a "y" and the parent takes one, 30 times, then the parent
    takes one more: that one needs the spare. It lies past the takes the search's rules
    read (``take_cap``: here 9), so nothing seemed to need the spare, the long receive took
    it, and the parent's last take was a conflict (a forked flood stopped with Ctrl-C: the
    parent's take 800 takes on, then 10,322 ``order.conflict`` on a correct program). The
    takes that need every copy are read past the lists, as far as the long one asks."""
    monkeypatch.setattr("ipcviz.engine.linearize.PLAN_DEPTH", 4)
    child = _op(0.9, 1.0, b"y", True)  # the spare
    parent: list[tuple] = []
    for k in range(30):
        child += _op(10 + 2 * k, 10.2 + 2 * k, b"y", True)
        parent += _op(11 + 2 * k, 11.2 + 2 * k, b"y", False)
    parent += _op(80, 80.2, b"y", False)  # needs the spare
    child += _op(90, 90.2, b"y", True)  # the long receive's
    records = {1: child, 2: _op(1.5, 1000, b"y", False), 3: parent}
    _assert_ordered(records, receives=32)


def test_the_only_taker_is_alone_when_no_take_past_the_horizon_began_before_it_ended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A POSIX queue: "y" is put before "x" (the sends overlap; "x" ends first), and the
    sender of "x" then takes the "y"; the other receiver's takes begin 9 ms after that
    one ended. That receive ends just past the search's horizon: bounded at the horizon
    itself, it was never alone, so "x" went in front of its "y" and that order was
    committed (the other receiver's take of "x" cannot come first: a conflict the code
    before did not have). The pool's takes past the horizon are known: the first of
    each process's bounds it instead."""
    monkeypatch.setattr("ipcviz.engine.linearize.PLAN_DEPTH", 3)
    queue = {"obj": "q", "type": "posix_mq", "max_messages": 10}

    def op(begin: float, end: float, data: bytes, send: bool) -> list[tuple]:
        return _op(begin, end, data, send, key=0, posix=True)

    records = {
        1: op(0, 2.5, b"x", True) + op(10, 11.3, b"y", False),
        2: op(1, 3, b"y", True) + op(10.5, 10.6, b"z", True),
        3: op(20, 21, b"x", False) + op(22, 23, b"z", False),
    }
    for turn_by_turn in (False, True):
        h = _order(records, turn_by_turn, queue)  # (Harness: every event legal)
        assert h.lin.conflicts == 0, turn_by_turn
        assert sum(e["kind"] == "mq.recv" for e in h.out) == 3


def test_a_cut_receive_needs_no_copy_of_its_own_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """MSG_NOERROR: a receive with a 1-byte buffer took "xyz" and recorded "x" (cut). A
    long receive of "x" took the first "x"; the cut one's process then took the second.
    Counted as a take that needs a copy of "x", the cut receive made that second receive's
    copies tight (``_tight_takes``), so the long receive could not take the first "x"
    (``_steals``) and, since "xyz" stood next, every order was cut: a conflict the code
    before did not have. A cut receive does not say which message it got."""
    monkeypatch.setattr("ipcviz.engine.linearize.PLAN_DEPTH", 6)

    zs = [x for k in range(4) for x in _op(20 + 4 * k, 21 + 4 * k, b"z", True)]
    zr = [x for k in range(4) for x in _op(110 + 2 * k, 111 + 2 * k, b"z", False)]
    records = {
        1: _op(0, 0.5, b"x", True) + _op(5, 5.5, b"x", True),
        2: _op(1, 1.5, b"xyz", True),
        3: _op(2, 100, b"x", False),  # preempted: it took the first "x"
        4: _op(3, 10, b"x", False, cut=1) + _op(11, 12, b"x", False),  # "xyz", cut; "x"
        5: _op(13, 13.5, b"x", True) + zs,
        6: _op(105, 106, b"x", False) + zr,
    }
    _assert_ordered(records, receives=8)


def test_a_take_past_the_horizon_of_another_message_does_not_free_the_only_taker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """System V: "b" (type 2) and "a" (type 1) are sent at once; a receive of the oldest
    (type 0) got "a" and ran long, past the search's horizon. There, a receive of type 3,
    begun before it ended, took "c"; "b" goes to a receive of type 2 after it. Only a
    receive that took "b" could have cleared "b" from in front of "a": counting any receive
    past the horizon as one, the search sent "b" first, committed it, and the receive of
    "a" was a conflict."""
    monkeypatch.setattr("ipcviz.engine.linearize.PLAN_DEPTH", 4)

    def send(begin: float, end: float, mtype: int, data: bytes) -> list[tuple]:
        return _op(begin, end, data, True, key=mtype)

    def receive(begin: float, end: float, want: int, mtype: int, data: bytes) -> list[tuple]:
        return _op(begin, end, data, False, key=mtype, want=want)

    records = {
        1: send(0.0, 1.0, 1, b"a"),
        2: send(0.1, 0.9, 2, b"b"),
        3: receive(0.5, 10, 0, 1, b"a"),  # the only taker in the search's view
        4: send(5, 6, 3, b"c"),
        5: receive(8, 9, 3, 3, b"c"),  # past the horizon: took "c", not "b"
        6: receive(20, 21, 2, 2, b"b"),
    }
    _assert_ordered(records, receives=3)


def test_places_past_4096_messages_are_shared_out_jointly_too() -> None:
    """The joint test above, behind 5,000 messages already queued (1-byte messages fill a
    System V queue 16,384 deep): the places were worked out only up to 4,096, so past
    that the puts went unchecked (a mixed-words run at 3,000 a sender: 2,002 conflicts)."""
    ahead = 5000
    filler = []
    for k in range(ahead):
        filler += [
            rec(C.MSGQ_SEND_BEGIN, 0.01 * k, 1, 1),
            rec(C.MSGQ_SEND, 0.01 * k + 0.005, 1, 1, b"w"),
        ]
    sends = {
        p: [rec(C.MSGQ_SEND_BEGIN, 60 + 0.1 * k, 1, 1), rec(C.MSGQ_SEND, 61 + 0.1 * k, 1, 1, data)]
        for k, (p, data) in enumerate([(1, b"x"), (2, b"x"), (3, b"y"), (4, b"y")])
    }

    def takes(at: float, first: bytes, then: bytes) -> list[tuple]:
        out = []
        for j in range(ahead // 2):  # the two takers take turns at the filler
            b = 100 + at + 0.02 * j
            out += [rec(C.MSGQ_RECV_BEGIN, b), rec(C.MSGQ_RECV, b + 0.005, 1, 1, b"w")]
        out += [rec(C.MSGQ_RECV_BEGIN, 200 + at), rec(C.MSGQ_RECV, 210 + at, 1, 1, first)]
        out += [rec(C.MSGQ_RECV_BEGIN, 210.5 + at), rec(C.MSGQ_RECV, 220 + at, 1, 1, then)]
        return out

    records = {**sends, 5: takes(0, b"x", b"y"), 6: takes(0.01, b"y", b"x"), 7: filler}
    h = _order(records, turn_by_turn=False)  # (Harness: every event legal)
    assert h.lin.conflicts == 0
    assert sum(e["kind"] == "mq.recv" for e in h.out) == ahead + 4


#: A random history (3 processes, one System V queue of look-alike messages) the search got
#: wrong at a small horizon: ``pid: "s|rBEGIN-END[:WANT]=MESSAGE …"``, times in µs.
ONLY_REQUIRED = {
    1: (
        "s6167-9238=xyz s9892-10207=xy r10565-13254=xyz r13549-24862=xyz s26017-26398=y "
        "s27259-29475=xy s29925-30487=xyz r30891-31994=xyz s32911-34036=x s34622-36270=y "
        "s39680-40958=xy r41976-42762=xyz s46315-47565=y s47675-48158=y s50622-53428=xy "
        "r55245-56921=y r57886-59133:1=xy"
    ),
    2: (
        "s978-3916=y r6318-11402=xy s12565-13266=xyz s14298-15541=x s22239-24450=xyz "
        "r24456-27338=x r27657-29504=xy r29671-33351=x r33597-35197=y s35961-37779=xyz "
        "s37884-40670=y r40872-43570=y r44131-45528=y s46038-47574=x r48317-50262=xy "
        "r50953-51864=xyz s53284-55185=x r55552-57677=xy"
    ),
    3: (
        "s1908-2166=y r2873-3077=y r3090-4251=y s4463-5297=xyz r5838-6019=xyz "
        "r6509-9572=xyz r11789-15462=x r15973-26430=y s26649-28917=x s33722-35643=y "
        "s36356-39073=y r40889-41462=y s42401-44495=xyz s47195-49682=xy r49909-53067=x "
        "r53766-56713:1=y r57292-60201=x"
    ),
}


def test_an_order_of_the_required_operations_is_not_committed_against_the_optional_ones(
    monkeypatch,
) -> None:
    """The search placed only the operations that ended by its horizon, and committed
    them: two sends in an order the receives it also saw, but need not place, ruled out
    (one, in program order after a send, took the other send's message). A 6-process mesh
    under strace got ``order.conflict``. Now it first orders every operation it sees,
    with part of its budget; a small horizon (``PLAN_DEPTH``) stands in for a deep pool."""
    monkeypatch.setattr(L, "PLAN_DEPTH", 12)
    h = Harness([{"obj": "q", "type": "sysv_mq", "max_bytes": 1 << 20, "max_message_size": 8192}])
    h.start(*ONLY_REQUIRED)
    for pid, text in ONLY_REQUIRED.items():
        records = []
        for op in text.split():
            head, word = op.split("=")
            span, _, want = head[1:].partition(":")
            b, e = (int(x) * 1000 for x in span.split("-"))
            data = word.encode()
            if op[0] == "s":
                records += [
                    (C.MSGQ_SEND_BEGIN, 0, b, 1, len(data), b""),
                    (C.MSGQ_SEND, 0, e, 1, len(data), data),
                ]
            else:
                records += [
                    (C.MSGQ_RECV_BEGIN, 0, b, int(want or 0), 0, b""),
                    (C.MSGQ_RECV, 0, e, 1, len(data), data),
                ]
        h.lin.add_records(pid, records)
    h.lin.flush()  # (the harness checks each event is legal as it is published)
    assert h.lin.conflicts == 0
    assert sum(e["kind"] == "mq.recv" for e in h.out) == sum(e["kind"] == "mq.send" for e in h.out)


#: A window of ``mqproc 3`` under strace (3 senders and 3 receivers of one POSIX queue of
#: 8 slots; every message, a sender's number and count, of priority 0), in µs: the queue
#: as it stood (put by process 0, one after another), then what came next.
MQPROC = {
    0: "s0-1=23 s2-3=2000039 s4-5=1000036 s6-7=2000040",
    1: "r61-150=23",
    2: "r76-118=2000039 r164-220=2000040",
    3: "r99-138=1000036 r189-229=24",
    4: "s9-112=24",
    5: "s52-107=1000037 s140-197=1000038",
    6: "s83-124=2000041",
}


def _mqproc(want: int | None) -> dict[int, list[tuple]]:
    """``MQPROC`` as records: POSIX (``want`` None, priority 0), or System V (type 1, each
    receive asking for ``want``)."""
    if want is None:
        sb, s, rb, r, key, ask = C.MQ_SEND_BEGIN, C.MQ_SEND, C.MQ_RECV_BEGIN, C.MQ_RECV, 0, 0
    else:
        sb, s, rb, r, key, ask = (
            C.MSGQ_SEND_BEGIN,
            C.MSGQ_SEND,
            C.MSGQ_RECV_BEGIN,
            C.MSGQ_RECV,
            1,
            want,
        )
    records: dict[int, list[tuple]] = {}
    for pid, text in MQPROC.items():
        records[pid] = []
        for op in text.split():
            span, word = op[1:].split("=")
            b, e = (int(x) * 1000 for x in span.split("-"))
            data = word.encode() + b"\0"
            if op[0] == "s":
                records[pid] += [(sb, 0, b, key, len(data), b""), (s, 0, e, key, len(data), data)]
            else:
                records[pid] += [(rb, 0, b, ask, 0, b""), (r, 0, e, key, len(data), data)]
    return records


@pytest.mark.parametrize("turn_by_turn", [False, True], ids=["whole", "turn-by-turn"])
def test_a_posix_queue_of_one_priority_is_ordered_by_the_takes_past_the_horizon(
    turn_by_turn: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every message of one priority: each receive gets the oldest, as a System V receive
    of type 0 does. Three concurrent sends, "24" (ended at 112 µs), "1000037" (107) and
    "2000041" (124); the fifth receive, begun at 189 µs, got "24", so "24" went in right
    after the queued "2000040", before the other two. Which place each take may get, seen
    past the search's horizon (``_rank_takes``, ``_joint_setup``), was System V's alone: a
    POSIX queue's search committed the sends by their ends, "1000037" first, and the
    receive of "24" got ``order.conflict`` (``mqproc 3``: 44 fed whole, 62 live). A small
    horizon (``PLAN_DEPTH``) stands in for a flood's deep pool."""
    monkeypatch.setattr(L, "PLAN_DEPTH", 4)
    queue = {"obj": "q", "type": "posix_mq", "max_messages": 8, "max_message_size": 64}
    h = _order(_mqproc(None), turn_by_turn, queue)  # (the harness checks each event)
    assert h.lin.conflicts == 0
    assert sum(e["kind"] == "mq.recv" for e in h.out) == 5


@pytest.mark.parametrize("want", [1, -2])
def test_a_system_v_queue_of_one_type_is_ordered_by_the_takes_past_the_horizon(
    want: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same history on a System V queue, every message of type 1, each receive asking
    for type 1 (or the lowest type up to 2): each gets the oldest, as a receive of type 0
    does. Only receives of type 0 let the search look past its horizon, and the receive of
    "24" got ``order.conflict`` (the fuzzer, its receives of the first message's type:
    most of its failing seeds at a horizon of 4)."""
    monkeypatch.setattr(L, "PLAN_DEPTH", 4)
    h = _order(_mqproc(want), turn_by_turn=False)  # (the harness checks each event)
    assert h.lin.conflicts == 0
    assert sum(e["kind"] == "mq.recv" for e in h.out) == 5


#: A random legal history of one POSIX queue (priority 0), from the moment its search saw
#: four operations that all end past its horizon (µs; the fuzzer's seed 93, width 8): the
#: queue holds the "x" of 6.
NONE_REQUIRED = {
    6: "s40000-40500=x",
    1: "r41860-45650=x s54340-56860=xy",
    2: "r44520-46150=y r46540-48410=x s48890-49330=xy s50050-51390=xy r56710-60830=y",
    3: "s42320-48710=x r48810-52320=xy r52590-53300=x s53400-54160=y",
    4: "s44230-51120=x",
    5: "s43700-49350=y r55730-56400=xy r57690-61800=xy",
}


def test_a_search_sees_every_operation_that_began_by_the_earliest_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The search saw a receive of "x" and sends of "x", "y", "x" (its horizon: 4
    operations, cut before the receive of "y" that began next), each ending past the
    horizon: none had to be placed. No order of all four was open ("y" goes before both
    "x", the second "x" after an "xy" of 2 it did not see), and an order of none is an
    empty plan: ``None``, the greedy order by end, kept until new records come. Fed whole,
    none came: the sends went in by their ends, "x" before "y", and the receive of "y" got
    ``order.conflict``. The horizon now reaches the earliest end among the heads: the
    search sees the receive of "y", and places the receive of "x" (it must)."""
    monkeypatch.setattr(L, "PLAN_DEPTH", 4)
    records: dict[int, list[tuple]] = {}
    for pid, text in NONE_REQUIRED.items():
        records[pid] = []
        for op in text.split():
            span, word = op[1:].split("=")
            b, e = (int(x) * 1000 for x in span.split("-"))
            data = word.encode()
            code = (C.MQ_SEND_BEGIN, C.MQ_SEND) if op[0] == "s" else (C.MQ_RECV_BEGIN, C.MQ_RECV)
            records[pid] += [
                (code[0], 0, b, 0, len(data) if op[0] == "s" else 0, b""),
                (code[1], 0, e, 0, len(data), data),
            ]
    queue = {"obj": "q", "type": "posix_mq", "max_messages": 1000}
    h = _order(records, turn_by_turn=False, queue=queue)  # (the harness checks each event)
    assert h.lin.conflicts == 0
    assert sum(e["kind"] == "mq.recv" for e in h.out) == 8


@pytest.mark.parametrize("turn_by_turn", [False, True], ids=["whole", "turn-by-turn"])
@pytest.mark.parametrize("want", [None, 1, -2, 0], ids=["posix", "sysv-1", "sysv--2", "sysv-0"])
def test_a_queue_of_several_keys_is_ordered_by_the_takes_past_the_horizon(
    want: int | None, turn_by_turn: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``MQPROC`` again, and one more message of another key (POSIX: priority 1; System
    V: type 2, taken by a receive of type 2), sent and taken 300 ms after the rest. The
    rules that look past the search's horizon were those of a queue with one key: this one
    message turned them off for the whole pool, and the receive of "24" got
    ``order.conflict`` (a forked flood on a queue of 3 priorities: 37 of them). Messages
    of one key leave in the order they came whichever takes them (POSIX: the highest
    priority first; System V: the type asked for, the lowest one up to a negative type,
    or the oldest of all), so the rules hold per key (``_rank_keys``, ``_dead_key``)."""
    monkeypatch.setattr(L, "PLAN_DEPTH", 4)
    records = _mqproc(want)
    if want is None:
        queue: dict | None = {
            "obj": "q",
            "type": "posix_mq",
            "max_messages": 8,
            "max_message_size": 64,
        }
        records[7] = _op(300, 301, b"hi\0", True, key=1, posix=True)
        records[7] += _op(400, 401, b"hi\0", False, key=1, posix=True)
    else:
        queue = None
        records[7] = _op(300, 301, b"hi\0", True, key=2)
        records[7] += _op(400, 401, b"hi\0", False, key=2, want=2)
    h = _order(records, turn_by_turn, queue)  # (the harness checks each event)
    assert h.lin.conflicts == 0
    assert sum(e["kind"] == "mq.recv" for e in h.out) == 6


#: A window of a forked flood on a POSIX queue of 10 slots (``forkmq``: children send
#: "c0", "c1", "c2" at priorities 0 to 2, another process sends "z" at 1 and receives,
#: the parent receives), in µs, ``s`` or ``r`` begin-end:priority=message: the queue as it
#: stood (nine "c0", put by process 1), then what came next.
FULL_QUEUE = {
    1: " ".join(f"s{2 * k}-{2 * k + 1}:0=c0" for k in range(9)),
    2: "s738-800:1=z r801-804:0=c0",
    3: "r745-753:1=c1 r755-757:0=c0 r758-772:1=z r773-788:0=c0 r790-814:2=c2 r815-823:1=c1 "
    "r824-844:0=c0",
    4: "s712-749:0=c0 s751-762:0=c0 s763-794:0=c0 s796-819:0=c0",
    5: "s702-767:1=c1 s769-809:1=c1",
    6: "s754-795:2=c2",
}


@pytest.mark.parametrize("turn_by_turn", [False, True], ids=["whole", "turn-by-turn"])
def test_a_send_left_out_by_the_required_order_is_not_shut_out_of_a_full_queue(
    turn_by_turn: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No order places every operation the search sees (the queue fills up, and a send
    waits for a receive past its horizon), so it placed only the required ones: the
    "c0" of 751-762 µs in the last slot, without the "z" of 738-800 (optional: it ended
    past the horizon) that the receive of 758-772 µs needs first. "z" could then never
    come, and that receive got ``order.conflict`` (the flood's recorded trace fed back:
    7 of them). The longest order tried that places every required operation is taken
    instead: "z", its receive, then "c0". A small horizon (``PLAN_DEPTH``) stands in for
    the flood's deep pool."""
    monkeypatch.setattr(L, "PLAN_DEPTH", 8)
    records: dict[int, list[tuple]] = {}
    for pid, text in FULL_QUEUE.items():
        records[pid] = []
        for op in text.split():
            span, _, rest = op[1:].partition(":")
            prio, word = rest.split("=")
            b, e = (int(x) / 1000 for x in span.split("-"))
            records[pid] += _op(b, e, word.encode(), op[0] == "s", key=int(prio), posix=True)
    queue = {"obj": "q", "type": "posix_mq", "max_messages": 10, "max_message_size": 64}
    h = _order(records, turn_by_turn, queue)  # (the harness checks each event)
    assert h.lin.conflicts == 0
    assert sum(e["kind"] == "mq.recv" for e in h.out) == 8


def test_a_send_behind_a_queued_message_does_not_wait_for_a_take_in_progress() -> None:
    """Two "y" are queued; a receive of the oldest begins at 1.5 ms and stays in progress
    for 1.6 s (its process asleep before it stamped its end); meanwhile a child sends a "y"
    every 200 ms and the parent takes one. Each send waited for the receive in progress
    (``_woken_first``: the queue holds a message for it, so the kernel served it), up to
    ``STUCK_NS``: a second's lag, and when the receive's record came, the search placed
    it first, and the sends that had waited a second behind it were ``order.conflict``
    (fed in turns). A send behind a queued message cannot change what a receive of the
    oldest gets: it no longer waits for one (``_jumps_ahead``)."""
    n, gap = 8, 200
    child = _op(0.9, 1.0, b"y", True) + _op(0.95, 0.97, b"y", True)
    parent: list[tuple] = []
    for k in range(n):
        child += _op(10 + gap * k, 10.2 + gap * k, b"y", True)
        parent += _op(11 + gap * k, 11.2 + gap * k, b"y", False)
    parent += _op(12 + gap * n, 12.2 + gap * n, b"y", False)
    child += _op(14 + gap * n, 14.2 + gap * n, b"y", True)
    long_take = _op(1.5, 20 + gap * n, b"y", False)
    _assert_ordered({1: child, 2: long_take, 3: parent}, receives=n + 2)


#: Random legal histories of a System V queue (type 1, receives of the oldest), cut to a
#: prefix of the kernel's order (µs; the fuzzer's seeds 148 and 65, width 8): at a horizon
#: of 4 operations, the search's first step was a send that ended past it.
OPTIONAL_FIRST = {
    "seed-148": {
        1: "r2289-8562=xy",
        2: "r477-4296=xyz s7423-11397=xy s11928-17673=y",
        3: "r1816-6469=x s6567-9737=xyz s12125-13706=y s13948-15068=xyz r15596-21283=xyz",
        4: "s1250-3481=xyz s5462-7969=x s10867-13195=xyz r14579-18529=xy",
        5: "r3462-7471=xyz s7933-8363=xy s8833-9313=xyz r9338-11373=xyz s11859-14647=xy",
    },
    "seed-65": {
        1: "r1161-7437=xy s9999-13498=xyz s15122-17365=xy r18737-23850=y r24438-38430=xy",
        2: "r201-5848=xyz r6519-20340=xyz r20685-24556=x s24861-25187=x r25340-26292=x "
        "r26918-30489=xy",
        3: "r2240-5124=x s5948-7214=xy r8343-22181=y r23298-35160=xy",
        4: "s969-3258=xyz r6363-17471=xy s17936-18087=y s19129-20969=xyz s21944-22202=xy "
        "s22698-31422=xy s34486-35886=xy s36676-37185=xy",
        5: "s4737-5529=x r5678-13282=xyz r14006-22457=xy s23015-23512=y s23794-24307=x",
    },
}


@pytest.mark.parametrize("history", list(OPTIONAL_FIRST))
def test_a_plan_does_not_begin_with_a_send_nothing_required_needs(
    history: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan's first step, if it ended past the horizon (optional), is committed alone.
    The search tried an "xy" first (its receive, optional, comes soonest in its list) and
    committed it, while the one receive that had to be placed wanted an "xyz" put later:
    the "xy" stood in front of messages that operations past the horizon, never seen,
    put and took first (seed 148: the receive of "xyz" got ``order.conflict``; seed 65,
    fed in turns: a receive of "x" behind it). A required operation needs nothing those
    do: the first step is one, or a send a required receive needs, where one can go."""
    monkeypatch.setattr(L, "PLAN_DEPTH", 4)
    records: dict[int, list[tuple]] = {}
    for pid, text in OPTIONAL_FIRST[history].items():
        records[pid] = []
        for op in text.split():
            span, word = op[1:].split("=")
            b, e = (int(x) / 1000 for x in span.split("-"))
            records[pid] += _op(b, e, word.encode(), op[0] == "s")
    receives = sum(op[0] == "r" for text in OPTIONAL_FIRST[history].values() for op in text.split())
    _assert_ordered(records, receives)


def test_a_system_v_send_refused_while_another_send_is_in_progress_is_no_conflict() -> None:
    """``msgsnd(IPC_NOWAIT)`` refused (EAGAIN) while a concurrent send fills the queue. A
    System V queue's limit is in bytes, and the refused message's size is not recorded:
    the search took it for never full (``max_messages`` 0) and found no order (2
    conflicts), while the model's rule accepts it."""
    queue = {**QUEUE, "max_bytes": 4}
    records = {
        1: [rec(C.MSGQ_SEND_BEGIN, 0, 1, 4), rec(C.MSGQ_SEND, 2, 1, 4, b"abcd")],
        2: [rec(C.MQ_AGAIN, 3, 1, 0)],
        3: [rec(C.MSGQ_RECV_BEGIN, 1, 0), rec(C.MSGQ_RECV, 4, 1, 4, b"abcd")],
    }
    for turn_by_turn in (False, True):
        h = _order(records, turn_by_turn, queue)
        assert h.lin.conflicts == 0, turn_by_turn
        assert [e["kind"] for e in h.out if e["kind"] == "mq.again"] == ["mq.again"]
