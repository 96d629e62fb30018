"""What POSIX and System V semaphores share: P/V with their records, and ``with sem:``."""

from __future__ import annotations

from typing import Any

from ipcviz.ipc.base import KernelObject
from ipcviz.mechanisms.posix_sem import codes as C
from ipcviz.tracer.current import tracer


class CountingSemaphore(KernelObject):
    """A counting semaphore; subclasses say how the kernel takes and gives a unit."""

    def __init__(self, name: str, value: int = 1) -> None:
        super().__init__(name)
        if value < 0:
            raise ValueError("a semaphore's initial value cannot be negative")
        self.initial = value

    def declare(self) -> dict[str, Any]:
        return {**super().declare(), "value": self.initial}

    def _acquire(self) -> None:
        raise NotImplementedError

    def _try_acquire(self) -> bool:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError

    # -- used by workers ---------------------------------------------------------------

    def wait(self) -> None:
        """P: take one unit, sleeping in the kernel while there is none (T33)."""
        t = tracer
        t.gate(C.SEM_WAIT_BEGIN, self.index)
        t.emit(C.SEM_WAIT_BEGIN, self.index)
        self._acquire()
        t.emit(C.SEM_WAIT, self.index)

    def try_wait(self) -> bool:
        """P without sleeping: False if there is no unit."""
        tracer.gate(C.SEM_TRYWAIT, self.index)
        ok = self._try_acquire()
        tracer.emit(C.SEM_TRYWAIT, self.index, int(ok))
        return ok

    def post(self) -> None:
        """V: give one unit back, waking one waiter."""
        t = tracer
        t.gate(C.SEM_POST, self.index)
        # Recorded when it returns, like every call: the engine places it between this
        # process's previous record and this one, before the wait it ends (linearize.py).
        self._release()
        t.emit(C.SEM_POST, self.index)

    def __enter__(self) -> CountingSemaphore:
        self.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self.post()
