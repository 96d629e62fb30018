"""System V semaphore (T32-T33): value, P (wait) and V (post), and the kernel's waiter count."""

from __future__ import annotations

from typing import Any

import sysv_ipc

from ipcviz.errors import KernelLimitError
from ipcviz.ipc.base import Session, env_name
from ipcviz.ipc.semaphore import CountingSemaphore
from ipcviz.ipc.sysv import sysv_key


class SysvSemaphore(CountingSemaphore):
    """One System V semaphore (a set of one); ``with sem:`` is P then V.

    ``undo``: every P and V is made with SEM_UNDO, so the kernel reverses what a process
    still holds when it dies (semop(2)); the engine records that as ``sem.undo``.
    """

    type = "sysv_sem"

    def __init__(self, name: str, value: int = 1, undo: bool = False) -> None:
        super().__init__(name, value)
        self.undo = undo
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
        self.sem.undo = self.undo  # inherited by every worker with the handle
        self.id = self.sem.id
        self.kernel_name = f"semid {self.id} (key {self.key:#x})"
        session.update(entry, {**entry, "id": self.id})

    def address(self) -> str:
        return str(self.id)  # what msgget/semget/shmget returned: the calls take the id

    def environment(self) -> dict[str, str]:
        """The id, and the key (``$IPCVIZ_<NAME>_KEY``) for a program that asks the
        kernel for the id itself."""
        return {**super().environment(), env_name(self.name) + "_KEY": str(self.key)}

    def declare(self) -> dict[str, Any]:
        undo = {"undo": True} if self.undo else {}
        return {**super().declare(), "key": self.key, "id": self.id, **undo}

    def destroy(self) -> None:
        if self.sem is not None:
            try:
                self.sem.remove()
            except sysv_ipc.ExistentialError:
                pass
            self.sem = None

    def _acquire(self) -> None:
        self.sem.acquire()  # type: ignore[union-attr]

    def _try_acquire(self) -> bool:
        sem = self.sem
        sem.block = False  # type: ignore[union-attr]
        try:
            sem.acquire()  # type: ignore[union-attr]
        except sysv_ipc.BusyError:
            return False
        finally:
            sem.block = True  # type: ignore[union-attr]
        return True

    def _release(self) -> None:
        self.sem.release()  # type: ignore[union-attr]

    @property
    def value(self) -> int:
        return self.sem.value  # type: ignore[union-attr]
