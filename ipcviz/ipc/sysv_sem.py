"""System V semaphore (T32-T33): value, P (wait) and V (post), and the kernel's waiter count."""

from __future__ import annotations

import time
from typing import Any

import sysv_ipc

from ipcviz.errors import KernelLimitError
from ipcviz.ipc.base import KernelObject, Session
from ipcviz.ipc.sysv import sysv_key
from ipcviz.tracer import codes as C
from ipcviz.tracer.current import tracer


class SysvSemaphore(KernelObject):
    """One System V semaphore (a set of one); ``with sem:`` is P then V."""

    type = "sysv_sem"

    def __init__(self, name: str, value: int = 1) -> None:
        super().__init__(name)
        if value < 0:
            raise ValueError("a semaphore's initial value cannot be negative")
        self.initial = value
        self.key = 0
        self.id = -1
        self.sem: sysv_ipc.Semaphore | None = None

    def create(self, session: Session) -> None:
        self.key = sysv_key(session.sid, self.name)
        entry = session.register({"type": self.type, "key": self.key})
        try:
            self.sem = sysv_ipc.Semaphore(
                self.key, sysv_ipc.IPC_CREX, mode=0o600, initial_value=self.initial
            )
        except (sysv_ipc.Error, ValueError, OSError) as exc:
            raise KernelLimitError(
                f"cannot create System V semaphore {self.name}: {exc} (see /proc/sys/kernel/sem)"
            ) from None
        self.id = self.sem.id
        self.kernel_name = f"semid {self.id} (key {self.key:#x})"
        session.update(entry, {**entry, "id": self.id})

    def declare(self) -> dict[str, Any]:
        return {**super().declare(), "key": self.key, "id": self.id, "value": self.initial}

    def destroy(self) -> None:
        if self.sem is not None:
            try:
                self.sem.remove()
            except sysv_ipc.ExistentialError:
                pass
            self.sem = None

    # -- used by workers ---------------------------------------------------------------

    def wait(self) -> None:
        """P: semop(-1); sleeps while the value is 0 (the kernel counts it in GETNCNT)."""
        t = tracer
        t.gate(C.SEM_WAIT_BEGIN, self.index)
        t.emit(C.SEM_WAIT_BEGIN, self.index)
        self.sem.acquire()  # type: ignore[union-attr]
        t.emit(C.SEM_WAIT, self.index)

    def try_wait(self) -> bool:
        """P with IPC_NOWAIT: False instead of sleeping."""
        tracer.gate(C.SEM_TRYWAIT, self.index)
        sem = self.sem
        sem.block = False  # type: ignore[union-attr]
        try:
            sem.acquire()  # type: ignore[union-attr]
        except sysv_ipc.BusyError:
            tracer.emit(C.SEM_TRYWAIT, self.index, 0)
            return False
        finally:
            sem.block = True  # type: ignore[union-attr]
        tracer.emit(C.SEM_TRYWAIT, self.index, 1)
        return True

    def post(self) -> None:
        """V: semop(+1); wakes a waiter."""
        t = tracer
        t.gate(C.SEM_POST, self.index)
        stamp = time.monotonic_ns()  # before the call: the waiter it wakes is recorded later
        self.sem.release()  # type: ignore[union-attr]
        t.emit(C.SEM_POST, self.index, t=stamp)

    @property
    def value(self) -> int:
        return self.sem.value  # type: ignore[union-attr]

    def __enter__(self) -> SysvSemaphore:
        self.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self.post()
