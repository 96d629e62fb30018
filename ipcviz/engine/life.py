"""The workers' lives as the engine sees them: reaped, their last records and output read,
their ``proc.exit`` placed after their last operation, signalled, killed at the end.

Why a part of its own: it is the only code that waits for children and reads their
output; the rest of the engine asks it ("reap", "finish", "kill what is left").
"""

from __future__ import annotations

import os
import select
import signal
import time
from typing import Any

from ipcviz.engine.adopt import signal_pidfd
from ipcviz.engine.context import EngineContext
from ipcviz.engine.workers import Worker
from ipcviz.events import schema
from ipcviz.events.codec import b64
from ipcviz.scenario.api import Process
from ipcviz.session.cleanup import kill_leftovers

#: Bytes of stdout/stderr recorded per process; the rest is dropped (the trace says so).
OUTPUT_CAP = 1 << 20


def _cut(cut: int | None) -> dict[str, int]:
    return {} if cut is None else {"cut": cut}


def capped(seen: int, data: bytes, size: int | None = None) -> tuple[bytes, int | None] | None:
    """What to record of a process's write of ``size`` bytes (``data``: those known; strace
    may show fewer) when ``seen`` bytes of its output came before: at most ``OUTPUT_CAP`` in
    all. Returns (bytes kept, ``cut``) or None (nothing to record: the cut was said). ``cut``,
    set when part of this write is not recorded, counts the process's recorded bytes up to
    that point. A write that ends exactly at the cap is whole: the next one says the cut."""
    size = len(data) if size is None else size
    kept = data[: max(0, OUTPUT_CAP - seen)]
    if len(kept) == size:
        return kept, None
    if seen > OUTPUT_CAP:  # only a write with a cut takes ``seen`` past the cap: said then
        return None
    return kept, min(seen, OUTPUT_CAP) + len(kept)


def signal_all(workers: list[Worker], sig: int) -> None:
    """Signal each worker's process group (or, for an adopted child, its pidfd)."""
    for w in workers:
        pidfd = w.extra.get("pidfd", -1)
        if pidfd >= 0:  # a child a worker forked: maybe not a group leader
            signal_pidfd(pidfd, sig)
            continue
        try:
            os.killpg(w.pid, sig)
        except ProcessLookupError:
            # Just forked, it has not made its own group yet (an error right after a
            # fork): signal the process itself, or it waits at the start barrier forever.
            try:
                os.kill(w.pid, sig)
            except ProcessLookupError:
                pass
        signal_groups(w, sig)


def signal_groups(w: Worker, sig: int) -> None:
    """Signal the other process groups a worker's signals reach (``extra["groups"]``):
    strace's program runs in a group of its own (``StraceSource._own_group``), and a
    freeze stops it with strace."""
    for group in w.extra.get("groups", ()):
        try:
            os.killpg(group, sig)
        except (ProcessLookupError, PermissionError):
            pass  # (not made yet, or every process of it gone)


