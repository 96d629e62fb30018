"""The suite's own leak check (tests/leaks.py) sees what it is meant to see."""

from __future__ import annotations

import os

import posix_ipc
import pytest
import sysv_ipc

from tests import isolation, leaks


@pytest.mark.skipif(
    not isolation.ISOLATED, reason="only a test worker in a world of its own counts every object"
)
def test_a_programs_private_objects_count_as_leaks_in_a_world_of_its_own() -> None:
    """In a worker's own IPC namespace and /dev/shm, a System V set with key IPC_PRIVATE
    (what a C program makes) and a /dev/shm file of no ipcviz session are leaks too: before,
    only ipcviz's keys (0x1C…) and session names were counted, and a program's set that a
    run left went unseen."""
    before = set(leaks.leftovers())
    sem = sysv_ipc.Semaphore(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX)
    shm = posix_ipc.SharedMemory(f"/leak-check-{os.getpid()}", posix_ipc.O_CREX, size=64)
    try:
        new = set(leaks.leftovers()) - before
        assert f"sysv_sem:0x0 id {sem.id}" in new
        assert f"/dev/shm/leak-check-{os.getpid()}" in new
    finally:
        sem.remove()
        shm.close_fd()
        shm.unlink()
    assert set(leaks.leftovers()) == before
