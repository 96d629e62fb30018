"""Kernel truth about System V and POSIX message queues, read without receiving anything.

System V: ``msgctl(IPC_STAT)`` by id through ctypes (``/proc/sysvipc/msg`` lacks ``qbytes``);
contents via ``msgrcv(id, buf, n, index, IPC_NOWAIT|MSG_COPY)``, which copies the message at
position ``index`` and leaves the queue untouched. MSG_COPY needs CONFIG_CHECKPOINT_RESTORE
(present on this kernel); without it msgrcv fails with ENOSYS and the peek returns None.
POSIX: only counters are readable (posix_ipc); the kernel offers no way to peek contents.
"""

from __future__ import annotations

import ctypes
import errno
import os
from dataclasses import dataclass

import posix_ipc

from . import _libc
from ._procfs import shm_name

_INITIAL_BUF = 8192  # default kernel.msgmax; grown on E2BIG
_HDR = ctypes.sizeof(ctypes.c_long)  # struct msgbuf { long mtype; char mtext[]; }


@dataclass(frozen=True, slots=True)
class SysvMqStat:
    """The msqid_ds of a System V queue (times in seconds since the epoch, 0 = never)."""

    qnum: int
    cbytes: int
    qbytes: int
    lspid: int
    lrpid: int
    stime: int
    rtime: int
    ctime: int


@dataclass(frozen=True, slots=True)
class PosixMqStat:
    """Counters of a POSIX message queue."""

    current_messages: int
    max_messages: int
    max_message_size: int


def sysv_mq_stat(msqid: int) -> SysvMqStat | None:
    """msgctl(msqid, IPC_STAT), or None if the queue is gone / not accessible."""
    ds = _libc.MsqidDs()
    if _libc.libc.msgctl(msqid, _libc.IPC_STAT, ctypes.byref(ds)) == -1:
        return None
    return SysvMqStat(
        qnum=ds.msg_qnum,
        cbytes=ds.msg_cbytes,
        qbytes=ds.msg_qbytes,
        lspid=ds.msg_lspid,
        lrpid=ds.msg_lrpid,
        stime=ds.msg_stime,
        rtime=ds.msg_rtime,
        ctime=ds.msg_ctime,
    )


def sysv_mq_peek(msqid: int, limit: int = 64) -> list[tuple[int, bytes]] | None:
    """(mtype, payload) of the first `limit` messages in queue order, without consuming them.

    Each index is a separate msgrcv, so a queue changing meanwhile may give a shifted view.
    None if the queue is gone or MSG_COPY is unsupported (ENOSYS without CHECKPOINT_RESTORE).
    """
    if limit < 0:
        raise ValueError("limit must be >= 0")
    size = _INITIAL_BUF
    buf = ctypes.create_string_buffer(_HDR + size)
    out: list[tuple[int, bytes]] = []
    index = 0
    flags = _libc.IPC_NOWAIT | _libc.MSG_COPY
    while index < limit:
        n = _libc.libc.msgrcv(msqid, buf, size, index, flags)
        if n == -1:
            err = ctypes.get_errno()
            if err == errno.ENOMSG:
                break
            if err == errno.E2BIG and size < (1 << 24):
                size *= 4
                buf = ctypes.create_string_buffer(_HDR + size)
                continue
            return None  # EINVAL/EIDRM: removed; ENOSYS: no MSG_COPY; EACCES
        mtype = ctypes.c_long.from_buffer(buf).value
        out.append((mtype, buf.raw[_HDR : _HDR + n]))
        index += 1
    return out


def posix_mq_stat(name: str, same: int | None = None) -> PosixMqStat | None:
    """Counters of POSIX queue `name` (opened read-only without create, closed at once);
    None if it is gone, or (``same``: an inode in the mqueue filesystem) if the name now
    names another queue than that one."""
    bare = shm_name(name)
    try:
        mq = posix_ipc.MessageQueue("/" + bare, read=True, write=False)
    except (posix_ipc.Error, OSError):
        return None
    try:
        if same is not None and os.fstat(mq.mqd).st_ino != same:
            return None
        return PosixMqStat(mq.current_messages, mq.max_messages, mq.max_message_size)
    except (posix_ipc.Error, OSError):
        return None
    finally:
        mq.close()


def unlink_posix_mq(name: str) -> None:
    """``mq_unlink(name)``, for any name the kernel takes: ``posix_ipc.unlink_message_queue``
    encodes its argument as strict UTF-8 and raises on a name whose bytes are not UTF-8
    (kept as surrogates, ``parser.name_text``), so such a queue was never removed; a
    queue object's own ``unlink`` encodes its name as ``os`` does (``surrogateescape``)."""
    try:
        posix_ipc.unlink_message_queue(name)
        return
    except UnicodeEncodeError:
        pass
    queue = posix_ipc.MessageQueue(name, read=True, write=False)
    try:
        queue.unlink()
    finally:
        queue.close()
