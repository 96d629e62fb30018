"""A scenario's ordinary commands (``scenario.command``), seen through strace.

The Python workers report through their rings as always; each traced command runs under a
strace of its own, whose lines feed the same linearizer (``StraceFeed``). So a Python
producer and ``cat`` reading its FIFO are one picture: the worker's writes from its ring,
``cat``'s reads from strace, both in one legal order. A command's program is shown as the
scenario's process (its name, its colour), not as the strace running it; what it forks
appears as its children.

Objects: the pipes a command makes are discovered from its calls; the scenario's FIFOs and
System V queues are shared (``Mapper.share``: a command finds them in ``$IPCVIZ_<NAME>``),
so its calls on them are operations on the very object the workers use. Objects a command
makes take their index from the run's object table, like a worker's, and are never
removed by ipcviz (the calls say when they go).

Where strace is missing or may not trace, the commands run untraced, seen by the kernel
probes alone, and the trace says why in one line (``notice``).
"""

from __future__ import annotations

import heapq
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipcviz.engine.drain import HOLD_NS
from ipcviz.engine.engine import Engine
from ipcviz.engine.probing import Prober
from ipcviz.engine.workers import Worker
from ipcviz.errors import IpcvizError
from ipcviz.events import phrases, schema
from ipcviz.mechanisms import fifo as fifo_type
from ipcviz.scenario.api import Process, Scenario
from ipcviz.sources.strace import feed
from ipcviz.sources.strace.engine import END_FIRST_S, _exited, say_left_behind
from ipcviz.sources.strace.feed import (
    Killer,
    StraceFeed,
    held_early,
    kill_traced,
    kill_unseen,
    still_registered,
    thaw_tracer,
)
from ipcviz.sources.strace.mapper import shareable
from ipcviz.sources.strace.source import StraceSource, check_ptrace, find_strace

#: Event kind of the one line saying the commands are seen by the probes alone, and why.
NOTICE = schema.NOTICE
#: Why a scenario's commands are not traced (the ``notice`` event's ``reason``).
UNTRACED = phrases.UNTRACED


def why_untraced() -> str | None:
    """Why commands cannot be traced here (a key of UNTRACED), or None."""
    try:
        find_strace()
    except IpcvizError:
        return "no-strace"
    try:
        check_ptrace()
    except IpcvizError:
        return "no-ptrace"
    return None


def traced_commands(scenario: Scenario) -> list[Process]:
    """The scenario's commands to be seen through strace."""
    return [p for p in scenario.processes if p.argv is not None and p.trace]


@dataclass
class Traced:
    """One traced command: its strace source and feed, and the worker running strace."""

    proc: Process
    source: StraceSource
    feed: StraceFeed
    worker: Worker | None = None
    early: bytes = b""  # output before the program's first call named its pid
    done: bool = False  # strace has ended and everything it wrote is handed over
    failed: bool = False  # following it failed (said once): its lines are dropped


