"""Creating a POSIX semaphore makes exactly one file, under its registered name.

glibc's sem_open(O_CREAT) writes a temporary /dev/shm/sem.XXXXXX first: an engine SIGKILLed
in between left a file that no session could prove its own (found in /dev/shm after a run
of tests/faults). The kernel's own account of /dev/shm (inotify) says which files appear.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
from pathlib import Path
from typing import Any

import posix_ipc
import pytest

from ipcviz.mechanisms.posix_sem.wrapper import Semaphore, create_sem_file

IN_CREATE = 0x100
IN_NONBLOCK = os.O_NONBLOCK

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _created_during(action) -> list[str]:
    """Names created in /dev/shm while ``action`` runs (inotify IN_CREATE)."""
    fd = _libc.inotify_init1(IN_NONBLOCK)
    assert fd >= 0
    try:
        assert _libc.inotify_add_watch(fd, b"/dev/shm", IN_CREATE) >= 0
        action()
        names = []
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return names
        at = 0
        while at < len(data):
            _wd, _mask, _cookie, size = struct.unpack_from("iIII", data, at)
            names.append(data[at + 16 : at + 16 + size].rstrip(b"\0").decode())
            at += 16 + size
        return names
    finally:
        os.close(fd)


class _Session:
    """The little an object needs from the engine to create itself (ipc.base.Session)."""

    def __init__(self, files: Path) -> None:
        self.sid = os.urandom(4).hex()
        self.files_dir = self.fifo_dir = str(files)
        self.entries: list[dict[str, Any]] = []

    def register(self, entry: dict[str, Any]) -> dict[str, Any]:
        self.entries.append(entry)
        return entry

    def update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        old.update(new)


def test_only_the_registered_name_is_ever_created(tmp_path: Path) -> None:
    session = _Session(tmp_path)
    sem = Semaphore("lock", value=2)
    try:
        created = _created_during(lambda: sem.create(session))
        assert created == ["sem" + sem.kernel_name.replace("/", ".")]
        assert session.entries == [{"type": "posix_sem", "name": sem.kernel_name}]
        assert sem.sem is not None and sem.sem.value == 2
        assert os.stat(f"/dev/shm/{created[0]}").st_mode & 0o777 == 0o600
    finally:
        sem.destroy()


def test_the_file_is_the_one_glibc_would_write_and_works_across_processes() -> None:
    name = f"/ipcviz-test-{os.getpid()}"
    ours = name + "-ours"
    theirs = posix_ipc.Semaphore(name, posix_ipc.O_CREX, mode=0o600, initial_value=3)
    try:
        create_sem_file(ours, 3)
        glibc = Path(f"/dev/shm/sem{name.replace('/', '.')}").read_bytes()
        assert Path(f"/dev/shm/sem{ours.replace('/', '.')}").read_bytes() == glibc
        sem = posix_ipc.Semaphore(ours)
        pid = os.fork()
        if pid == 0:  # a child takes one unit through its own sem_open
            try:
                child = posix_ipc.Semaphore(ours)
                child.acquire()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        assert sem.value == 2
        sem.unlink()
    finally:
        theirs.unlink()


def test_an_existing_name_or_a_symlink_is_refused(tmp_path: Path) -> None:
    name = f"/ipcviz-test-{os.getpid()}-link"
    path = Path(f"/dev/shm/sem{name.replace('/', '.')}")
    path.symlink_to(tmp_path / "target")
    try:
        with pytest.raises(FileExistsError):
            create_sem_file(name, 1)
        assert not (tmp_path / "target").exists()
    finally:
        path.unlink()
