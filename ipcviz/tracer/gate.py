"""The worker's side of the step gate: announce the next operation, then wait to be let go.

Free-running, ``Tracer.gate`` reads one byte of the ring header and returns: this module is
not involved. In step mode the engine sets that byte; ``Tracer.gate`` then calls the hook
installed here, which records a ``gate.wait`` (the operation it is about to perform and on
which object), rings the engine's doorbell so the engine need not poll, and blocks reading
a gate pipe. Each byte the engine writes there lets exactly one operation through.

One gate per *thread*, so that the engine releases exactly the thread it chose: the thread
that installed the gate (the worker's main thread, or the thread that forked this process)
waits on the process's gate pipe, made by the engine before fork. Any other thread makes a
pipe of its own the first time it waits and names its descriptor in the ``gate.wait``
(``b`` of the record); the engine opens ``/proc/PID/fd/N`` for writing, which gives it a
write end of that very pipe (engine/gate.py). The thread keeps its own write end until the
first byte comes, so its read cannot see end-of-file before the engine holds one; after
that, end-of-file means the engine is gone, as on the process's gate. The pipe is closed
when the thread ends (its thread-local goes).
"""

from __future__ import annotations

import os
import threading

from ipcviz.tracer import codes as C
from ipcviz.tracer.current import set_gate, tracer

#: What a worker writes to the doorbell: any byte wakes the engine's poll.
_BELL = b"g"


class _ThreadGate:
    """A thread's own gate pipe: the engine opens its read end's /proc path to write."""

    __slots__ = ("r", "w")

    def __init__(self) -> None:
        self.r, self.w = os.pipe()  # (close-on-exec: an exec'd program has no gate)

    def opened(self) -> None:
        """The engine has a write end now: ours would hide the engine's end of file."""
        if self.w >= 0:
            os.close(self.w)
            self.w = -1

    def __del__(self) -> None:  # the thread ended: its gate goes with it
        for fd in (self.r, self.w):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass


def install(gate_r: int, bell_w: int) -> None:
    """Make this worker obey the engine's gate (called once, in the worker, before it starts)."""
    main = threading.get_ident()
    mine = threading.local()  # the gate of each other thread (made on its first wait)

    def wait_at_gate(code: int, obj: int) -> None:
        gate = None
        if threading.get_ident() != main:
            gate = getattr(mine, "gate", None)
            if gate is None:
                gate = mine.gate = _ThreadGate()
        # b: the thread's own gate (-1: the process's), so the engine releases this thread
        tracer.emit(C.GATE_WAIT, obj, code, gate.r if gate is not None else -1)
        try:
            os.write(bell_w, _BELL)
        except OSError:  # doorbell full (the engine is already awake) or the engine is gone
            pass
        # One byte = one operation. EOF means the engine is gone: carry on (and be killed).
        if gate is None:
            os.read(gate_r, 1)
        elif os.read(gate.r, 1):
            gate.opened()

    tracer.gate_hook = wait_at_gate
    set_gate(gate_r, bell_w)  # a child this worker forks gets a gate of its own
