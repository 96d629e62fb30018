"""System V shared memory (shmget/shmat): what most C courses use, seen as integer cells.

The same cells and records as POSIX shared memory (``shm.read``/``shm.write``): only the way
the segment is made, named and removed differs. The engine creates and attaches it before
the workers fork, so each worker inherits the attachment (shmat mappings survive fork), then
detaches its own read-write attachment; the prober reads it through a read-only one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sysv_ipc

from ipcviz.errors import KernelLimitError
from ipcviz.ipc.base import Session, env_name
from ipcviz.ipc.sysv import sysv_key
from ipcviz.mechanisms.posix_shm.wrapper import SharedMemory


class _Attachment:
    """The attached segment as the cell code indexes it: slices read as bytes."""

    __slots__ = ("view",)

    def __init__(self, view: memoryview) -> None:
        self.view = view

    def __getitem__(self, key: slice) -> bytes:
        return self.view[key].tobytes()

    def __setitem__(self, key: slice, data: bytes) -> None:
        self.view[key] = data


class SysvSharedMemory(SharedMemory):
    """``cells`` signed 64-bit integers in one System V segment (shmget + shmat)."""

    type = "sysv_shm"

    def __init__(self, name: str, cells: int | Mapping[str, int] = 16) -> None:
        super().__init__(name, cells)
        self.key = 0
        self.id = -1
        self.shm: sysv_ipc.SharedMemory | None = None
        self._view: memoryview | None = None
        self._ro: sysv_ipc.SharedMemory | None = None  # the engine's read-only attachment

    def create(self, session: Session) -> None:
        self.key = sysv_key(session.sid, self.name)
        entry = session.register({"type": self.type, "key": self.key})
        try:
            self.shm = sysv_ipc.SharedMemory(
                self.key, sysv_ipc.IPC_CREX, mode=0o600, size=self.size, init_character=b"\0"
            )
        except (sysv_ipc.Error, ValueError, OSError) as exc:
            raise KernelLimitError(
                f"cannot create System V shared memory {self.name} of {self.size} bytes: {exc}"
                " (see /proc/sys/kernel/shmmax and shmmni)"
            ) from None
        self.id = self.shm.id
        self.kernel_name = f"shmid {self.id} (key {self.key:#x})"
        session.update(entry, {**entry, "id": self.id})
        self._view = memoryview(self.shm)  # type: ignore[arg-type]
        self.mm = _Attachment(self._view)  # type: ignore[assignment]

    def address(self) -> str:
        return str(self.id)  # what msgget/semget/shmget returned: the calls take the id

    def environment(self) -> dict[str, str]:
        """The id, and the key (``$IPCVIZ_<NAME>_KEY``) for a program that asks the
        kernel for the id itself."""
        return {**super().environment(), env_name(self.name) + "_KEY": str(self.key)}

    def declare(self) -> dict[str, Any]:
        return {**super().declare(), "key": self.key, "id": self.id}

    # -- used by workers ---------------------------------------------------------------

    def reattach(self) -> int:
        """Replace the attachment this process inherited across fork with its own:
        ``shmat(shmid, NULL, 0)``, as a C program's child would, then ``shmdt`` of the
        inherited one. Returns the new address: the same segment at another address (T28).
        Every worker is already attached (the engine attaches before fork): this is only
        for showing a second address."""
        fresh = sysv_ipc.attach(self.id)
        old_view, old = self._view, self.shm
        self.shm, self._view = fresh, memoryview(fresh)  # type: ignore[arg-type]
        self.mm = _Attachment(self._view)  # type: ignore[assignment]
        if old_view is not None:
            old_view.release()
        if old is not None:
            old.detach()
        return int(fresh.address)

    #: The first name of :meth:`reattach`; it read as if a worker had to attach before use.
    attach = reattach

    def in_engine_after_fork(self) -> None:
        """The workers hold their attachments; the engine keeps only a read-only one."""
        self._detach_rw()

    def peek(self, n: int) -> bytes | None:
        """The first ``n`` bytes, through the engine's read-only attachment (made once)."""
        try:
            if self._ro is None:
                self._ro = sysv_ipc.attach(self.id, None, sysv_ipc.SHM_RDONLY)
            return self._ro.read(min(n, self.size), 0)
        except (sysv_ipc.Error, OSError, ValueError):
            return None

    def destroy(self) -> None:
        self._detach_rw()
        if self._ro is not None:
            try:
                self._ro.detach()
            except sysv_ipc.Error:
                pass
            self._ro = None
        if self.id >= 0:
            try:  # gone once the last worker detached (exited)
                sysv_ipc.remove_shared_memory(self.id)
            except sysv_ipc.ExistentialError:
                pass
            self.id = -1

    def _detach_rw(self) -> None:
        if self._view is not None:
            self._view.release()
            self._view = None
            self.mm = None
        if self.shm is not None:
            try:
                self.shm.detach()
            except sysv_ipc.Error:
                pass
            self.shm = None
