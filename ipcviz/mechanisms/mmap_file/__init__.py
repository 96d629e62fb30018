"""``mmap_file``: a regular file mapped with MAP_SHARED; its events are shared memory's."""

from ipcviz.mechanisms.base import Mechanism
from ipcviz.mechanisms.posix_shm import model as shm_model

MECHANISM = Mechanism(
    type="mmap_file",
    family=shm_model.FAMILY,
    title="shared file mapping (mmap(2) of a file, MAP_SHARED): memory backed by a file",
    declare=shm_model.declare,
    probe_kind="probe.shm",
    probe_fields=shm_model.PROBE_FIELDS,
    required=("size", "cells"),
    kernel_module="ipcviz.mechanisms.mmap_file.kernel",
)
