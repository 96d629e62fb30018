"""System V queues as the engine sees them: msgctl(IPC_STAT) and a non-consuming peek."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sysv_ipc

from ipcviz import probe
from ipcviz.events.codec import b64
from ipcviz.mechanisms.base import KernelSide, Key
from ipcviz.mechanisms.posix_mq.kernel import counts
from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.mechanisms.sysv_mq.wrapper import SysvQueue
from ipcviz.model.state import Obj
from ipcviz.session.cleanup import sysv_cleanup


def keys(obj: SysvQueue) -> Iterable[Key]:
    yield ("msqid", obj.id)


def probe_mq(prober: Any, obj: SysvQueue) -> tuple[dict[str, Any], dict[str, Any]] | None:
    st = probe.sysv_mq_stat(obj.id)
    if st is None:
        return None
    msgs = probe.sysv_mq_peek(obj.id, limit=64) or []
    budget, shown = prober.DATA_CAP, []
    for mtype, data in msgs:
        shown.append([mtype, b64(data[:budget])])
        budget = max(0, budget - len(data))
    fields = {
        "qnum": st.qnum,
        "cbytes": st.cbytes,
        "qbytes": st.qbytes,
        "lspid": st.lspid,
        "lrpid": st.lrpid,
        "stime": st.stime,
        "rtime": st.rtime,
        "messages": shown,
    }
    return fields, {}


def compare(m: Obj, k: dict[str, Any]) -> tuple[Any, list[tuple[str, Any, Any]]] | None:
    assert isinstance(m, QueueObj)
    sig, count, nbytes = counts(m)
    return sig, [("qnum", count, k["qnum"]), ("cbytes", nbytes, k["cbytes"])]


owned, remove = sysv_cleanup("msg", sysv_ipc.remove_message_queue)


KERNEL = KernelSide(
    wrapper=SysvQueue, keys=keys, probe=probe_mq, compare=compare, owned=owned, remove=remove
)
