"""What one strace tells, handed to the linearizer: the one path from strace's lines to the
engine's pool, shared by ``ipcviz run -- PROG``, ``ipcviz attach`` and a scenario's traced
commands (``scenario.command``).

The mapper turns lines into actions; this hands them over in each process's program order
(records batched per lane, a process's start and its other events in between), and
registers each traced process the run owns, so ``ipcviz clean`` can kill it if the engine
dies.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

from ipcviz.engine.life import OUTPUT_CAP
from ipcviz.events import phrases, schema


def held_early(early: bytes, data: bytes) -> bytes:
    """Output a traced program printed before strace's first line named it, held until
    then: from its first byte (its first lines are the ones a reader needs), at most one
    byte past the output cap, so the event that hands it over says where it was cut."""
    return early + data[: max(0, OUTPUT_CAP + 1 - len(early))]


def traced_by(pid: int, tracer: int) -> bool:
    """Whether ``pid`` is a process ``tracer`` traces now (``TracerPid`` in its status)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return line.split()[1:2] == [str(tracer)]
    except OSError:
        return False
    return False


class StraceFeed:
    """``hand_over()`` after each read of the source: the mapper's actions → ``lin``."""

    def __init__(
        self,
        mapper: Any,
        lin: Any,
        t0: int,
        register: Callable[[int], None] | None = None,
        tracer: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.mapper = mapper
        self.lin = lin
        self.t0 = t0
        #: called with each traced process the run owns (None: the run owns none, attach)
        self.register = register
        #: strace's pid, once forked: a process is registered only while it traces it
        self.tracer = tracer

    def hand_over(self) -> None:
        """The mapper's actions → the linearizer, each process's in its program order."""
        actions = self.mapper.out
        if not actions:
            return
        self.mapper.out = []
        lin, t0 = self.lin, self.t0
        batch: list[Any] = []
        lane = 0
        for action in actions:
            what = action[0]
            if what == "rec":
                if batch and action[1] != lane:
                    lin.add_records(lane, batch)
                    batch = []
                lane = action[1]
                rec = action[2]
                batch.append(tuple(rec) if isinstance(rec, tuple) else rec)
                continue
            if batch:
                lin.add_records(lane, batch)
                batch = []
            if what == "start":
                _, pid, started, t, fields = action
                self._own(pid)
                lin.started(pid, started)
                event = {"t": t - t0, "seq": -1, "pid": pid, "kind": schema.PROC_START, **fields}
                lin.add_event(event, t, pid)
            else:
                _, pid, t, event = action
                event["t"] = t - t0
                lin.add_event(event, t, pid)
        if batch:
            lin.add_records(lane, batch)

    def unended(self, stamp: int, killed: bool | set[int]) -> None:
        """strace has ended: each process it never saw end ended then, unseen: killed with
        it (``killed``: the run was stopped, the whole group got SIGKILL; or these pids
        were), else with a status no one knows."""
        for pid in self.mapper.unended():
            fields: dict[str, Any] = {"code": None}
            if killed is True or (isinstance(killed, set) and pid in killed):
                fields = {"signal": int(signal.SIGKILL), "signame": "SIGKILL"}
            event = {"t": stamp - self.t0, "seq": -1, "pid": pid, "kind": schema.PROC_EXIT}
            self.lin.add_event({**event, **fields}, stamp, pid)

    def _own(self, pid: int) -> None:
        """Registered: if the engine is killed (strace dies with it and leaves the program
        running, detached), ``clean`` kills it by pid and start time. Only while our strace
        still traces it: a process that already ended may have left its pid to a stranger,
        whose start time must not be recorded."""
        tracer = self.tracer()
        if self.register is not None and tracer is not None and traced_by(pid, tracer):
            self.register(pid)


def still_registered(registry: Any, pid: int) -> bool:
    """``pid`` is still the process the run registered under it (same start time): never
    a stranger that took the pid of one that ended."""
    from ipcviz.session.registry import proc_start_time

    started = [p.get("start") for p in registry.data["procs"] if p.get("pid") == pid]
    return bool(started) and started[-1] is not None and proc_start_time(pid) == started[-1]


#: How long at most a traced process is given to stop (SIGSTOP, seen by strace) before
#: its SIGKILL (``Killer``, ``ProgramEngine._end_program_first``). A test that holds a
#: strace on purpose makes it longer (``$IPCVIZ_TEST_STOP_FIRST_S``): its own pace must
#: never decide what the stop keeps.
STOP_FIRST_S = float(os.environ.get("IPCVIZ_TEST_STOP_FIRST_S") or 0.5)


class Killer:
    """SIGKILL for traced processes, each stopped first: killed as a call returned, a
    process had made the call and strace could only print ``= ?`` (a message its send put
    in a queue came out of nowhere: ``order.conflict`` on a correct program). SIGSTOP now;
    SIGKILL once strace showed each of its threads stopped (``Mapper.all_stopped``), or
    after ``STOP_FIRST_S``. ``due()`` is asked every engine turn."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        #: pid → (its mapper, when its SIGSTOP was sent (strace's clock, µs), deadline)
        self.pending: dict[int, tuple[Any, int, float]] = {}

    def request(self, mapper: Any, pid: int) -> None:
        if pid in self.pending:
            return
        self.pending[pid] = (mapper, time.time_ns() // 1000, time.monotonic() + STOP_FIRST_S)
        try:
            os.kill(pid, signal.SIGSTOP)
        except ProcessLookupError:
            pass

    def due(self) -> None:
        now = time.monotonic()
        for pid, (mapper, since, deadline) in list(self.pending.items()):
            proc = mapper.procs.get(pid)
            live = proc is not None and not proc.ended
            if live and now < deadline and not mapper.all_stopped(pid, since):
                continue  # not seen stopped yet: a call of its may still be returning
            del self.pending[pid]
            if proc is None or proc.ended or not still_registered(self.registry, pid):
                continue  # (stopped, it could not end and leave its pid to a stranger)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def kill_traced(
    emit: Callable[..., Any], registry: Any, mapper: Any, pid: int, killer: Killer
) -> bool:
    """``k`` on a process strace watches for the run: stop, then SIGKILL it alone
    (``Killer``; strace then reports its death as any other), once it is known to still be
    the process registered under ``pid``. False when ``mapper`` does not know ``pid``
    (another source may)."""
    proc = mapper.procs.get(pid)
    if proc is None:
        return False
    if proc.thread or proc.ended or not still_registered(registry, pid):
        return True  # gone (its pid may be a stranger's by now): never signal that
    emit(schema.CONTROL, action="kill", target=pid)
    killer.request(mapper, pid)
    return True


def thaw_tracer(tracer: int | None) -> None:
    """``k`` in a frozen run: SIGCONT to the strace that watches the victim, alone (its
    program's processes stay stopped). ``Killer`` waits for strace to show the victim
    stopped; the freeze had stopped strace too, so it never could, and after
    ``STOP_FIRST_S`` the SIGKILL found the victim with a call strace had not printed (it
    then says ``= ?``: a message the victim had received stayed queued in the picture).
    Running, strace prints that call, then the stop; a process it held at a call's entry
    may make that one call before its own SIGSTOP stops it (printed as any other)."""
    if tracer is None:
        return
    try:
        os.kill(tracer, signal.SIGCONT)
    except ProcessLookupError:
        pass


def kill_unseen(
    emit: Callable[..., Any], registry: Any, mapper: Any, status: int | None
) -> set[int]:
    """strace ended while processes it never saw end ran (it was killed, it crashed): they
    would run on unseen while the picture showed them ended. Each still ours (the start
    time registered) is killed now, and the trace says so in one line. Returns their pids."""
    left = [p for p in mapper.unended() if still_registered(registry, p)]
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if left:
        said = phrases.STRACE_ENDED.format(
            name=mapper.root_name, status=_status_said(status), pids=", ".join(map(str, left))
        )
        emit(schema.ERROR, message=said)
    return set(left)


def _status_said(status: int | None) -> str:
    """A wait status as ``SIGKILL`` or ``exit 1``."""
    if status is None:
        return "?"
    if os.WIFSIGNALED(status):
        try:
            return signal.Signals(os.WTERMSIG(status)).name
        except ValueError:  # a real-time signal has no name of its own
            return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.waitstatus_to_exitcode(status)}"
