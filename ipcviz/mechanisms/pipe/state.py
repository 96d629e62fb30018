"""A pipe's or FIFO's state as the model knows it: its bytes in order, who holds its ends."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ipcviz.model.state import Obj


@dataclass
class PipeObj(Obj):
    capacity: int = 65536
    chunks: deque[list[Any]] = field(default_factory=deque)  # [writer pid, bytes], oldest first
    nbytes: int = 0
    deficit: int = 0  # bytes read before their write record arrived (operations in flight)
    written: int = 0
    read: int = 0
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

    def contents(self) -> bytes:
        return b"".join(c[1] for c in self.chunks)
