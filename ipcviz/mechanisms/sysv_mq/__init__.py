"""``sysv_mq``: a System V message queue (msgget): typed messages in arrival order."""

from ipcviz.mechanisms.base import Mechanism
from ipcviz.mechanisms.posix_mq import model as mq_model

MECHANISM = Mechanism(
    type="sysv_mq",
    family=mq_model.FAMILY,
    title="System V message queue (msgget(2)): typed messages, a receive picks a type",
    declare=mq_model.declare_limits,
    on_proc_exit=mq_model.on_proc_exit,
    probe_kind="probe.sysv_mq",
    kernel_module="ipcviz.mechanisms.sysv_mq.kernel",
)
