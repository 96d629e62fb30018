"""One parser of /proc/sysvipc (``ipcviz.probe.sysvipc``) for every reader: real objects are
found with their columns; a malformed row is skipped, never a traceback."""

from __future__ import annotations

import os

import sysv_ipc

from ipcviz.probe import sysvipc


def test_real_objects_are_found_with_their_columns() -> None:
    queue = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX)
    sems = sysv_ipc.Semaphore(None, sysv_ipc.IPC_CREX)
    seg = sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, size=8192)
    try:
        tables = {t: {r["id"]: r for r in sysvipc.read(t)} for t in sysvipc.TABLES}
        q, s, m = tables["msg"][queue.id], tables["sem"][sems.id], tables["shm"][seg.id]
        assert (q["msqid"], q["key"], q["uid"]) == (queue.id, queue.key, os.getuid())
        assert (s["semid"], s["key"], s["nsems"]) == (sems.id, sems.key, 1)
        assert (m["shmid"], m["size"], m["cpid"]) == (seg.id, 8192, os.getpid())
        assert queue.id in sysvipc.ids("msg") and seg.id in sysvipc.ids("shm")
    finally:
        queue.remove()
        sems.remove()
        seg.detach()
        seg.remove()
    assert seg.id not in sysvipc.ids("shm") and queue.id not in sysvipc.ids("msg")


def test_a_malformed_row_is_no_row() -> None:
    head = "       key      shmid perms       size  cpid  lpid nattch\n"
    good = "         0         42   600       4096   100   101      1\n"
    rows = sysvipc.parse(
        head
        + good
        + "         0         43   600       4096   100\n"  # cut short
        + "         0         xx   600       4096   100   101      1\n"  # not a number
        + "\n"
        + good.replace(" 42 ", " 44 ")
    )
    assert [r["id"] for r in rows] == [42, 44]
    assert rows[0] == {
        "key": 0, "shmid": 42, "perms": 600, "size": 4096, "cpid": 100, "lpid": 101,
        "nattch": 1, "id": 42,
    }  # fmt: skip
    assert sysvipc.parse("") == [] and sysvipc.parse("key\n1\n") == []
