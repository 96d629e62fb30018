"""A shared file mapping: a regular file mmap()ed with MAP_SHARED (the lecture's memory map).

The same cells and records as shared memory (``shm.read``/``shm.write``): a store into the
mapping is a plain memory access, and the kernel keeps the pages in the page cache, so a
plain read() of the file sees it at once, with no msync. The file lives in the session's
private directory, created exclusively with mode 0600.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Mapping
from typing import Any

from ipcviz.errors import KernelLimitError
from ipcviz.ipc.base import Session
from ipcviz.mechanisms.posix_shm.wrapper import SharedMemory


class MappedFile(SharedMemory):
    """``cells`` signed 64-bit integers in a file every worker maps with MAP_SHARED."""

    type = "mmap_file"

    def __init__(self, name: str, cells: int | Mapping[str, int] = 16) -> None:
        super().__init__(name, cells)
        self.path = ""

    def create(self, session: Session) -> None:
        self.path = os.path.join(session.files_dir, f"{self.name}.map")
        session.register({"type": self.type, "path": self.path})
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self.path, flags, 0o600)
        try:
            os.posix_fallocate(fd, 0, self.size)
            self.mm = mmap.mmap(fd, self.size, flags=mmap.MAP_SHARED)
        except OSError as exc:
            raise KernelLimitError(
                f"cannot map {self.size} bytes of file {self.name}: {exc.strerror}"
            ) from None
        finally:
            os.close(fd)
        self.kernel_name = self.path

    def declare(self) -> dict[str, Any]:
        return {**super().declare(), "path": self.path}

    def destroy(self) -> None:
        if self.path:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    # -- used by workers ---------------------------------------------------------------

    def remap(self) -> int:
        """Replace the mapping this process inherited across fork with its own: ``open`` the
        file by its path + ``mmap(MAP_SHARED)``, as an unrelated C program would, then unmap
        the inherited one. Returns the new address: the same pages at another address
        (T28). Called in the process that wants its own mapping, not in the engine."""
        fd = os.open(self.path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            fresh = mmap.mmap(fd, self.size, flags=mmap.MAP_SHARED)
        finally:
            os.close(fd)
        old, self.mm = self.mm, fresh
        if old is not None:
            old.close()  # only now: the new mapping cannot reuse the old one's spot
        return _address_of(self.path)

    #: The first name of :meth:`remap` (kept: scenarios written with it still run).
    map_again = remap


def _address_of(path: str) -> int:
    """The lowest address this process maps ``path`` at (0 if it cannot be read)."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                if line.rstrip("\n").endswith(" " + path):
                    return int(line.split("-", 1)[0], 16)
    except OSError:
        pass
    return 0
