"""A fork holds back what is published until its child is known: the child's first record
(``proc.start``, stamped in the child) is in a ring the engine learns of only when the
child announces it. Real rings and the real drain; the gate's step mode (no hold)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from ipcviz.engine.drain import Drainer
from ipcviz.engine.workers import Worker
from ipcviz.tracer import codes as C
from ipcviz.tracer.ring import Ring
from tests.truth.test_linearize import Harness

QUEUE = {"obj": "q", "type": "sysv_mq", "max_bytes": 16384, "max_message_size": 8192}


def _worker(pid: int, ring: Ring) -> Worker:
    return Worker(proc=SimpleNamespace(name=f"p{pid}"), pid=pid, color=0, ring=ring, out_fd=-1)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _close_rings(monkeypatch: pytest.MonkeyPatch):
    """Every ring a test makes is closed after it (a memfd and a mapping each)."""
    made: list[Ring] = []
    init = Ring.__init__

    def tracked(self: Ring, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(Ring, "__init__", tracked)
    yield
    for ring in made:
        ring.close()


def _setup() -> tuple[Harness, dict[int, Worker], Drainer, Ring, Any]:
    h = Harness([QUEUE])
    h.start(1, 2)
    parent, other = Ring(), Ring()
    workers = {1: _worker(1, parent), 2: _worker(2, other)}
    drainer = Drainer(workers, h.lin, lambda: None, lambda: True)  # step mode: no hold
    return h, workers, drainer, parent, other.writer()


def _sends(h: Harness) -> int:
    return sum(e["kind"] == "mq.send" for e in h.out)


def test_nothing_stamped_after_a_fork_is_published_before_the_child_is_announced() -> None:
    h, _, drainer, parent, other = _setup()
    began = parent.fork_began()
    other(C.MSGQ_SEND_BEGIN, 0, 1, 2)  # another process, stamped after the fork began
    other(C.MSGQ_SEND, 0, 1, 2, b"hi")
    drainer.drain()
    assert _sends(h) == 0  # the child's start, stamped before, may still come
    parent.fork_ended(began)
    drainer.drain()
    assert _sends(h) == 1


def test_a_child_announced_while_the_rings_were_read_holds_this_turn_back() -> None:
    """Its parent's fork ended (so ``forking`` read 0) after the first look for
    announcements: the second look, after the rings, finds it, and its ring (not read
    yet) holds the cutoff back until the next turn reads it."""
    h, workers, drainer, _, other = _setup()
    other(C.MSGQ_SEND_BEGIN, 0, 1, 2)
    other(C.MSGQ_SEND, 0, 1, 2, b"hi")
    looks = []

    def adopt() -> None:
        looks.append(1)
        if len(looks) == 2:  # announced between the first look and the second
            h.start(3)
            workers[3] = _worker(3, Ring())

    drainer.adopt_announced = adopt
    drainer.drain()
    assert _sends(h) == 0
    drainer.drain()
    assert _sends(h) == 1


def test_a_ring_read_in_part_still_holds_back_past_its_fork(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ring with more records than a turn reads (``DRAIN_LIMIT``) was taken to be read up
    to its last record drained, past the stamp of a fork under way: a thread of the forking
    process that kept sending (its records after the fork began) let another process's
    send, stamped after the fork, be published before the child was announced."""
    monkeypatch.setattr("ipcviz.engine.drain.DRAIN_LIMIT", 4)
    h, _, drainer, parent, other = _setup()
    mine = parent.writer()
    began = parent.fork_began()
    other(C.MSGQ_SEND_BEGIN, 0, 1, 2)  # another process, stamped after the fork began
    other(C.MSGQ_SEND, 0, 1, 2, b"hi")
    for _ in range(3):  # a thread of the parent sends on while another one forks
        mine(C.MSGQ_SEND_BEGIN, 0, 1, 2)
        mine(C.MSGQ_SEND, 0, 1, 2, b"me")
    drainer.drain()
    assert _sends(h) == 0  # the child's start, stamped before them, may still come
    parent.fork_ended(began)
    while drainer.drain():
        pass
    drainer.drain()
    assert _sends(h) == 4


def test_two_threads_forking_at_once_each_hold_until_their_own_child_is_announced() -> None:
    """One word for the process: the first fork to end cleared the hold of the other,
    whose child was not announced yet, and a send stamped after both forks began was
    published before that child's ``proc.start`` could be known."""
    h, _, drainer, parent, other = _setup()
    a = parent.fork_began()  # two threads of the worker fork at once
    b = parent.fork_began()
    other(C.MSGQ_SEND_BEGIN, 0, 1, 2)
    other(C.MSGQ_SEND, 0, 1, 2, b"hi")
    parent.fork_ended(a)  # the first child announced; the second not yet
    drainer.drain()
    assert _sends(h) == 0
    parent.fork_ended(b)
    drainer.drain()
    assert _sends(h) == 1
