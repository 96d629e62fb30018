"""``pipe``: an anonymous pipe, made by the engine (or a worker) and inherited across fork."""

from ipcviz.mechanisms.base import Mechanism
from ipcviz.mechanisms.pipe import codes, model

MECHANISM = Mechanism(
    type="pipe",
    family=model.FAMILY,
    title="anonymous pipe (pipe(2)): a one-way byte stream inherited across fork",
    declare=model.declare,
    on_proc_start=model.on_proc_start,
    on_proc_exit=model.on_proc_exit,
    probe_kind="probe.pipe",
    probe_fields=model.PROBE_FIELDS,
    kernel_counter="nbytes",
    codes=codes,
    kernel_module="ipcviz.mechanisms.pipe.kernel",
)
