"""``fifo``: a named pipe (mkfifo), opened by path; its events are the pipe's (``pipe.*``)."""

from ipcviz.mechanisms.base import Mechanism
from ipcviz.mechanisms.pipe import model as pipe_model

MECHANISM = Mechanism(
    type="fifo",
    family=pipe_model.FAMILY,
    title="named pipe (mkfifo(3)): a pipe that unrelated processes open by its path",
    declare=pipe_model.declare_named,
    on_proc_start=pipe_model.inherit_ends,
    on_proc_exit=pipe_model.on_proc_exit,
    probe_kind="probe.pipe",
    probe_fields=pipe_model.PROBE_FIELDS,
    kernel_counter="nbytes",
    kernel_module="ipcviz.mechanisms.fifo.kernel",
)
