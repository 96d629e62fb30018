"""A pipe's or FIFO's state as the model knows it: its bytes in order, who holds its ends."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ipcviz.model.state import Obj


@dataclass
class PipeObj(Obj):
    capacity: int = 65536
    #: [writer pid, bytes], oldest first; [writer pid, bytes, known] where only the first
    #: ``known`` bytes were recorded (a write past the tracer's cut: the rest are zeros
    #: the model holds for bytes it does not know, drawn as ``bytefmt.UNRECORDED``)
    chunks: deque[list[Any]] = field(default_factory=deque)
    nbytes: int = 0
    deficit: int = 0  # bytes read before their write record arrived (operations in flight)
    written: int = 0
    read: int = 0
    #: a write the tracer cut (``MAX_PAYLOAD``) put bytes no record shows, and the pipe has
    #: not been empty since: which bytes it holds, in what order, is not known (where the
    #: pieces of such a write went among other writers' cannot be read off the reads), so
    #: a read is checked by its count, not its bytes
    unsure: bool = False
    writes: int = 0
    eof: bool = False
    epipe: int = 0
    #: bytes read that no traced write put there: from before the attach or from a
    #: process ipcviz does not watch (an ``outside`` object only)
    from_outside: int = 0
    #: those bytes, oldest first, while no traced write explains them: a write placed
    #: after the read that took its bytes (both in flight at once) explains them then
    unexplained: bytes = b""
    readers: set[int] = field(default_factory=set)  # pids holding the read end
    writers: set[int] = field(default_factory=set)
    named: bool = False  # opened by a path (mkfifo): a new open after the last close is possible
    #: A FIFO whose last open end closed while it held bytes: the kernel freed them with
    #: the pipe, unless an open of it was in flight then (a process asleep in ``open()``
    #: already holds it), which the events cannot always tell. Each ``k`` here says "the
    #: first ``k`` bytes of ``chunks`` may be gone" (ascending; keeping them all is always
    #: one possible world too). The first read or end of file that only some worlds explain
    #: decides (``model.py``); until then every one of them is legal.
    gone: list[int] = field(default_factory=list)
    gone_t: int = -1  # when the latest such last close was (its event's t) ...
    gone_seq: int = -1  # ... and its seq
    dropped: int = 0  # bytes a read or end of file showed gone (the kernel freed them)
    dropped_seq: int = -1  # the event that showed it ...
    dropped_last: int = 0  # ... and how many it showed

    def contents(self) -> bytes:
        return b"".join(c[1] for c in self.chunks)

    def unrecorded(self) -> int:
        """How many of the bytes it holds the trace did not record (``chunks``' known)."""
        return sum(len(c[1]) - c[2] for c in self.chunks if len(c) > 2)

    @property
    def stale(self) -> int:
        """Bytes at the front that may be gone (0: the model knows they are there)."""
        return self.gone[-1] if self.gone else 0

    def room(self) -> int:
        """Room for a write in the world with the most of it (stale bytes gone)."""
        return self.capacity - self.nbytes + (self.gone[-1] if self.gone else 0)
