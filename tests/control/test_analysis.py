"""The analyses on hand-made event streams: exact cases a real run cannot pin down."""

from __future__ import annotations

from ipcviz.model.analysis.races import lost_updates
from ipcviz.model.analysis.waitfor import find_cycle, wait_for_edges
from ipcviz.model.reducer import apply_all
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


def test_two_locks_in_opposite_order_make_a_cycle():
    s = _sem_state({1: "x", 2: "y"}, {1: "y", 2: "x"})
    cycle = find_cycle(s)
    assert cycle is not None
    assert [(e.pid, e.obj, e.holder) for e in cycle] == [(1, "y", 2), (2, "x", 1)]


def test_a_chain_without_a_cycle_is_no_deadlock():
    s = _sem_state({1: "x", 2: "y"}, {1: "y", 3: "x"})  # 3 → 1 → 2, and 2 runs
    assert len(wait_for_edges(s)) == 2 and find_cycle(s) is None


def test_counting_semaphores_make_no_edges():
    s = _sem_state({1: "x", 2: "y"}, {1: "y", 2: "x"}, initial=2)
    assert find_cycle(s) is None  # value still 1 each: nobody would even block
