"""POSIX named semaphore (T32, T33): ``wait`` blocks while the value is 0."""

from __future__ import annotations

import posix_ipc

from ipcviz.errors import KernelLimitError
from ipcviz.ipc.base import Session
from ipcviz.ipc.semaphore import CountingSemaphore
from ipcviz.session.registry import posix_name


class Semaphore(CountingSemaphore):
    """A counting semaphore; ``with sem:`` is wait then post."""

    type = "posix_sem"

    def __init__(self, name: str, value: int = 1) -> None:
        super().__init__(name, value)
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
        except OSError as exc:  # a POSIX semaphore is a small file in /dev/shm
            raise KernelLimitError(
                f"cannot create semaphore {self.name} in /dev/shm: {exc.strerror}"
                " (see `df -h /dev/shm`)"
            ) from None

    def destroy(self) -> None:
        if self.sem is not None:
            try:
                self.sem.unlink()
            except posix_ipc.ExistentialError:
                pass
            self.sem.close()
            self.sem = None

    def _acquire(self) -> None:
        self.sem.acquire()  # type: ignore[union-attr]

    def _try_acquire(self) -> bool:
        try:
            self.sem.acquire(0)  # type: ignore[union-attr]
        except posix_ipc.BusyError:
            return False
        return True

    def _release(self) -> None:
        self.sem.release()  # type: ignore[union-attr]
