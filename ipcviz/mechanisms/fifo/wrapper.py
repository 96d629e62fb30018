"""Named pipe (FIFO, T13-T14): a pipe with a name in the filesystem, opened by path.

Unlike an anonymous pipe, nothing is inherited: the engine only makes the FIFO file (mkfifo,
mode 0600, in the session's private 0700 directory); each worker opens it by path, so any
two processes that know the path can talk, related or not. Opening one end blocks until the
other end is opened too (the kernel's ``wait_for_partner``). The file outlives the processes
until the engine unlinks it at the end of the run.
"""

from __future__ import annotations

import os
from typing import Any

from ipcviz.ipc.base import Session
from ipcviz.mechanisms.pipe import codes as C
from ipcviz.mechanisms.pipe.wrapper import Pipe
from ipcviz.tracer.current import tracer


class Fifo(Pipe):
    """``open_read()`` / ``open_write()`` by path, then ``read`` / ``write`` like a pipe."""

    type = "fifo"

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.path = ""
        self.inode = 0

    def create(self, session: Session) -> None:
        self.path = os.path.join(session.files_dir, self.name)
        session.register({"type": self.type, "path": self.path})
        os.mkfifo(self.path, 0o600)
        os.chmod(self.path, 0o600)  # mkfifo applies the umask: make the mode exact
        self.kernel_name = self.path
        self.inode = os.stat(self.path).st_ino

    def declare(self) -> dict[str, Any]:
        return {
            "obj": self.name,
            "type": self.type,
            "kernel_name": self.kernel_name,
            "path": self.path,
            "inode": self.inode,
            "capacity": self.capacity,
        }

    def in_worker(self, proc_name: str) -> None:
        pass  # nothing is inherited: a worker opens the FIFO by its path

    def in_engine_after_fork(self) -> None:
        pass

    def destroy(self) -> None:
        if self.path:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    # -- used by workers ---------------------------------------------------------------

    def _open(self, end: int, flags: int) -> int:
        t = tracer
        t.gate(C.PIPE_OPEN_BEGIN, self.index)
        t.emit(C.PIPE_OPEN_BEGIN, self.index, end)
        fd = os.open(self.path, flags | os.O_CLOEXEC)  # blocks until the other end opens
        t.emit(C.PIPE_OPEN, self.index, end, fd)
        return fd

    def open_read(self) -> None:
        """open(path, O_RDONLY): blocks until some process opens the FIFO for writing."""
        if self.read_fd < 0:
            self.read_fd = self._open(C.READ_END, os.O_RDONLY)

    def open_write(self) -> None:
        """open(path, O_WRONLY): blocks until some process opens the FIFO for reading."""
        if self.write_fd < 0:
            self.write_fd = self._open(C.WRITE_END, os.O_WRONLY)

    def exists(self) -> bool:
        """Is the FIFO file still there (it outlives the processes that used it, T14)?"""
        return os.path.exists(self.path)
