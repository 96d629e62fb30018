"""POSIX shared memory: one segment, seen by every worker as an array of integer cells (T26)."""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Mapping
from typing import Any

import posix_ipc

from ipcviz.errors import KernelLimitError
from ipcviz.ipc.base import KernelObject, Session
from ipcviz.mechanisms.posix_shm import codes as C
from ipcviz.session.registry import posix_name
from ipcviz.tracer.current import tracer


class SharedMemory(KernelObject):
    """``cells`` signed 64-bit integers in a POSIX shared-memory segment.

    No medium in between (T26): a read or write is a plain memory access, recorded so the
    model can show who touched which cell. Unsynchronised read-modify-write loses updates
    (T31); that is the point of ``shm-race``.
    """

    type = "posix_shm"
    CELL = struct.Struct("<q")

    def __init__(self, name: str, cells: int | Mapping[str, int] = 16) -> None:
        super().__init__(name)
        #: ``[[name, first cell, count], ...]``: the scenario's names for its cells and
        #: ranges, in order (``cells={"slots": 5, "in": 1}``), drawn above the cells
        self.names: list[list[Any]] = []
        if isinstance(cells, Mapping):
            start = 0
            for key, count in cells.items():
                if not isinstance(key, str) or not isinstance(count, int) or count < 1:
                    raise ValueError(f"cells: {key!r}: a name and a count of at least 1")
                self.names.append([key, start, count])
                start += count
            cells = start
        if not 1 <= cells <= 1 << 20:
            raise ValueError("cells must be between 1 and 1048576")
        self.cells = cells
        self.size = cells * 8
        self.mm: mmap.mmap | None = None

    def create(self, session: Session) -> None:
        self.kernel_name = posix_name(session.sid, self.name)
        session.register({"type": self.type, "name": self.kernel_name})
        try:
            shm = posix_ipc.SharedMemory(
                self.kernel_name, posix_ipc.O_CREX, mode=0o600, size=self.size
            )
        except (ValueError, OSError) as exc:
            raise KernelLimitError(
                f"cannot create shared memory {self.name} of {self.size} bytes: {exc}"
                " (is /dev/shm large enough? see `df -h /dev/shm`)"
            ) from None
        try:  # reserve every page now: a too-small /dev/shm fails here, not as SIGBUS later
            os.posix_fallocate(shm.fd, 0, self.size)
            self.mm = mmap.mmap(shm.fd, self.size)
        except OSError as exc:
            raise KernelLimitError(
                f"/dev/shm has no room for {self.size} bytes of {self.name}: {exc.strerror}"
                " (see `df -h /dev/shm`)"
            ) from None
        finally:
            shm.close_fd()

    def declare(self) -> dict[str, Any]:
        fields = {**super().declare(), "size": self.size, "cells": self.cells, "cell_size": 8}
        if self.names:
            fields["names"] = self.names
        return fields

    def destroy(self) -> None:
        if self.kernel_name:
            try:
                posix_ipc.unlink_shared_memory(self.kernel_name)
            except posix_ipc.ExistentialError:
                pass

    # -- used by workers ---------------------------------------------------------------

    def __getitem__(self, i: int | str) -> int:
        """Read cell ``i`` or the cell named ``i`` (recorded as ``shm.read``)."""
        off = self._offset(i)
        t = tracer
        t.gate(C.SHM_READ, self.index)
        raw = self.mm[off : off + 8]  # type: ignore[index]
        value = self.CELL.unpack(raw)[0]
        t.emit(C.SHM_READ, self.index, off, value, raw)
        return value

    def __setitem__(self, i: int | str, value: int) -> None:
        """Write cell ``i`` or the cell named ``i`` (recorded as ``shm.write``)."""
        off = self._offset(i)
        t = tracer
        t.gate(C.SHM_WRITE, self.index)
        raw = self.CELL.pack(value)
        self.mm[off : off + 8] = raw  # type: ignore[index]
        t.emit(C.SHM_WRITE, self.index, off, value, raw)

    def __len__(self) -> int:
        return self.cells

    def read_bytes(self, offset: int, n: int) -> bytes:
        tracer.gate(C.SHM_READ, self.index)
        data = bytes(self.mm[offset : offset + n])  # type: ignore[index]
        tracer.emit(C.SHM_READ, self.index, offset, 0, data)
        return data

    def write_bytes(self, offset: int, data: bytes) -> None:
        tracer.gate(C.SHM_WRITE, self.index)
        self.mm[offset : offset + len(data)] = data  # type: ignore[index]
        tracer.emit(C.SHM_WRITE, self.index, offset, 0, data)

    def cell(self, name: str, j: int = 0) -> int:
        """The index of cell ``j`` of the range ``name`` (``buffer.cell("slots", 2)``)."""
        for key, start, count in self.names:
            if key == name:
                if not 0 <= j < count:
                    raise IndexError(f"{name}[{j}] out of range ({name} has {count} cells)")
                return start + j
        raise KeyError(f"shared memory {self.name} has no cells named {name!r}")

    def _offset(self, i: int | str) -> int:
        if isinstance(i, str):
            i = self.cell(i)
        if not -self.cells <= i < self.cells:
            raise IndexError(f"cell {i} out of range (shared memory {self.name} has {self.cells})")
        return (i % self.cells) * 8
