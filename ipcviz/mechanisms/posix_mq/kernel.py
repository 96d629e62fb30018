"""POSIX queues as the engine sees them: the queue's attributes (mq_getattr)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import posix_ipc

from ipcviz import probe
from ipcviz.mechanisms.base import Found, KernelSide, Key
from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.mechanisms.posix_mq.wrapper import PosixQueue
from ipcviz.model.state import Obj


def keys(obj: PosixQueue) -> Iterable[Key]:
    yield ("mq_name", obj.kernel_name)  # mq_timedsend/receive on a descriptor of it


def probe_mq(prober: Any, obj: PosixQueue) -> tuple[dict[str, Any], dict[str, Any]] | None:
    if obj.mq is None:
        return None
    try:
        cur = obj.current_messages()
    except Exception:
        return None
    fields = {
        "current_messages": cur,
        "max_messages": obj.max_messages,
        "max_message_size": obj.max_message_size,
    }
    return fields, {}


def probe_found(found: Found, cap: int) -> dict[str, Any] | None:
    """A program's queue, by its name (opened read-only a moment, its messages left), if
    that name still names the queue a watched process holds: unlinked, and another queue
    made under the name, the reading would be of that one."""
    mq = probe.posix_mq_stat(str(found.ident), _held_inode(found)) if found.ident else None
    if mq is None:
        return None
    return {
        "current_messages": mq.current_messages,
        "max_messages": mq.max_messages,
        "max_message_size": mq.max_message_size,
    }


def _held_inode(found: Found) -> int | None:
    """The inode of the queue a watched process holds (a descriptor of it, as the calls
    told), or None when none is known (held by none: only its name says which it is)."""
    for pid, fd, _ in found.holders:
        try:
            return os.stat(f"/proc/{pid}/fd/{fd}").st_ino
        except OSError:
            continue
    return None


def counts(m: QueueObj) -> tuple[Any, int, int]:
    """(signature, messages, bytes) the kernel should hold, records in flight set aside."""
    count = len(m.messages) - len(m.early)
    nbytes = m.nbytes - sum(len(x[1]) for x in m.early)
    return (m.sent, m.received, count, nbytes), count, nbytes


def compare(m: Obj, k: dict[str, Any]) -> tuple[Any, list[tuple[str, Any, Any]]] | None:
    assert isinstance(m, QueueObj)
    sig, count, _ = counts(m)
    return sig, [("current_messages", count, k["current_messages"])]


def owned(entry: dict[str, Any]) -> bool:
    mq = posix_ipc.MessageQueue(entry["name"])
    try:
        return os.fstat(mq.mqd).st_uid == os.getuid()
    finally:
        mq.close()


def remove(entry: dict[str, Any]) -> bool:
    posix_ipc.unlink_message_queue(entry["name"])
    return True


KERNEL = KernelSide(
    wrapper=PosixQueue,
    keys=keys,
    probe=probe_mq,
    compare=compare,
    owned=owned,
    remove=remove,
    probe_found=probe_found,
)
