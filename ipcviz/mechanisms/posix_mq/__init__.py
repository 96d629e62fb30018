"""``posix_mq``: a POSIX message queue (mq_open): messages by priority, a descriptor to poll."""

from ipcviz.mechanisms.base import Mechanism
from ipcviz.mechanisms.posix_mq import codes, model

MECHANISM = Mechanism(
    type="posix_mq",
    family=model.FAMILY,
    title="POSIX message queue (mq_open(3)): messages with priorities, highest first",
    declare=model.declare,
    on_proc_exit=model.on_proc_exit,
    probe_kind="probe.posix_mq",
    probe_fields=model.PROBE_FIELDS,
    kernel_counter="current_messages",
    codes=codes,
    kernel_module="ipcviz.mechanisms.posix_mq.kernel",
)
