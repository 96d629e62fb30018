"""``sysv_sem``: a System V semaphore (a set of one, or one of a set); its events are ``sem.*``."""

from ipcviz.mechanisms.base import Mechanism
from ipcviz.mechanisms.posix_sem import model as sem_model

MECHANISM = Mechanism(
    type="sysv_sem",
    family=sem_model.FAMILY,
    title="System V semaphore (semget(2), semop(2)): P and V on a numbered kernel object",
    declare=sem_model.declare,
    on_proc_exit=sem_model.on_proc_exit,
    probe_kind="probe.sem",
    probe_fields=sem_model.PROBE_FIELDS,
    gone_at_removal=True,
    kernel_counter="value",
    kernel_module="ipcviz.mechanisms.sysv_sem.kernel",
)
