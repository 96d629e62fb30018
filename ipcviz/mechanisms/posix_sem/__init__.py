"""``posix_sem``: a POSIX named semaphore (sem_open), a futex in a /dev/shm file."""

from ipcviz.mechanisms.base import Mechanism
from ipcviz.mechanisms.posix_sem import codes, model

MECHANISM = Mechanism(
    type="posix_sem",
    family=model.FAMILY,
    title="POSIX named semaphore (sem_open(3)): wait blocks while the value is 0",
    declare=model.declare,
    on_proc_exit=model.on_proc_exit,
    probe_kind="probe.sem",
    probe_fields=model.PROBE_FIELDS,
    kernel_counter="value",
    codes=codes,
    kernel_module="ipcviz.mechanisms.posix_sem.kernel",
)
