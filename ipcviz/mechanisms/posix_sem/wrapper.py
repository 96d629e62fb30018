"""POSIX named semaphore (T32, T33): ``wait`` blocks while the value is 0."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os

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
            create_sem_file(self.kernel_name, self.initial)
            self.sem = posix_ipc.Semaphore(self.kernel_name)  # opens the file made above
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


#: glibc's sem_t: 32 bytes on 64-bit, 16 on 32-bit (``__SIZEOF_SEM_T``).
SEM_T_SIZE = 4 * ctypes.sizeof(ctypes.c_void_p)
SEM_VALUE_MAX = 0x7FFFFFFF


def create_sem_file(kernel_name: str, value: int) -> None:
    """Create the named semaphore ``/dev/shm/sem.NAME`` directly under its own name.

    glibc's ``sem_open(O_CREAT)`` first writes a temporary ``/dev/shm/sem.XXXXXX`` and
    links it to the name: an engine killed in between (SIGKILL cannot be blocked) leaves
    a file no session can prove its own, which ``ipcviz clean`` must then leave behind.
    Here the only file ever created is the registered name (O_EXCL, 0600, no symlink
    followed), filled with the bytes ``sem_init(pshared=1)`` gives, which is what glibc's
    ``sem_open`` writes; a kill mid-way leaves that registered name, which clean removes.
    """
    if not 0 <= value <= SEM_VALUE_MAX:
        raise ValueError(f"the initial value must be in 0..{SEM_VALUE_MAX}")
    buf = ctypes.create_string_buffer(SEM_T_SIZE)  # zeroed, as glibc zeroes the rest
    if _libc.sem_init(buf, 1, value) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    path = "/dev/shm/sem." + kernel_name.lstrip("/")
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    try:
        if os.write(fd, buf.raw) != SEM_T_SIZE:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    except OSError:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)


_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.sem_init.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_uint)
_libc.sem_init.restype = ctypes.c_int