class CommandsEngine(Engine):
    """A scenario's engine whose commands are traced (see the module's docstring)."""

    def __init__(self, scenario: Scenario, trace_path: Path, **kwargs: Any) -> None:
        super().__init__(scenario, trace_path, **kwargs)
        #: process name → its strace (not ``Engine.traced``: whether workers get rings)
        self.straced: dict[str, Traced] = {}
        #: commands that still ran when the engine shut down: ipcviz ended them
        self._cut_short: set[str] = set()
        self.killer = Killer(self.registry)  # ``k``: each process stopped, then killed
        self.drainer.horizons.append(self._horizon)

    # -- set-up -----------------------------------------------------------------------------

    def _create_objects(self) -> None:
        super()._create_objects()
        why = why_untraced()
        if why is not None:
            said = UNTRACED[why]
            self.emit(NOTICE, message=said, reason=why)
            return
        first: Any = None
        for proc in traced_commands(self.scenario):
            fifo = os.path.join(self.session.fifo_dir, f"strace-{proc.name}")
            self.session.register({"type": fifo_type.MECHANISM.type, "path": fifo})
            source = StraceSource(list(proc.argv or ()), self.obj_names, fifo)
            mapper = source.mapper
            mapper.root_name = proc.name
            mapper.root_step = proc.step
            mapper.allocate = self._allocate
            if first is None:
                first = mapper
            else:  # one set of objects for all commands: two may use one queue of theirs
                mapper.objects_of(first)
            for obj in self.scenario.objects:
                mapper.share(obj, obj.index)  # (Scenario.add numbered it)
            traced = Traced(proc, source, StraceFeed(mapper, self.lin, self.t0))
            traced.feed.register = self.registry.add_proc
            traced.feed.tracer = lambda t=traced: t.worker.pid if t.worker else None
            self.straced[proc.name] = traced

    def _allocate(self, name: str) -> int:
        """A new object a command's calls named: the next index of the run (one index
        space with the workers' objects), named here at once."""
        names = self.obj_names

        def named(index: int) -> None:
            len(names)  # every worker's object below ``index`` is named first
            while list.__len__(names) < index:  # (an unreadable entry: keep them aligned)
                list.append(names, f"obj{list.__len__(names)}")
            list.append(names, name)

        return self.adopter.table.reserve(named)

    def _source_fds(self) -> list[int]:
        return [t.source.fd for t in self.straced.values()]

    def _runs(self, proc: Process) -> Process:
        traced = self.straced.get(proc.name)
        if traced is None:
            return proc
        return Process(proc.name, None, proc.index, tuple(traced.source.argv()), True, proc.step)

    def _started(self, w: Worker, color: int) -> None:
        traced = self.straced.get(w.proc.name)
        if traced is None:
            super()._started(w, color)
            return
        traced.worker = w
        w.extra["traced"] = traced
        traced.source.mapper._colors = color  # the program wears the process's colour
        traced.source.mapper.command = list(traced.proc.argv or ())

    def _install_watchers(self) -> None:
        CommandsProber(self, self.probe_interval).install()
        self.adopter.install()
        self.on_end.append(self._left_behind)
        self.cleanup_at_end.append(self._left_behind)

    def _left_behind(self) -> None:
        """What a command made and left (a queue, a FIFO it made): named; removed too if
        ipcviz ended the command (it still ran at shutdown: it never got to)."""
        said: set[tuple[str, str, int | str]] = set()
        for traced in self.straced.values():  # (commands share their objects: each once)
            ended_by_us = traced.proc.name in self._cut_short
            said = say_left_behind(self.emit, traced.source, said, remove=ended_by_us)

    # -- the loop ---------------------------------------------------------------------------

    def _drain(self, only: Worker | None = None, flush: bool = False) -> bool:
        more = False
        if only is None:
            more = self._read_all()
            self.killer.due()
            for traced in self.straced.values():
                if traced.early and traced.source.mapper.root is not None:
                    self._output(traced.worker, b"")  # type: ignore[arg-type]
        return self.drainer.drain(only, flush) or more

    def _read_all(self) -> bool:
        """Every strace's new lines, fed to the mappers in one order of time: the commands
        share their objects' state (``Mapper.objects_of``), so one command's removal of a
        queue must not be applied before another's earlier use of it, read in the same turn."""
        live = [t for t in self.straced.values() if not t.failed]
        more = False
        for traced in live:
            more = self._follow(traced, lambda s=traced.source: s.read(collect=True)) or more
        streams = [[(line.t, k, line) for line in t.source.pending] for k, t in enumerate(live)]
        for _, k, line in heapq.merge(*streams, key=lambda x: (x[0], x[1])):
            traced = live[k]
            if not traced.failed:
                self._follow(traced, lambda m=traced.source.mapper, x=line: m.feed(x))
        for traced in live:
            traced.source.pending.clear()
            if traced.source.unsettled and not traced.failed:
                self._follow(traced, traced.source.settle)
        return more

    def _follow(self, traced: Traced, read: Any) -> bool:
        """``read`` strace's new lines and hand them over. A failure is said once, in one
        line, and that command is no longer followed (its strace's lines are dropped): the
        run goes on, the workers' records are still published, nothing is lost twice."""
        if traced.failed:
            return False
        try:
            more = bool(read()) if traced.source.fd >= 0 else False
            traced.feed.hand_over()
            return more
        except Exception as exc:  # a bug of ours, or a limit: never the whole run's end
            traced.failed = True
            traced.done = True
            traced.source.mapper.out = []
            traced.source.close()
            why = f"{type(exc).__name__}: {exc}"
            self.emit(schema.ERROR, message=f"cannot follow command {traced.proc.name}: {why}")
            return False

    def _horizon(self) -> int | None:
        """Nothing after what every live strace has written, less the hold (its lines
        come as the calls return; what is under way is its process's next line)."""
        live = [t.source.horizon for t in self.straced.values() if not t.done]
        return min(live) - HOLD_NS if live else None

    def _finish_worker(self, w: Worker, status: int | None, poller: Any) -> None:
        traced = w.extra.get("traced")
        if traced is None:
            super()._finish_worker(w, status, poller)
            return
        self._read_output(w.out_fd, poller, final=True)
        w.exited = True
        w.exit_status = status
        self._follow(traced, traced.source.finish)
        mapper = traced.source.mapper
        if mapper.root is None:  # strace could not start it: the worker is the process
            self._never_ran(traced, w, status)
        else:
            killed = self.stop_reason is not None or self.outcome is not None
            unseen = killed or kill_unseen(self.emit, self.registry, traced.source.mapper, status)
            traced.feed.unended(time.monotonic_ns(), unseen)
        traced.done = True
        if traced.early:
            self._output(w, b"")

    def _never_ran(self, traced: Traced, w: Worker, status: int | None) -> None:
        """strace said why (its output) and ended: shown as a plain worker's exit, with
        the command's argv (the program that never ran), not strace's."""
        super()._started(Worker(traced.proc, w.pid, w.color, None, -1), w.color)
        fields: dict[str, Any] = {"code": os.waitstatus_to_exitcode(status) if status else 0}
        stamp = time.monotonic_ns()
        event = {"t": stamp - self.t0, "seq": -1, "pid": w.pid, "kind": schema.PROC_EXIT}
        self.lin.add_event({**event, **fields}, stamp, pid=w.pid)
        traced.source.mapper.root = w.pid  # its output is the worker's own

    def _output(self, w: Worker, data: bytes) -> None:
        """A command's output is its program's (strace shares its stdout and stderr)."""
        traced = w.extra.get("traced")
        if traced is None:
            super()._output(w, data)
            return
        root = traced.source.mapper.root
        if root is None:  # held from its first byte; past the cap, ``output`` says the cut
            traced.early = held_early(traced.early, data)
            return
        data, traced.early = traced.early + data, b""
        if data:
            super()._output(Worker(w.proc, root, w.color, None, -1), data)

    def control(self, cmd: dict[str, Any]) -> None:
        """``kill`` of a command's process (its program, or what it forked: the pids the
        screen shows) kills that process alone, as the user asked; strace then reports its
        death like any other. Everything else is the engine's."""
        pid = cmd.get("pid")
        if cmd.get("cmd") == "kill" and isinstance(pid, int):
            for t in self.straced.values():
                if kill_traced(self.emit, self.registry, t.source.mapper, pid, self.killer):
                    if self.frozen:
                        thaw_tracer(t.feed.tracer())
                    return
        super().control(cmd)

    def _model_pid(self, w: Worker) -> int:
        traced = w.extra.get("traced")
        if traced is not None and traced.source.mapper.root is not None:
            return traced.source.mapper.root
        return w.pid

    def _unseen_pids(self) -> set[int]:
        return {t.worker.pid for t in self.straced.values() if t.worker is not None}

    def _quiesce(self) -> None:
        """The workers stop at their gates (``Engine._quiesce``); then the commands still
        running are ended while their straces watch (``_end_commands_first``)."""
        super()._quiesce()
        self._end_commands_first()

    def _end_commands_first(self) -> None:
        """Each process of a command still running gets SIGSTOP, then SIGKILL once its
        strace showed it stopped (``Killer``), and each strace then ends by itself (at most
        ``END_FIRST_S``, or as long as a test holds a strace: ``feed.STOP_FIRST_S``), as a
        program's do (``ProgramEngine._end_program_first``).

        The stop killed strace's process group at once, strace with its command: a call
        the command had made and strace had not printed yet was never shown. A message a
        command took stayed queued in the picture while the kernel's queue held one less,
        and a send the room it made let through was an ``order.conflict`` (2 stops in 3 of
        two commands flooding a System V queue)."""
        running = [t for t in self.straced.values() if t.worker is not None and not t.worker.exited]
        asked: set[int] = set()
        deadline = time.monotonic() + max(END_FIRST_S, 2 * feed.STOP_FIRST_S)
        while time.monotonic() < deadline:
            waiting = False
            for traced in running:
                mapper = traced.source.mapper
                if traced.failed or _exited(traced.worker.pid):  # type: ignore[union-attr]
                    continue
                for pid in mapper.unended():
                    if pid not in asked and still_registered(self.registry, pid):
                        asked.add(pid)
                        self.killer.request(mapper, pid)
                waiting = waiting or any(p in asked for p in mapper.procs)
            if not waiting:
                return
            # strace's lines only, and the kills they allow: the backlog is put in order
            # after (``_end_program_first``)
            self._read_all()
            self.killer.due()
            time.sleep(0.005)

    def _shutdown(self) -> None:
        self._cut_short = {
            name for name, t in self.straced.items() if t.worker is not None and not t.worker.exited
        }
        super()._shutdown()
        for traced in self.straced.values():
            traced.source.close()
            traced.source.mapper.let_go()


class CommandsProber(Prober):
    """The kernel prober with traced commands: their processes are probed as the calls
    name them (not the strace running them); their pipes are not discovered from /proc
    (strace names them); and an object a command shares is not compared with the model,
    whose view of it runs behind the kernel by strace's delay."""

    def _probe_all(self, live: list[Any], compare: bool = True) -> None:
        engine: CommandsEngine = self.engine
        super()._probe_all([w for w in live if "traced" not in w.extra], compare)
        model = engine.model.procs
        for traced in engine.straced.values():
            for pid, proc in list(traced.source.mapper.procs.items()):
                if not proc.thread and not proc.ended and pid in model:
                    self._probe_proc(pid)

    def _compare(self, obj: Any, k: dict[str, Any], blocked: dict[int, str | None]) -> None:
        if self.engine.straced and shareable(obj) is not None:
            return
        super()._compare(obj, k, blocked)
