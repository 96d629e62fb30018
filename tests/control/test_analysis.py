"""The analyses on hand-made event streams: exact cases a real run cannot pin down."""

from __future__ import annotations

from ipcviz.model.analysis.holders import dead_holders
from ipcviz.model.analysis.races import lost_updates
from ipcviz.model.analysis.waitfor import (
    Edge,
    Wait,
    cycle_text,
    deadlock_text,
    describe,
    describe_stuck,
    edges_of,
    find_cycle,
)
from ipcviz.model.reducer import apply, apply_all
from ipcviz.model.state import State


def _stream(ops):
    """ops: (pid, "r"|"w", value) on counter[0] → events with procs a=1, b=2, c=3."""
    events = [
        {"t": 0, "seq": i, "pid": p, "kind": "proc.start", "name": n}
        for i, (p, n) in enumerate([(1, "a"), (2, "b"), (3, "c")])
    ]
    for pid, op, value in ops:
        kind = "shm.read" if op == "r" else "shm.write"
        events.append(
            {
                "t": 0,
                "seq": len(events),
                "pid": pid,
                "kind": kind,
                "obj": "counter",
                "offset": 0,
                "value": value,
            }
        )
    return events


def test_classic_overlap_loses_one_update():
    found = lost_updates(_stream([(1, "r", 0), (2, "r", 0), (1, "w", 1), (2, "w", 1)]))
    assert len(found) == 1
    assert found[0]["lost"]["proc"] == "a" and found[0]["by"]["proc"] == "b"
    assert found[0]["missing"] == 1


def test_serial_increments_lose_nothing():
    ops = [(p, k, v) for i, p in enumerate([1, 2, 3, 1]) for k, v in (("r", i), ("w", i + 1))]
    assert lost_updates(_stream(ops)) == []


def test_one_stale_write_can_erase_several_updates():
    # a reads 0; b increments twice; a writes 1: both of b's updates are gone
    ops = [(1, "r", 0), (2, "r", 0), (2, "w", 1), (2, "r", 1), (2, "w", 2), (1, "w", 1)]
    found = lost_updates(_stream(ops))
    assert [(u["lost"]["proc"], u["lost"]["wrote"]) for u in found] == [("b", 1), ("b", 2)]
    assert found[-1]["missing"] == 2  # 3 increments, value 1


def _sem_state(holders: dict[int, str], waits: dict[int, str], initial: int = 1) -> State:
    events = []
    for name in ("x", "y"):
        events.append(
            {
                "seq": 0,
                "t": 0,
                "pid": 0,
                "kind": "obj.declare",
                "obj": name,
                "type": "posix_sem",
                "value": initial,
            }
        )
    for pid in (1, 2, 3):
        events.append({"seq": 0, "t": 0, "pid": pid, "kind": "proc.start", "name": f"p{pid}"})
    for pid, obj in holders.items():
        events.append({"seq": 0, "t": 0, "pid": pid, "kind": "sem.wait", "obj": obj})
    for pid, obj in waits.items():
        events.append({"seq": 0, "t": 0, "pid": pid, "kind": "sem.wait.begin", "obj": obj})
    return apply_all(State(), events)


def _stuck(waits: dict[int, str]) -> dict[int, Wait]:
    """What the kernel would show: each of these processes asleep in sem_wait."""
    return {pid: Wait(pid, "sem", obj) for pid, obj in waits.items()}


def _post(s: State, pid: int, obj: str) -> None:
    apply(s, {"seq": 0, "t": 0, "pid": pid, "kind": "sem.post", "obj": obj})


def test_two_locks_in_opposite_order_make_a_cycle_of_holders():
    s = _sem_state({1: "x", 2: "y"}, {1: "y", 2: "x"})
    cycle = find_cycle(s, _stuck({1: "y", 2: "x"}))
    assert cycle is not None
    assert [(e.pid, e.obj, e.holder, e.how) for e in cycle] == [
        (1, "y", 2, "held"),
        (2, "x", 1, "held"),
    ]
    assert cycle_text(describe(s, cycle, _stuck({1: "y", 2: "x"}))) == (
        "p1 waits for y, held by p2 → p2 waits for x, held by p1"
    )


