"""System V queues as the engine sees them: msgctl(IPC_STAT) and a non-consuming peek."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sysv_ipc

from ipcviz import probe
from ipcviz.events.codec import b64
from ipcviz.mechanisms.base import Found, KernelSide, Key
from ipcviz.mechanisms.posix_mq.kernel import counts
from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.mechanisms.sysv_mq.wrapper import SysvQueue
from ipcviz.model.state import Obj
from ipcviz.session.cleanup import sysv_cleanup


def keys(obj: SysvQueue) -> Iterable[Key]:
    yield ("msqid", obj.id)


def probe_mq(prober: Any, obj: SysvQueue) -> tuple[dict[str, Any], dict[str, Any]] | None:
    fields = queue_fields(obj.id, prober.DATA_CAP)
    return (fields, {}) if fields is not None else None


def probe_found(found: Found, cap: int) -> dict[str, Any] | None:
    return queue_fields(int(found.ident), cap) if isinstance(found.ident, int) else None


def queue_fields(msqid: int, cap: int) -> dict[str, Any] | None:
    """msgctl(IPC_STAT) and the messages, peeked without taking them (``cap`` bytes)."""
    st = probe.sysv_mq_stat(msqid)
    if st is None:
        return None
    msgs = probe.sysv_mq_peek(msqid, limit=64) or []
    budget, shown = cap, []
    for mtype, data in msgs:
        shown.append([mtype, b64(data[:budget])])
        budget = max(0, budget - len(data))
    return {
        "qnum": st.qnum,
        "cbytes": st.cbytes,
        "qbytes": st.qbytes,
        "lspid": st.lspid,
        "lrpid": st.lrpid,
        "stime": st.stime,
        "rtime": st.rtime,
        "messages": shown,
    }


def compare(m: Obj, k: dict[str, Any]) -> tuple[Any, list[tuple[str, Any, Any]]] | None:
    assert isinstance(m, QueueObj)
    sig, count, nbytes = counts(m)
    return sig, [("qnum", count, k["qnum"]), ("cbytes", nbytes, k["cbytes"])]


owned, remove = sysv_cleanup("msg", sysv_ipc.remove_message_queue)


KERNEL = KernelSide(
    wrapper=SysvQueue,
    keys=keys,
    probe=probe_mq,
    compare=compare,
    owned=owned,
    remove=remove,
    probe_found=probe_found,
)
