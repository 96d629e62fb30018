"""Anonymous pipe: ``os.pipe()`` made by the engine and inherited by forked workers (T7)."""

from __future__ import annotations

import fcntl
import os
import weakref
from typing import Any

from ipcviz.ipc.base import KernelObject, Session
from ipcviz.mechanisms.pipe import codes as C
from ipcviz.tracer import current
from ipcviz.tracer.current import tracer


class Pipe(KernelObject):
    """A one-way byte stream (T4): ``write`` at one end, ``read`` at the other.

    ``writer``/``reader`` name the processes that use each end; every other process closes
    that end right after fork, as a C program would, so the reader sees EOF once the
    writers close (T12).
    """

    type = "pipe"

    def __init__(
        self,
        name: str,
        writer: str | list[str] | None = None,
        reader: str | list[str] | None = None,
    ) -> None:
        super().__init__(name)
        self.writers = [writer] if isinstance(writer, str) else list(writer or [])
        self.readers = [reader] if isinstance(reader, str) else list(reader or [])
        self.read_fd = -1
        self.write_fd = -1
        self.capacity = 65536
        _PIPES.add(self)

    def create(self, session: Session) -> None:
        self.read_fd, self.write_fd = os.pipe()
        self.kernel_name = f"pipe:[{os.fstat(self.read_fd).st_ino}]"
        try:
            self.capacity = fcntl.fcntl(self.write_fd, 1032)  # F_GETPIPE_SZ
        except OSError:
            pass

    def declare(self) -> dict[str, Any]:
        return {
            **super().declare(),
            "capacity": self.capacity,
            "read_fd": self.read_fd,
            "write_fd": self.write_fd,
            "writers": self.writers,
            "readers": self.readers,
        }

    def in_worker(self, proc_name: str) -> None:
        if self.readers and proc_name not in self.readers:
            os.close(self.read_fd)
            self.read_fd = -1
        if self.writers and proc_name not in self.writers:
            os.close(self.write_fd)
            self.write_fd = -1

    def in_engine_after_fork(self) -> None:
        # The engine must hold no end: a reader sees EOF only when *every* write end is closed.
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                os.close(fd)

    def destroy(self) -> None:
        pass  # an anonymous pipe dies with the last process holding it (T12)

    # -- used by workers ---------------------------------------------------------------

    def write(self, data: bytes) -> int:
        """Write all of ``data``; blocks while the pipe is full. EPIPE if no reader is left."""
        t = tracer
        t.gate(C.PIPE_WRITE_BEGIN, self.index)
        t.emit(C.PIPE_WRITE_BEGIN, self.index, len(data))
        try:
            n = os.write(self.write_fd, data)
        except BrokenPipeError:
            t.emit(C.PIPE_EPIPE, self.index, len(data))
            raise
        t.emit(C.PIPE_WRITE, self.index, n, len(data), data[:n])
        return n

    def read(self, n: int = 65536) -> bytes:
        """Read up to ``n`` bytes; blocks while empty; ``b""`` means EOF (no writer left).

        ``n == 0`` returns ``b""`` at once, as the kernel does, and is not recorded: it
        takes nothing and is no end of file (recorded, it was told as one, and a correct
        program accused of reading end of file from a pipe that held bytes)."""
        if n == 0:
            return b""
        t = tracer
        t.gate(C.PIPE_READ_BEGIN, self.index)
        t.emit(C.PIPE_READ_BEGIN, self.index, n)
        data = os.read(self.read_fd, n)
        t.emit(C.PIPE_READ, self.index, len(data), 0, data)
        return data

    def read_exactly(self, n: int) -> bytes:
        """Read until ``n`` bytes arrived or EOF (a pipe may return less per read, T19)."""
        parts = []
        while n > 0:
            chunk = self.read(n)
            if not chunk:
                break
            parts.append(chunk)
            n -= len(chunk)
        return b"".join(parts)

    def close_read(self) -> None:
        if self.read_fd >= 0:
            os.close(self.read_fd)
            self.read_fd = -1
            tracer.emit(C.PIPE_CLOSE, self.index, C.READ_END)

    def close_write(self) -> None:
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1
            tracer.emit(C.PIPE_CLOSE, self.index, C.WRITE_END)

    def fileno_pair(self) -> tuple[int, int]:
        return self.read_fd, self.write_fd


#: Every pipe and FIFO wrapper of this process: what it holds when it runs another program.
_PIPES: weakref.WeakSet[Pipe] = weakref.WeakSet()
#: (object, end, descriptor) this process already recorded as closed by an exec
_SAID_AT_EXEC: set[tuple[int, int, int]] = set()


def _closed_at_exec() -> None:
    """exec closes each end opened close-on-exec (Python opens every descriptor so): the
    ends this process holds are recorded as closed, else a child that ran another program
    would hold them in the model until it exits, and a reader's end of file, or a writer's
    EPIPE, would look illegal. (Should exec fail, the ends stay open but count as closed:
    the model then errs toward fewer holders, which never accuses the program.)"""
    for pipe in list(_PIPES):
        for fd, end in ((pipe.read_fd, C.READ_END), (pipe.write_fd, C.WRITE_END)):
            try:
                dropped = fd >= 0 and bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
            except OSError:
                dropped = False  # closed behind the wrapper's back: nothing to say
            if dropped and (pipe.index, end, fd) not in _SAID_AT_EXEC:
                # once: execvp tries each directory of PATH, an exec call for each
                _SAID_AT_EXEC.add((pipe.index, end, fd))
                tracer.emit(C.PIPE_CLOSE, pipe.index, end)


current.before_exec.append(_closed_at_exec)
