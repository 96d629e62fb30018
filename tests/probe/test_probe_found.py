"""Each mechanism reads a program's object from the kernel by what its calls named
(``KernelSide.probe_found``: ``ipcviz attach``, where no wrapper object exists): real
objects made here, read back, never changed by the reading."""

from __future__ import annotations

import os

import posix_ipc
import sysv_ipc

from ipcviz.events.codec import b64
from ipcviz.mechanisms import registry
from ipcviz.mechanisms.base import Found


def _probe(type_: str, found: Found) -> dict | None:
    side = registry.kernel(type_)
    assert side is not None and side.probe_found is not None, type_
    return side.probe_found(found, 4096)


def test_a_pipe_is_read_through_a_holder_and_keeps_its_bytes() -> None:
    r, w = os.pipe()
    try:
        os.write(w, b"abc")
        me = os.getpid()
        found = Found("pipe:[1]", "", 0, ((me, r, 0), (me, w, 1)), {me: "me"})
        got = _probe("pipe", found)
        assert got is not None
        assert (got["nbytes"], got["data"]) == (3, b64(b"abc"))
        assert (got["readers"], got["writers"], got["names"]) == (
            [[me, r]],
            [[me, w]],
            {str(me): "me"},
        )
        assert os.read(r, 10) == b"abc"  # the peek took nothing
        assert _probe("pipe", Found("pipe:[1]")) is None  # no holder: nothing to read
    finally:
        os.close(r)
        os.close(w)


def test_a_system_v_queue_and_a_semaphore_of_a_set_by_id() -> None:
    q = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX)
    sems = sysv_ipc.Semaphore(None, sysv_ipc.IPC_CREX)  # sysv_ipc makes sets of one
    try:
        q.send(b"job", type=7)
        got = _probe("sysv_mq", Found(f"msqid:{q.id}", q.id))
        assert got is not None and (got["qnum"], got["messages"]) == (1, [[7, b64(b"job")]])
        assert q.current_messages == 1
        sems.value = 3
        got = _probe("sysv_sem", Found(f"semid:{sems.id}", sems.id, 0))
        assert got is not None and got["value"] == 3
    finally:
        q.remove()
        sems.remove()
    assert _probe("sysv_mq", Found("msqid:gone", q.id)) is None


def test_a_posix_queue_by_its_name() -> None:
    name = f"/probe-found-test-{os.getpid()}"
    mq = posix_ipc.MessageQueue(name, posix_ipc.O_CREX, max_messages=4, max_message_size=64)
    try:
        mq.send(b"x", priority=2)
        got = _probe("posix_mq", Found(f"mq:{name}", name))
        assert got == {"current_messages": 1, "max_messages": 4, "max_message_size": 64}
        assert mq.current_messages == 1
    finally:
        mq.close()
        mq.unlink()
    assert _probe("posix_mq", Found(f"mq:{name}", name)) is None
