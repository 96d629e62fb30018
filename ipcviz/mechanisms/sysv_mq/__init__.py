"""``sysv_mq``: a System V message queue (msgget): typed messages in arrival order."""

from ipcviz.events.fields import base64, integer, list_of, number
from ipcviz.mechanisms.base import Mechanism
from ipcviz.mechanisms.posix_mq import model as mq_model
from ipcviz.mechanisms.sysv_mq import codes

#: The kernel's view (msgctl IPC_STAT, MSG_COPY): counts, last sender/receiver and times,
#: and the messages as [type, base64 bytes] pairs.
PROBE_FIELDS = {
    **{k: integer() for k in ("qnum", "cbytes", "qbytes", "lspid", "lrpid")},
    **{k: number for k in ("stime", "rtime")},
    "messages": list_of(list_of(lambda v: number(v) if not isinstance(v, str) else base64(v))),
}

MECHANISM = Mechanism(
    type="sysv_mq",
    family=mq_model.FAMILY,
    title="System V message queue (msgget(2)): typed messages, a receive picks a type",
    declare=mq_model.declare_limits,
    on_proc_exit=mq_model.on_proc_exit,
    probe_kind="probe.sysv_mq",
    probe_fields=PROBE_FIELDS,
    gone_at_removal=True,
    kernel_counter="qnum",
    #: msgrcv(MSG_COPY) and msgctl(IPC_SET): no POSIX queue call does either
    only=frozenset({"mq.copy", "mq.limit"}),
    codes=codes,
    kernel_module="ipcviz.mechanisms.sysv_mq.kernel",
)
