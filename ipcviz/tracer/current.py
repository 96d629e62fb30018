"""The tracer of *this* process. Wrappers call ``current.tracer.emit``.

Outside a worker (or with tracing off, for baselines) it is a no-op, so scenario code runs
the same with or without ipcviz watching.
"""

from __future__ import annotations

import os
from collections.abc import Callable


def _noop(code: int, obj: int, a: int = 0, b: int = 0, payload: bytes = b"", t: int = 0) -> None:
    return None


class Tracer:
    """What a wrapper needs: ``emit`` a record, and pass the step ``gate`` before an operation."""

    __slots__ = ("_flag", "emit", "gate_hook")

    def __init__(self) -> None:
        self.emit: Callable[..., None] = _noop
        self._flag = bytearray(64)  # replaced by the ring's mmap; byte 24 is the gate flag
        self.gate_hook: Callable[[int, int], None] | None = None

    def gate(self, code: int, obj: int) -> None:
        """Free-running this is one byte read; in step mode the engine decides who moves."""
        if self._flag[24] and self.gate_hook is not None:
            self.gate_hook(code, obj)

    def hold(self, code: int, always: bool = False) -> None:
        """Presenter mode: wait at the gate (after a narration step) until the presenter
        continues. The same gate as step mode; the engine keeps it closed until → .
        ``always``: wait in any mode (the engine probes the kernel, then lets it go)."""
        if (always or self._flag[32]) and self.gate_hook is not None:
            self.gate_hook(code, -1)

    def attach(self, ring) -> None:  # ring: ipcviz.tracer.ring.Ring
        self.emit = ring.writer()
        self._flag = ring.mm

    def detach(self) -> None:
        self.emit = _noop
        self._flag = bytearray(64)
        self.gate_hook = None


tracer = Tracer()

# A process forked by a worker must not write into its parent's ring (two writers would
# corrupt it): its records would be wrong anyway, so tracing stops in such children.
_owner = [0]


def _after_fork_in_child() -> None:
    if _owner[0] and os.getpid() != _owner[0]:
        tracer.detach()
        _owner[0] = 0


os.register_at_fork(after_in_child=_after_fork_in_child)


def become_worker(ring) -> None:
    """Called once in a freshly forked worker: records from here on go to ``ring``."""
    tracer.attach(ring)
    _owner[0] = os.getpid()
