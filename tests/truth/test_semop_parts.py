"""One System V semop on several semaphores, as the strace source records it: a record per
part, every part after the first *joined* (``posix_sem/codes.py``). The kernel applies the
whole call at one instant, so its parts share the call's interval, go together or not at
all, and nothing of another process comes between them."""

from __future__ import annotations

from ipcviz.tracer import codes as C
from tests.truth.test_linearize import MS, Harness, rec

SEMS = [
    {"obj": "set[0]", "type": "sysv_sem", "value": 0},
    {"obj": "set[1]", "type": "sysv_sem", "value": 0},
]


def test_a_woken_part_stamped_before_the_posts_end_is_placed_after_the_post() -> None:
    """Process 1 slept in a wait on both semaphores; process 2's one semop posting both woke
    it, and 1's return was stamped (5 ms) before 2's (6 ms). Stamped alone at 6 ms, 2's
    second post began after 1's wait on it ended: no legal order (a wait at value 0)."""
    h = Harness(SEMS)
    h.start(1, 2)
    h.lin.add_records(
        1, [rec(C.SEM_WAIT_BEGIN, 1), rec(C.SEM_WAIT, 5), rec(C.SEM_WAIT_JOINED, 5, obj=1)]
    )
    h.lin.add_records(2, [rec(C.SEM_POST, 6), rec(C.SEM_POST_JOINED, 6, obj=1)])
    h.lin.emit_ready(100 * MS)
    assert h.lin.conflicts == 0
    said = [e for e in h.out if not e["kind"].endswith(".begin")]
    assert [(e["pid"], e["kind"], e["obj"], e.get("joined")) for e in said] == [
        (2, "sem.post", "set[0]", None),
        (2, "sem.post", "set[1]", 1),
        (1, "sem.wait", "set[0]", None),
        (1, "sem.wait", "set[1]", 1),
    ]


def test_nothing_comes_between_the_parts_of_one_semop() -> None:
    """Process 2's wait on semaphore 0 ended (8 ms) before process 1's semop posting 0 and 1
    did (10 ms): the earliest end goes first once legal, right after 1's first post, but
    the kernel never had 0 posted and 1 not."""
    h = Harness(SEMS)
    h.start(1, 2)
    h.lin.add_records(1, [rec(C.SEM_POST, 10), rec(C.SEM_POST_JOINED, 10, obj=1)])
    h.lin.add_records(2, [rec(C.SEM_WAIT_BEGIN, 5), rec(C.SEM_WAIT, 8)])
    h.lin.emit_ready(100 * MS)
    assert h.lin.conflicts == 0
    assert h.kinds() == [(1, "sem.post"), (1, "sem.post"), (2, "sem.wait")]


def test_a_semop_goes_only_when_every_part_can() -> None:
    """Semaphore 0 is 1 and 1 is 0: process 1's wait on both (ended 10 ms) cannot go before
    process 2's post of 1 (ended 12 ms), although its first part could."""
    h = Harness([{**SEMS[0], "value": 1}, SEMS[1]])
    h.start(1, 2)
    h.lin.add_records(
        1, [rec(C.SEM_WAIT_BEGIN, 1), rec(C.SEM_WAIT, 10), rec(C.SEM_WAIT_JOINED, 10, obj=1)]
    )
    h.lin.add_records(2, [rec(C.SEM_POST, 12, obj=1)])
    h.lin.emit_ready(100 * MS)
    assert h.lin.conflicts == 0
    assert [(e["pid"], e["obj"]) for e in h.out if not e["kind"].endswith(".begin")] == [
        (2, "set[1]"),
        (1, "set[0]"),
        (1, "set[1]"),
    ]


def test_two_units_of_one_semaphore_in_one_call_are_counted_together() -> None:
    """``{0, -2}``: two parts on one semaphore at 1 wait for a post (the kernel takes both
    units at once or sleeps)."""
    h = Harness([{**SEMS[0], "value": 1}])
    h.start(1, 2)
    h.lin.add_records(
        1, [rec(C.SEM_WAIT_BEGIN, 1), rec(C.SEM_WAIT, 10), rec(C.SEM_WAIT_JOINED, 10)]
    )
    h.lin.add_records(2, [rec(C.SEM_POST, 12)])
    h.lin.emit_ready(100 * MS)
    assert h.lin.conflicts == 0
    assert h.kinds() == [(2, "sem.post"), (1, "sem.wait"), (1, "sem.wait")]


def _trace(*ops: tuple[int, str, str, bool]) -> list[dict]:
    """Two semaphores at 1 and two processes, then ``ops`` (pid, kind, object, joined)."""
    events: list[dict] = [
        {"t": 0, "seq": 0, "pid": 0, "kind": "obj.declare", "obj": "set[0]", "type": "sysv_sem",
         "value": 1},
        {"t": 0, "seq": 1, "pid": 0, "kind": "obj.declare", "obj": "set[1]", "type": "sysv_sem",
         "value": 1},
        {"t": 0, "seq": 2, "pid": 1, "kind": "proc.start", "name": "a"},
        {"t": 0, "seq": 3, "pid": 2, "kind": "proc.start", "name": "b"},
    ]  # fmt: skip
    for pid, kind, obj, joined in ops:
        e = {"t": 5, "seq": len(events), "pid": pid, "kind": kind, "obj": obj}
        events.append({**e, "joined": 1, "since": 1} if joined else e)
    return events


