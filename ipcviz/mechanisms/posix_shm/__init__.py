"""``posix_shm``: a POSIX shared-memory segment (shm_open + mmap), seen as integer cells."""

from ipcviz.mechanisms.base import Mechanism
from ipcviz.mechanisms.posix_shm import codes, model

MECHANISM = Mechanism(
    type="posix_shm",
    family=model.FAMILY,
    title="POSIX shared memory (shm_open(3) + mmap(2)): no kernel in between",
    declare=model.declare,
    probe_kind="probe.shm",
    probe_fields=model.PROBE_FIELDS,
    required=("size", "cells"),
    codes=codes,
    kernel_module="ipcviz.mechanisms.posix_shm.kernel",
)
