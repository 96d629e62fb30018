"""Two readers of one pipe: which read took which bytes is told only by how many were
written by when. A read whose reader slept in it across a stall may have been served
last; placed first, it took bytes the other reader's reads, ending sooner, needed."""

from __future__ import annotations

from ipcviz.tracer import codes as C
from tests.truth.test_linearize import Harness

PIPE = {"obj": "p", "type": "pipe", "capacity": 65536, "writers": ["p1"], "readers": ["p2", "p3"]}


def _write(b: int, e: int) -> list[tuple]:
    return [(C.PIPE_WRITE_BEGIN, 0, b, 0, 0, b""), (C.PIPE_WRITE, 0, e, 5, 5, b"abcde")]


def _read(b: int, e: int) -> list[tuple]:
    return [(C.PIPE_READ_BEGIN, 0, b, 0, 0, b""), (C.PIPE_READ, 0, e, 5, 0, b"abcde")]


def test_a_long_read_does_not_take_the_bytes_a_sooner_read_needs() -> None:
    """A writer of 5-byte writes, a reader of 5-byte reads, and a second reader asleep in
    one read from before the first write to after the last. By its third read's end the
    first reader has read all 15 bytes written by then, so the long read took the last
    write's. ``_consumer_first`` put it first, ahead of a write (a write never hurts a
    read), and the third read found the pipe empty: ``order.conflict`` on a correct
    program (two readers of a FIFO, most runs of a loaded machine)."""
    h = Harness([PIPE])
    h.start(1, 2, 3)
    h.lin.add_records(1, _write(0, 10) + _write(11, 16) + _write(30, 36) + _write(60, 66))
    h.lin.add_records(2, _read(17, 18) + _read(38, 45) + _read(50, 55))
    h.lin.add_records(3, _read(5, 70))
    h.lin.flush()  # (the harness checks each event is legal as it is published)
    assert h.lin.conflicts == 0
    order = [(e["pid"], e["kind"]) for e in h.out if not e["kind"].endswith(".begin")]
    assert order[-2:] == [(1, "pipe.write"), (3, "pipe.read")], order
