"""The worker's side of the step gate: announce the next operation, then wait to be let go.

Free-running, ``Tracer.gate`` reads one byte of the ring header and returns: this module is
not involved. In step mode the engine sets that byte; ``Tracer.gate`` then calls the hook
installed here, which records a ``gate.wait`` (the operation it is about to perform and on
which object), rings the engine's doorbell so the engine need not poll, and blocks reading
its own gate pipe. Each byte the engine writes there lets exactly one operation through.
"""

from __future__ import annotations

import os

from ipcviz.tracer import codes as C
from ipcviz.tracer.current import set_gate, tracer

#: What a worker writes to the doorbell: any byte wakes the engine's poll.
_BELL = b"g"


def install(gate_r: int, bell_w: int) -> None:
    """Make this worker obey the engine's gate (called once, in the worker, before it starts)."""

    def wait_at_gate(code: int, obj: int) -> None:
        tracer.emit(C.GATE_WAIT, obj, code)
        try:
            os.write(bell_w, _BELL)
        except OSError:  # doorbell full (the engine is already awake) or the engine is gone
            pass
        # One byte = one operation. EOF means the engine is gone: carry on (and be killed).
        os.read(gate_r, 1)

    tracer.gate_hook = wait_at_gate
    set_gate(gate_r, bell_w)  # a child this worker forks gets a gate of its own
