"""POSIX named semaphore (T32, T33): ``wait`` blocks while the value is 0."""

from __future__ import annotations

import time
from typing import Any

import posix_ipc

from ipcviz.errors import KernelLimitError
from ipcviz.ipc.base import KernelObject, Session
from ipcviz.session.registry import posix_name
from ipcviz.tracer import codes as C
from ipcviz.tracer.current import tracer


class Semaphore(KernelObject):
    """A counting semaphore; ``with sem:`` is wait then post."""

    type = "posix_sem"

    def __init__(self, name: str, value: int = 1) -> None:
        super().__init__(name)
        if value < 0:
            raise ValueError("a semaphore's initial value cannot be negative")
        self.initial = value
        self.sem: posix_ipc.Semaphore | None = None

    def create(self, session: Session) -> None:
        self.kernel_name = posix_name(session.sid, self.name)
        session.register({"type": self.type, "name": self.kernel_name})
        try:
            self.sem = posix_ipc.Semaphore(
                self.kernel_name, posix_ipc.O_CREX, mode=0o600, initial_value=self.initial
            )
        except ValueError as exc:
            raise KernelLimitError(f"semaphore {self.name}: {exc} (SEM_VALUE_MAX)") from None

    def declare(self) -> dict[str, Any]:
        return {**super().declare(), "value": self.initial}

    def destroy(self) -> None:
        if self.sem is not None:
            try:
                self.sem.unlink()
            except posix_ipc.ExistentialError:
                pass
            self.sem.close()
            self.sem = None

    # -- used by workers ---------------------------------------------------------------

    def wait(self) -> None:
        """P / sem_wait: take one unit, blocking while there is none (T33)."""
        t = tracer
        t.gate(C.SEM_WAIT_BEGIN, self.index)
        t.emit(C.SEM_WAIT_BEGIN, self.index)
        self.sem.acquire()  # type: ignore[union-attr]
        t.emit(C.SEM_WAIT, self.index)

    def try_wait(self) -> bool:
        """sem_trywait: take one unit if there is one, never block."""
        tracer.gate(C.SEM_TRYWAIT, self.index)
        try:
            self.sem.acquire(0)  # type: ignore[union-attr]
        except posix_ipc.BusyError:
            tracer.emit(C.SEM_TRYWAIT, self.index, 0)
            return False
        tracer.emit(C.SEM_TRYWAIT, self.index, 1)
        return True

    def post(self) -> None:
        """V / sem_post: give one unit back, waking one waiter."""
        t = tracer
        t.gate(C.SEM_POST, self.index)
        # Stamp the time *before* the post: a waiter it wakes is always recorded after it.
        stamp = time.monotonic_ns()
        self.sem.release()  # type: ignore[union-attr]
        t.emit(C.SEM_POST, self.index, t=stamp)

    def __enter__(self) -> Semaphore:
        self.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self.post()
