"""What a stop's SIGKILL brings about waits for the reaps: a reader whose writer the stop
killed first may read end of file before its own SIGKILL comes, and that read is legal
only after the writer's ``proc.exit``, which the engine adds when it reaps the writer.
Real rings and the real drain (``Drainer.drain_killed``), the stamps set by hand."""

from __future__ import annotations

import time

from ipcviz.engine.drain import Drainer
from ipcviz.engine.linearize import STUCK_NS
from ipcviz.tracer import codes as C
from ipcviz.tracer.ring import Ring
from tests.truth.test_fork_hold import _close_rings, _worker  # noqa: F401 (a fixture)
from tests.truth.test_linearize import Harness

PIPE = {"obj": "p", "type": "pipe", "capacity": 65536, "writers": ["p1"], "readers": ["p2"]}


def _killed_flood() -> tuple[Harness, Drainer, int]:
    """The writer (1) and the reader (2) on one pipe, long enough ago that the end of
    file is ``STUCK_NS`` old when the shutdown orders it (a big backlog does that)."""
    h = Harness([PIPE])
    h.start(1, 2)
    writer, reader = Ring(), Ring()
    workers = {1: _worker(1, writer), 2: _worker(2, reader)}
    drainer = Drainer(workers, h.lin, lambda: None, lambda: True)  # no hold
    w, r = writer.writer(), reader.writer()
    t = time.monotonic_ns() - 3 * STUCK_NS
    w(C.PIPE_WRITE_BEGIN, 0, 1, 0, b"", t)
    w(C.PIPE_WRITE, 0, 1, 1, b"x", t + 10)
    r(C.PIPE_READ_BEGIN, 0, 1, 0, b"", t + 20)
    r(C.PIPE_READ, 0, 1, 0, b"x", t + 30)
    killed_at = t + 40  # the stop kills the writer, then the reader
    r(C.PIPE_READ_BEGIN, 0, 1, 0, b"", t + 50)
    r(C.PIPE_READ, 0, 0, 0, b"", t + 60)  # woken by the writer's death: end of file
    return h, drainer, killed_at


def test_an_end_of_file_after_the_stops_kill_waits_for_the_writers_exit() -> None:
    h, drainer, killed_at = _killed_flood()
    drainer.drain_killed(killed_at, lambda: False)
    assert h.lin.conflicts == 0
    assert [e["kind"] for e in h.out if e["kind"] == "pipe.read"] == ["pipe.read"]
    # the reap: the writer's exit (after its last record, by now), then the reader's
    now = time.monotonic_ns()
    h.lin.add_event({"t": now, "seq": -1, "pid": 1, "kind": "proc.exit", "code": None}, now, 1)
    h.lin.add_event({"t": now, "seq": -1, "pid": 2, "kind": "proc.exit", "code": None}, now, 2)
    h.lin.flush()
    assert h.lin.conflicts == 0
    assert [(e["pid"], e["kind"]) for e in h.out if not e["kind"].endswith(".begin")] == [
        (1, "pipe.write"),
        (2, "pipe.read"),
        (1, "proc.exit"),
        (2, "pipe.read"),
        (2, "proc.exit"),
    ]


def test_without_the_kill_horizon_that_end_of_file_is_a_conflict() -> None:
    """The same records drained as in the loop: the end of file is STUCK_NS old and the
    writer's exit not there yet, so it is said to be a conflict (what the horizon avoids)."""
    h, drainer, _ = _killed_flood()
    h.lin._publish_record = lambda *_: None  # type: ignore  # (the harness checks each)
    drainer.drain()
    assert h.lin.conflicts > 0


def test_stopped_twice_nothing_more_is_published() -> None:
    """``hurried`` (the engine's: the user stopped twice) is asked before the first
    operation: ``halt`` was asked only after 255, so the stop's own drains went on
    publishing a backlog of thousands, 255 at a time, and the "at once" end left nothing
    out."""
    h, drainer, _ = _killed_flood()
    h.lin.hurried = lambda: True
    drainer.drain()
    assert h.out == [] and h.lin.abandon() == 3  # the three operations, said left out


def test_a_traced_childs_start_kept_at_the_hurried_end_is_placed_without_a_conflict() -> None:
    """A traced child's ``proc.start`` is an engine event (strace's lines name it), and
    its operations after it are left out by the hurried end. Put back with ``add_event``,
    the start began at the last stamp of those left-out operations, after its own end: no
    order could place it, and a fork flood's second stop (or a viewer killed, which ends
    the same way) gave thousands of ``order.conflict`` with ``obj: null``, which ``verify``
    refused to read."""
    h = Harness([PIPE])
    h.start(1)
    start = {"t": 100, "seq": -1, "pid": 2, "kind": "proc.start", "name": "p2", "parent": 1}
    h.lin.started(2, 100)
    h.lin.add_event(start, 100, 2)
    h.lin.add_records(
        2, [(C.PIPE_WRITE_BEGIN, 0, 200, 0, 0, b""), (C.PIPE_WRITE, 0, 300, 1, 1, b"x")]
    )
    assert h.lin.abandon() == 1  # the write, left out; the start kept
    h.lin.add_event({"t": 400, "seq": -1, "pid": 2, "kind": "proc.exit", "code": 0}, 400, 2)
    h.lin.flush()
    assert h.lin.conflicts == 0
    assert [(e["pid"], e["kind"]) for e in h.out] == [(2, "proc.start"), (2, "proc.exit")]


def test_a_traced_childs_start_comes_after_what_ended_before_it() -> None:
    """strace names a child at its fork's return (``t``), and it may exist from the fork's
    entry on (``started``). Its ``proc.start`` is an instant at ``t`` for ``verify``; the
    linearizer let it begin at ``started`` and placed it before a write that ended before
    ``t`` but had to wait for a read (a 6-process mesh: "real-time: mq.send ended at …,
    before seq 30 began", 2 runs of 6)."""
    pipe = {**PIPE, "capacity": 1, "writers": ["p1"], "readers": ["p3"]}
    h = Harness([pipe])
    h.start(1, 3)
    h.lin.add_records(1, [(C.PIPE_WRITE_BEGIN, 0, 0, 0, 0, b""), (C.PIPE_WRITE, 0, 10, 1, 1, b"a")])
    h.lin.add_records(3, [(C.PIPE_READ_BEGIN, 0, 20, 0, 0, b"")])
    h.lin.add_records(
        1, [(C.PIPE_WRITE_BEGIN, 0, 250, 0, 0, b""), (C.PIPE_WRITE, 0, 280, 1, 1, b"b")]
    )
    h.lin.started(2, 100)  # the fork's entry
    start = {"t": 300, "seq": -1, "pid": 2, "kind": "proc.start", "name": "p2", "parent": 1}
    h.lin.add_event(start, 300, 2)  # its return
    h.lin.add_records(3, [(C.PIPE_READ, 0, 400, 1, 0, b"a")])
    h.lin.flush()
    assert h.lin.conflicts == 0
    order = [(e["pid"], e["kind"]) for e in h.out if not e["kind"].endswith(".begin")]
    assert order.index((1, "pipe.write"), 1) < order.index((2, "proc.start")), order
