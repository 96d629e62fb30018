"""Control commands from the viewer (stdin, one JSON object a line): freeze, resume, kill,
stop, and whatever a watcher adds (``add``: step, continue, pace, recover, …).

Why a table: the gate and the deadlock watcher used to write ``control_*`` attributes
into the engine; a command is now registered by name (``EngineContext.add_command``).
"""

from __future__ import annotations

import json
import os
import select
import signal
import time
from collections.abc import Callable
from typing import Any

from ipcviz.engine.adopt import signal_pidfd
from ipcviz.engine.context import EngineContext
from ipcviz.engine.life import signal_all
from ipcviz.engine.workers import Worker
from ipcviz.events import schema
from ipcviz.i18n import N_

Command = dict[str, Any]
#: Seconds a worker being killed is given to reach its gate (as ``Engine.QUIESCE_S``). A
#: test that holds the worker on purpose makes it longer (``$IPCVIZ_TEST_REST_S``).
REST_S = float(os.environ.get("IPCVIZ_TEST_REST_S") or 0.5)


class Commands:
    """Reads the control pipe and runs each command it brings."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.handlers: dict[str, Callable[[Command], None]] = {}

    def add(self, name: str, fn: Callable[[Command], None]) -> None:
        self.handlers[name] = fn

    def _to_rest(self, w: Worker) -> None:
        """Before a worker's SIGKILL (``k``): its gate is closed, and it is let finish what
        it is doing (at most ``REST_S``): killed between a call's return and its record,
        it took the call with it. ``k`` on a flooding sender, 2 runs in 3, left a message
        the trace never showed sent, which its receiver then took (``order.conflict``,
        ``verify`` failed). One stopped (``freeze``, or any SIGSTOP: its own, a shell's) is
        let go on alone to its gate, closed first, as a stop thaws a frozen run
        (``Engine._thaw``): killed where it stood, a worker stopped after a receive and
        before its record left the message queued in the picture, not in the kernel (or,
        not frozen, it never came to rest and was killed so after ``REST_S``). The rest
        of a frozen run stays frozen."""
        ctx = self.ctx
        if w.ring is None:
            return
        ctx.gate.doomed.add(w.pid)
        w.ring.set_gate_flag(1)
        _continue(w)
        deadline = time.monotonic() + REST_S
        while time.monotonic() < deadline:
            if not w.ring.pending_stamp() and ctx.gate.resting(w):
                return
            ctx._drain()  # its ring read (a full one holds it), what is ready published
            time.sleep(0.005)

    def read(self, fd: int, poller: select.poll) -> None:
        """What the viewer sent; EOF: the viewer is gone (even if it was SIGKILLed)."""
        ctx = self.ctx
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            poller.unregister(fd)
            ctx.stop_reason = ctx.stop_reason or N_("viewer gone")
            return
        for line in data.decode("utf-8", "replace").splitlines():
            try:
                cmd = json.loads(line)
            except ValueError:
                continue
            if isinstance(cmd, dict):
                ctx.control(cmd)  # the engine's (another source of events overrides it)

    def run(self, cmd: Command) -> None:
        """Apply one control command: freeze, resume, kill, stop, or a registered one."""
        ctx = self.ctx
        action = cmd.get("cmd")
        live = [w for w in ctx.workers.values() if not w.exited]
        if action == "freeze":
            ctx.frozen = True  # (``Engine._thaw``: the stop lets them go on to their gates)
            signal_all(live, signal.SIGSTOP)
            ctx.emit(schema.CONTROL, action="freeze")
        elif action == "resume":
            ctx.frozen = False
            signal_all(live, signal.SIGCONT)
            ctx.emit(schema.CONTROL, action="resume")
        elif action == "kill":
            # the viewer names the process it shows: for a traced command, its program
            # (``Engine._model_pid``), not the strace running it, which is the worker
            pid = cmd.get("pid")
            target = next((w for w in live if pid in (w.pid, ctx._model_pid(w))), None)
            if target is not None:
                ctx.emit(schema.CONTROL, action="kill", target=pid)
                self._to_rest(target)
                signal_all([target], signal.SIGKILL)
                signal_all([target], signal.SIGCONT)
        elif action == "stop":
            ctx.stop_reason = N_("stopped by the user")
        else:
            handler = self.handlers.get(action) if isinstance(action, str) else None
            if handler is not None:
                handler(cmd)


def _continue(w: Worker) -> None:
    """SIGCONT to the worker alone (nothing, if it runs), not to its process group
    (``signal_all``): the children it forked, their gates open, would run on in a frozen
    run."""
    pidfd = w.extra.get("pidfd", -1)
    if pidfd >= 0:
        signal_pidfd(pidfd, signal.SIGCONT)
        return
    try:
        os.kill(w.pid, signal.SIGCONT)
    except ProcessLookupError:
        pass