def test_a_lock_held_by_a_process_that_can_move_makes_no_cycle():
    # 3 → 1 → 2, and 2 is not stuck (the kernel does not list it): no cycle, no edge to 2
    s = _sem_state({1: "x", 2: "y"}, {1: "y", 3: "x"})
    stuck = _stuck({1: "y", 3: "x"})
    assert [(e.pid, e.holder) for e in edges_of(s, stuck[3], stuck)] == [(3, 1)]
    # y is a lock held by 2: only its holder ends that wait, never another stuck process
    assert edges_of(s, stuck[1], stuck) == []
    assert find_cycle(s, {3: stuck[3]}) is None


def test_a_semaphore_posted_by_a_process_that_did_not_take_it_has_no_holders():
    # readers-writers: p1 (first reader) takes x, p2 (last reader) posts it
    s = _sem_state({1: "x"}, {})
    assert dict(s.objects["x"].holders) == {1: 1} and not s.objects["x"].signal
    _post(s, 2, "x")
    assert s.objects["x"].signal and not s.objects["x"].holders
    # a later take is not "holding" either: x is a signal for good
    apply(s, {"seq": 0, "t": 0, "pid": 3, "kind": "sem.wait", "obj": "x"})
    assert not s.objects["x"].holders and s.objects["x"].posters == {2}


def test_a_lock_taken_and_posted_by_the_same_process_keeps_its_holder_logic():
    s = _sem_state({1: "x"}, {})
    _post(s, 1, "x")
    apply(s, {"seq": 0, "t": 0, "pid": 2, "kind": "sem.wait", "obj": "x"})
    assert dict(s.objects["x"].holders) == {2: 1} and not s.objects["x"].signal


def test_a_signal_semaphore_names_who_posted_it_before():
    s = _sem_state({}, {}, initial=0)
    _post(s, 2, "x")
    apply(s, {"seq": 0, "t": 0, "pid": 1, "kind": "sem.wait", "obj": "x"})
    stuck = _stuck({1: "x", 2: "y", 3: "y"})
    assert edges_of(s, stuck[1], stuck) == [Edge(1, "x", 2, "poster")]
    # anyone else, but not 3: asleep on y too, it can post y only after someone did
    assert [e.holder for e in edges_of(s, stuck[2], stuck)] == [1]


def test_pipe_waits_name_the_only_writer_in_the_cycle():
    s = State()
    for pid, name in ((1, "a"), (2, "b")):
        apply(s, {"seq": 0, "t": 0, "pid": pid, "kind": "proc.start", "name": name})
    stuck = {1: Wait(1, "read", "p", (2,)), 2: Wait(2, "read", "q", (1,))}
    cycle = find_cycle(s, stuck)
    assert cycle is not None
    text = cycle_text(describe(s, cycle, stuck))
    assert (
        text
        == "a waits to read p, whose only writer is b → b waits to read q, whose only writer is a"
    )


def test_a_wait_nobody_stuck_can_end_is_named_without_a_cycle():
    s = _sem_state({}, {}, initial=0)
    stuck = _stuck({1: "x"})
    assert find_cycle(s, stuck) is None
    event = {"cycle": [], "stuck": describe_stuck(s, stuck)}
    assert deadlock_text(event) == "p1 waits: sem x (nobody left can end it)"


def test_waiters_stranded_on_one_lock_by_its_dead_holder_are_no_cycle():
    """p3 took x as a lock and died; p1 and p2 sleep on x: neither can post x before it
    gets x, so neither waits for the other (tests/faults/test_holders.py: the real run)."""
    s = _sem_state({3: "x"}, {})
    apply(s, {"seq": 0, "t": 0, "pid": 3, "kind": "proc.exit", "code": 0})
    assert dead_holders(s, s.objects["x"]) == [(3, 1)]
    stuck = _stuck({1: "x", 2: "x"})
    assert edges_of(s, stuck[1], stuck) == [] and edges_of(s, stuck[2], stuck) == []
    assert find_cycle(s, stuck) is None
    assert describe_stuck(s, stuck)[0]["by"] == []
