"""Forking one worker, and what happens inside it until it exits."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field

from ipcviz.engine.linux import die_with_parent
from ipcviz.errors import IpcvizError
from ipcviz.ipc.base import KernelObject
from ipcviz.scenario.api import Context, Process, Scenario
from ipcviz.tracer import codes as C
from ipcviz.tracer.current import become_worker, tracer
from ipcviz.tracer.gate import install as install_gate
from ipcviz.tracer.ring import Ring

#: Signals the engine handles; a worker must get the default behaviour back.
_RESET = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGCHLD,
    signal.SIGQUIT,
    signal.SIGUSR1,
)


@dataclass
class Worker:
    """The engine's record of one worker process."""

    proc: Process
    pid: int
    color: int
    ring: Ring | None
    out_fd: int  # read end of the worker's stdout/stderr
    exited: bool = False
    exit_status: int | None = None
    stalls_seen: int = 0
    extra: dict = field(default_factory=dict)
    gate_w: int = -1  # write end of the worker's step-gate pipe (one byte = one operation)

    @property
    def name(self) -> str:
        return self.proc.name


def fork_worker(
    scenario: Scenario,
    proc: Process,
    color: int,
    params: dict,
    objects: Sequence[KernelObject],
    private_fds: Sequence[int],
    start_fd: int,
    bell_w: int = -1,
    traced: bool = True,
    link: tuple[int, object, str] = (-1, None, ""),
    declared_schedule: bool = False,
) -> Worker:
    """Fork a worker. ``private_fds`` are the engine's own descriptors, closed in the child.

    The worker waits on ``start_fd`` (the read end of the start pipe) until the engine has
    forked everyone and closes the write end: so all workers start together.
    ``link``: (socket announcing forked children, object table, session id), see
    ``ipcviz/tracer/current.py``.
    """
    try:
        ring = Ring() if proc.fn is not None and traced else None
    except OSError as exc:  # EFBIG under a file-size limit (the ring is a memfd), ENOMEM
        raise IpcvizError(
            f"cannot create the trace ring of worker {proc.name}: {exc.strerror}"
            " (is a file-size limit set? see `ulimit -f`)"
        ) from None
    out_r, out_w = os.pipe()
    gate_r, gate_w = os.pipe() if ring is not None and bell_w >= 0 else (-1, -1)
    engine_pid = os.getpid()
    pid = os.fork()
    if pid == 0:  # child: never returns
        code = 70  # EX_SOFTWARE: ipcviz itself failed inside the child
        try:
            code = _child(
                scenario,
                proc,
                params,
                objects,
                ring,
                out_r,
                out_w,
                private_fds,
                engine_pid,
                start_fd,
                (gate_r, gate_w, bell_w),
                link,
                declared_schedule,
            )
        except BaseException:
            try:
                os.write(2, traceback.format_exc().encode("utf-8", "replace"))
            except OSError:
                pass
        finally:
            os._exit(code)
    os.close(out_w)
    os.set_blocking(out_r, False)
    if gate_r >= 0:
        os.close(gate_r)
    return Worker(proc, pid, color, ring, out_r, gate_w=gate_w)


def _child(
    scenario,
    proc,
    params,
    objects,
    ring,
    out_r,
    out_w,
    private_fds,
    engine_pid,
    start_fd,
    gate,
    link,
    declared_schedule=False,
) -> int:
    os.setpgid(0, 0)  # its own group: killing the group also kills any children it forks
    die_with_parent(signal.SIGKILL)
    if os.getppid() != engine_pid:
        return 1
    signal.set_wakeup_fd(-1)
    for sig in _RESET:
        signal.signal(sig, signal.SIG_DFL)
    for fd in (*private_fds, out_r, gate[1]):
        try:
            os.close(fd)
        except OSError:
            pass
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(out_w, 1)
    os.dup2(out_w, 2)
    os.close(out_w)
    sys.stdout.reconfigure(line_buffering=True)
    if proc.argv is None:
        become_worker(ring, proc.name, link[0], link[1], link[2], [o.name for o in objects])
    if ring is not None and gate[0] >= 0:
        install_gate(gate[0], gate[2])
    for obj in objects:
        obj.in_worker(proc.name)
        if proc.argv is not None:  # an ordinary program finds the run's objects here
            os.environ.update(obj.environment())
    os.read(start_fd, 1)  # EOF once every worker is forked: start together
    os.close(start_fd)
    if proc.argv is not None:
        try:
            os.execvp(proc.argv[0], list(proc.argv))
        except OSError as exc:
            print(f"ipcviz: cannot run {proc.argv[0]}: {exc.strerror}", file=sys.stderr)
            return 127
    ctx = Context(scenario, proc.name, proc.index, params, declared_schedule)
    code = 0
    try:
        proc.fn(ctx)  # type: ignore[misc]
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:
        # The traceback starts at the scenario's function: ipcviz's own frame is noise.
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        text = "".join(traceback.format_exception(type(exc), exc, tb))
        tracer.emit(C.PROC_ERROR, -1, 0, 0, text.encode("utf-8", "replace"))
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass
    return code