class WorkerLife:
    """Reaping, final drains, output and the end of every worker (``ctx.workers``)."""

    def __init__(self, ctx: EngineContext, adopter: Any) -> None:
        self.ctx = ctx
        self.adopter = adopter
        self._output_seen: dict[int, int] = {}  # pid → bytes of output read

    def adopt(
        self,
        pid: int,
        ring: Any,
        name: str,
        parent: int = 0,
        gate_w: int = -1,
        pidfd: int = -1,
        forked_at: int = 0,
    ) -> Worker:
        """A process a worker forked announced its own ring: from now on it is drained,
        stepped, killed and reaped like a worker (``ipcviz/engine/adopt.py``). Its
        ``proc.start`` is the first record of that ring (stamped at fork time)."""
        ctx = self.ctx
        w = Worker(Process(name, None), pid, len(ctx.workers), ring, -1, gate_w=gate_w)
        w.extra.update(parent=parent, pidfd=pidfd)
        # the gates' state now (its parent's ring may be closed already: ``_let_go``)
        ring.set_gate_flag(ctx.gate.gate_flag)
        if gate_w >= 0:
            ctx.gate._gate_ino[pid] = os.fstat(gate_w).st_ino
        ctx.workers[pid] = w
        ctx.lin.started(pid, forked_at or time.monotonic_ns())
        ctx.registry.add_proc(pid)
        return w

    def reap(self, poller: select.poll | None) -> None:
        ctx = self.ctx
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            w = ctx.workers.get(pid)
            if w is None or w.exited:
                continue  # an orphaned grandchild re-parented to us: just reaped
            ctx._finish_worker(w, status, poller)

    def finish(self, w: Worker, status: int | None, poller: select.poll | None) -> None:
        """A worker ended: its ring is final; ``proc.exit`` follows its last record."""
        ctx = self.ctx
        self.adopter.check_exits()  # its children that ended already end first
        if w.exited:  # ended there (an orphan reaped here, its own pidfd readable too)
            return
        ctx._drain(only=w)
        ctx._read_output(w.out_fd, poller, final=True)
        w.exited = True
        w.exit_status = status
        ctx._check_stalls()  # a worker's last waits for a full ring, before its exit
        _let_go(w)
        fields: dict[str, Any] = {}
        if status is None:  # a forked child reaped by its parent, its status lost
            fields["code"] = None
        elif os.WIFSIGNALED(status):
            fields["signal"] = os.WTERMSIG(status)
            fields["signame"] = signal.Signals(fields["signal"]).name
        else:
            fields["code"] = os.waitstatus_to_exitcode(status)
        # After the worker's last operation, in its own program order.
        stamp = time.monotonic_ns()
        event = {"t": stamp - ctx.t0, "seq": -1, "pid": w.pid, "kind": schema.PROC_EXIT}
        ctx.lin.add_event({**event, **fields}, stamp, pid=w.pid)

    def read_output(self, fd: int, poller: select.poll | None, final: bool = False) -> None:
        """A worker's stdout and stderr, as ``proc.output``. Its ring is drained first: a
        line it printed after an operation must never be published before that operation,
        and with nothing else pending an engine event is published at once (a worker that
        received a job and printed "took job 9" was shown printing it before receiving)."""
        w = next((x for x in self.ctx.workers.values() if x.out_fd == fd), None)
        if w is None or w.out_fd < 0:
            return
        if w.ring is not None:
            self.ctx._drain(only=w)
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                data = None
            if data:
                self.ctx._output(w, data)
                continue
            if data == b"" or final:  # EOF, or the worker is gone
                if poller is not None:
                    poller.unregister(fd)
                os.close(fd)
                w.out_fd = -1
            return

    def output(self, w: Worker, data: bytes) -> None:
        """``proc.output``, at most OUTPUT_CAP bytes per process: a worker printing without
        end must not grow the engine and the trace without end. The event that reaches the
        cap says so (``cut``); the rest is read and dropped, so the worker never blocks."""
        seen = self._output_seen.get(w.pid, 0)
        self._output_seen[w.pid] = seen + len(data)
        took = capped(seen, data)
        if took is not None:
            kept, cut = took
            self.ctx.emit(schema.PROC_OUTPUT, w.pid, data=b64(kept), **_cut(cut))

    def check_stalls(self) -> None:
        """``tracer.stall`` for every worker that waited for a full ring since last time."""
        for w in self.ctx.workers.values():
            if w.ring is not None:
                stalls = w.ring.stalls()
                if stalls != w.stalls_seen:
                    self.ctx.emit(schema.TRACER_STALL, w.pid, count=stalls - w.stalls_seen)
                    w.stalls_seen = stalls

    # -- the end ------------------------------------------------------------------------

    def reap_all(self) -> None:
        """Reap the killed workers, for at most 3 s (never blocks past that)."""
        ctx = self.ctx
        deadline = time.monotonic() + 3
        while any(not w.exited for w in ctx.workers.values()) and time.monotonic() < deadline:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.005)
                continue
            w = ctx.workers.get(pid)
            if w is not None and not w.exited:
                ctx._finish_worker(w, status, None)

    def kill_grandchildren(self) -> None:
        """Kill what workers forked on their own, even after the worker itself exited.

        A dead worker's children are re-parented to us (subreaper); they keep the worker's
        process group and our session. Kill and reap until none is left (bounded).
        """
        registry = self.ctx.registry
        deadline = time.monotonic() + 3
        while kill_leftovers(registry.data, os.getpid()) and time.monotonic() < deadline:
            time.sleep(0.01)
            self.reap(None)
        self.reap(None)


def _let_go(w: Worker) -> None:
    """An ended worker's ring (read to its end: every record is in the pool) and its gate
    are closed at once, not at the run's end: a program forking thousands of children
    held three descriptors and a 4 MB mapping for each one that had ended (about 400 of
    them fill a descriptor limit of 1024)."""
    ring, w.ring = w.ring, None
    if ring is not None:
        try:
            ring.close()
        except (OSError, BufferError):
            pass
    if w.gate_w >= 0:
        try:
            os.close(w.gate_w)
        except OSError:
            pass
        w.gate_w = -1
