"""A correct program's POSIX queue with priorities, kept full: a recorded history fed to the
linearizer must come out as a legal order, without an ``order.conflict``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.truth.test_linearize import _backlog, _in_turns

DATA = Path(__file__).parent / "data" / "posix_prio_10slots.json"
UNTOLD = Path(__file__).parent / "data" / "posix_prio_untold.json"


@pytest.mark.parametrize("turns", [0, 40], ids=["whole", "in-turns"])
def test_a_full_priority_queue_is_not_shown_holding_more_than_its_slots(turns: int) -> None:
    """A lecturer's program (5 senders of priorities 10 and 1, 5 receivers, a queue of 10
    slots): 12 of 48 runs showed ``[11 queued]`` … ``[14 queued]`` and a normal message
    taken while an urgent one waited, its own checks all passing. The search placed a
    send in front of another sender's concurrent one of the same priority, though a
    receive had to take that one to make room in time; that showed only when the queue
    filled, 25 steps later, and the search ran out of its budget going back through the
    orders in between: its guess was committed. Fed whole, the Harness stopped at a send
    to a full queue (10/10); in turns, at a receive of a message the kernel does not
    select. (Every event is checked: ``Harness``.)"""
    h, history = _backlog(DATA, "posix_mq")
    if turns:
        for now, step in _in_turns(h, history, turns):
            h.lin.emit_ready(now - step // 4, now)
    else:
        for pid, records in history.items():
            h.lin.add_records(pid, records)
    h.lin.flush()
    assert h.lin.conflicts == 0
    assert sum(e["kind"] == "mq.recv" for e in h.out) == 505  # every message, taken


def test_a_send_is_not_committed_before_a_concurrent_one_of_its_priority_untold() -> None:
    """The same program, 3 senders and 2 receivers (a run's first 2,160 queue operations,
    fed whole). An order found put a send (``2:1:292``, 232.583-232.601 ms) in front of
    another sender's send of the same priority in progress (``1:1:456``, 232.571-232.620),
    and no receive the search had to place got either message: only a receive past its
    horizon tells which came first. That order was committed, and the receives past it
    had no explanation (the Harness stopped at a send to a full queue, 10/10). A FIFO
    queue's order was cut there already (``_upto_untold``); a queue of several priorities
    now is too, for two messages of one priority."""
    h, history = _backlog(UNTOLD, "posix_mq")
    for pid, records in history.items():
        h.lin.add_records(pid, records)
    h.lin.flush()
    assert h.lin.conflicts == 0
    assert sum(e["kind"] == "mq.recv" for e in h.out) == 1075  # every event legal (Harness)
