"""``sysv_shm``: a System V shared-memory segment (shmget + shmat); its events are ``shm.*``."""

from ipcviz.mechanisms.base import Mechanism
from ipcviz.mechanisms.posix_shm import model as shm_model

MECHANISM = Mechanism(
    type="sysv_shm",
    family=shm_model.FAMILY,
    title="System V shared memory (shmget(2), shmat(2)): a numbered segment, attached",
    declare=shm_model.declare,
    probe_kind="probe.shm",
    probe_fields=shm_model.PROBE_FIELDS,
    required=("size", "cells"),
    kernel_module="ipcviz.mechanisms.sysv_shm.kernel",
)