def test_verify_refuses_an_operation_between_the_parts_of_one_semop() -> None:
    """Legal for each semaphore, yet the kernel never had 0 taken by process 1 and 1 not:
    ``atomic``. The same operations with the call's parts together are legal."""
    from ipcviz.model.verify import check

    between = _trace(
        (1, "sem.wait", "set[0]", False),
        (2, "sem.post", "set[1]", False),
        (1, "sem.wait", "set[1]", True),
    )
    assert [(v.seq, v.rule) for v in check({}, between)] == [(6, "atomic")]
    together = _trace(
        (1, "sem.wait", "set[0]", False),
        (1, "sem.wait", "set[1]", True),
        (2, "sem.post", "set[1]", False),
    )
    assert list(check({}, together)) == []
    alone = _trace((1, "sem.wait", "set[1]", True))  # no part before it at all
    assert [v.rule for v in check({}, alone)] == ["atomic"]


def test_a_post_goes_before_a_take_that_would_starve_a_pair_taken_earlier() -> None:
    """Philosophers (scenarios/philosophers.py, 60 meals without a pause: order.conflict in
    2 of 8 runs): fork A is held by process 1, which posts it (ended 6.5 ms); process 5's
    one semop took forks C and A (began 2 ms, ended 3 ms) and gave them back (4 ms);
    process 4's took B and C (0.5 ms to 5 ms). When 5's take cannot go yet (A at 0), both
    1's post and 4's take can: 4's, ended first, held C until its post at 7 ms, and 5's
    take, ended at 3 ms, had no legal place left. A post only raises a value: placed first
    it never makes another operation impossible, so when a semop's parts are in the pool
    a legal post goes before a legal wait."""
    h = Harness(
        [
            {"obj": "A", "type": "sysv_sem", "value": 0},
            {"obj": "B", "type": "sysv_sem", "value": 1},
            {"obj": "C", "type": "sysv_sem", "value": 1},
        ]
    )
    h.start(1, 4, 5)
    h.lin.add_records(1, [rec(C.SEM_POST, 6.5)])
    h.lin.add_records(
        4,
        [
            rec(C.SEM_WAIT_BEGIN, 0.5, obj=1),
            rec(C.SEM_WAIT, 5, obj=1),
            rec(C.SEM_WAIT_JOINED, 5, obj=2),
            rec(C.SEM_POST, 7, obj=1),
            rec(C.SEM_POST_JOINED, 7, obj=2),
        ],
    )
    h.lin.add_records(
        5,
        [
            rec(C.SEM_WAIT_BEGIN, 2, obj=2),
            rec(C.SEM_WAIT, 3, obj=2),
            rec(C.SEM_WAIT_JOINED, 3, obj=0),
            rec(C.SEM_POST, 4, obj=2),
            rec(C.SEM_POST_JOINED, 4, obj=0),
        ],
    )
    h.lin.flush()  # every record is in: what cannot be placed is a conflict now
    assert h.lin.conflicts == 0
    said = [(e["pid"], e["kind"], e["obj"]) for e in h.out if not e["kind"].endswith(".begin")]
    assert said[:3] == [(1, "sem.post", "A"), (5, "sem.wait", "C"), (5, "sem.wait", "A")]


def test_a_wait_that_ended_first_keeps_its_semaphores_from_a_later_wait() -> None:
    """Philosophers at --quick (a conflict in 1 of 5 runs): process 2's semop took A and B
    (ended 10 ms) after process 1 posted A, but 1 was descheduled between its semop and its
    record, stamped 20 ms. Until that record came, 2's take could not go (A at 0), and
    process 3's take of B and C (ended 12 ms) could: placed first, it held B until its post
    at 30 ms, after 2's take had ended, and 2's take had no legal place once 1's post came.
    A wait that ended first and cannot go yet is waiting for an explanation still on its
    way: a later wait on one of its semaphores waits too (at most ``STUCK_NS``)."""
    h = Harness(
        [
            {"obj": "A", "type": "sysv_sem", "value": 0},
            {"obj": "B", "type": "sysv_sem", "value": 1},
            {"obj": "C", "type": "sysv_sem", "value": 1},
        ]
    )
    h.start(1, 2, 3)
    h.lin.add_records(
        2,
        [
            rec(C.SEM_WAIT_BEGIN, 2, obj=0),
            rec(C.SEM_WAIT, 10, obj=0),
            rec(C.SEM_WAIT_JOINED, 10, obj=1),
            rec(C.SEM_POST, 11, obj=0),
            rec(C.SEM_POST_JOINED, 11, obj=1),
        ],
    )
    h.lin.add_records(
        3,
        [
            rec(C.SEM_WAIT_BEGIN, 3, obj=1),
            rec(C.SEM_WAIT, 12, obj=1),
            rec(C.SEM_WAIT_JOINED, 12, obj=2),
            rec(C.SEM_POST, 30, obj=1),
            rec(C.SEM_POST_JOINED, 30, obj=2),
        ],
    )
    h.lin.emit_ready(15 * MS)  # process 1's post is still on its way
    h.lin.add_records(1, [rec(C.SEM_POST, 20, obj=0)])
    h.lin.flush()
    assert h.lin.conflicts == 0
    said = [(e["pid"], e["kind"], e["obj"]) for e in h.out if not e["kind"].endswith(".begin")]
    assert said.index((2, "sem.wait", "A")) < said.index((3, "sem.wait", "B"))
