"""The engine's main loop: set up, supervise, drain, check, clean up — on every exit path.

``Engine`` composes small parts, each behind the narrow context of ``engine/context.py``:
``publish`` (emit, number, write, apply, hooks), ``drain`` (rings → the linearizer),
``life`` (reap, finish, output, kill), ``commands`` (control from the viewer),
``checks`` (the verdict) and ``periodic`` (tasks of the loop). What stays here is the
order of things: set-up, the loop, the shutdown. The underscore methods are the override
points of another source of events (``ipcviz/sources/strace/engine.py``).
"""

from __future__ import annotations

import errno
import gc
import json
import os
import select
import signal
import socket
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ipcviz.engine.adopt import Adopter
from ipcviz.engine.checks import run_checks
from ipcviz.engine.commands import Commands
from ipcviz.engine.drain import DRAIN_LIMIT, HOLD_NS, Drainer
from ipcviz.engine.gate import Gate
from ipcviz.engine.life import OUTPUT_CAP, WorkerLife, signal_all
from ipcviz.engine.linux import become_subreaper
from ipcviz.engine.periodic import Periodic
from ipcviz.engine.probing import Prober
from ipcviz.engine.publish import FLUSH_LINES, Publisher
from ipcviz.engine.stream import EventOut
from ipcviz.engine.workers import Worker, fork_worker
from ipcviz.errors import IpcvizError
from ipcviz.events import phrases, schema
from ipcviz.events.trace import TraceWriter
from ipcviz.i18n import N_
from ipcviz.model.state import State
from ipcviz.scenario.api import PidTable, Process, Scenario
from ipcviz.session.cleanup import kill_procs, remove_objects
from ipcviz.session.registry import (
    SESSION_ENV,
    Registry,
    files_dir_name,
    new_session_id,
    runtime_dir,
)

__all__ = ["DRAIN_LIMIT", "FLUSH_LINES", "HOLD_NS", "OUTPUT_CAP", "Engine", "EngineSession"]

#: Event kind: the trace file could not be written any more (the stream goes on).
RECORDING_STOPPED = "recording.stopped"
#: How long the loop sleeps when there is nothing to do (ms): bounds event latency.
IDLE_POLL_MS = 5
#: Seconds a stop waits for running workers to reach their gates before killing them.
QUIESCE_S = 0.5
#: The engine's niceness once the workers run (they keep their own).
ENGINE_NICE = 10


class EngineSession:
    """What kernel objects need to create themselves: names, registry, private FIFO dir."""

    def __init__(self, sid: str, registry: Registry) -> None:
        self.sid = sid
        self.registry = registry
        self._fifo_dir = ""

    @property
    def files_dir(self) -> str:
        """A private 0700 directory for this session's files (FIFOs, mapped files), made
        on first use."""
        if not self._fifo_dir:
            path = runtime_dir() / files_dir_name(self.sid)
            self.register({"type": "dir", "path": str(path)})
            os.mkdir(path, 0o700)
            self._fifo_dir = str(path)
        return self._fifo_dir

    fifo_dir = files_dir  # the name before mapped files lived there too

    def register(self, entry: dict[str, Any]) -> dict[str, Any]:
        self.registry.add_object(entry)
        return entry

    def update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.registry.update_object(old, new)


class Engine:
    def __init__(
        self,
        scenario: Scenario,
        trace_path: Path,
        timeout: float = 0.0,
        quick: bool = False,
        header_extra: dict[str, Any] | None = None,
        traced: bool = True,
        sid: str | None = None,
        probe_interval: float | None = None,
    ) -> None:
        self.scenario = scenario
        #: seconds between kernel sweeps (``EngineOptions.probe_interval``; None: default)
        self.probe_interval = probe_interval
        self.traced = traced  # False: workers run with no ring (benchmark baseline)
        self.params = scenario.settings(quick)
        #: The run follows the scenario's own schedule (``python -m ipcviz.engine`` says so
        #: in the header): its narration may tell that interleaving (``Context``).
        self.declared_schedule = bool((header_extra or {}).get("schedule_declared"))
        #: Niceness once the workers run. 0 for an explored run (ipcviz/explore/runner.py):
        #: there the gate chooses every step once the world has settled, so the engine's
        #: pace cannot change what happens, and a niced engine on a busy machine gets a
        #: tenth of a CPU: each step's round trip waits for it.
        self.nice = ENGINE_NICE
        self.timeout = timeout
        self.sid = sid or new_session_id()  # the viewer picks it, to clean up if we die
        self.t0 = time.monotonic_ns()
        meta = scenario.metadata()
        meta["params"] = self.params
        self.header = schema.header(
            meta,
            self.sid,
            datetime.now(UTC).isoformat(timespec="seconds"),
            socket.gethostname(),
            quick=quick,
            **(header_extra or {}),
        )
        # The trace first: if it cannot be created (it exists), no registry is left behind.
        trace = TraceWriter(trace_path, self.header)
        try:
            self.registry = Registry(self.sid, scenario.id)
        except BaseException:
            trace.close()
            os.unlink(trace_path)
            raise
        self.session = EngineSession(self.sid, self.registry)
        os.environ[SESSION_ENV] = self.sid  # inherited by all it starts: ``clean`` finds them
        # fd 1 is the event stream; anything else printing to stdout must not corrupt it.
        stream_fd = os.dup(1)
        os.dup2(2, 1)
        self.out = EventOut(stream_fd, trace)
        # (read by ``_viewer_gone``, which the header's own write may call: a viewer that
        # is gone already, e.g. ``python -m ipcviz.engine … | true``)
        self.outcome: str | None = None
        self.stop_reason: str | None = None
        #: stopped a second time: end at once, leaving out what is not yet put in order
        self.hurry = False
        self.out.on_viewer_gone = self._viewer_gone
        self.out.send_header(json.dumps(self.header, separators=(",", ":"), ensure_ascii=False))
        self.model = State(header=self.header)
        self.workers: dict[int, Worker] = {}
        self.adopter = Adopter(self)  # children workers fork, objects workers make
        self.obj_names = self.adopter.names
        self.step_ids = [s.id for s in scenario.steps]
        self.publisher = Publisher(self.out, self.model, self.t0, self.obj_names, self.step_ids)
        self.codec = self.publisher.codec
        #: drained operations, published in an order the kernel could have made
        self.lin = self.publisher.lin
        #: called with each turn's published events (gate, prober, watchers, explorer)
        self.on_events = self.publisher.on_events
        self.drainer = Drainer(self.workers, self.lin, self.publisher.run_hooks, self._held)
        self.drainer.adopt_announced = self.adopter.receive
        self.life = WorkerLife(self, self.adopter)
        self.commands = Commands(self)
        self.periodic = Periodic()  # probes and analyses hook in here (add_periodic)
        self._killed_at = 1 << 62  # (the stop's SIGKILL: ``_kill_live``)
        self.left_out = 0  # operations the hurried end left out (``Linearizer.abandon``)
        self.lin.halt = self._halt
        self.lin.hurried = lambda: self.hurry or self._quiescing
        self._quiescing = False  # (``_quiesce``: its drains read the rings, publish nothing)
        #: the user froze the run (``freeze``) and did not resume it: the stop thaws it
        self.frozen = False
        self._looping = False  # in ``_loop``: a command waiting ends a long turn
        self.exit_code = 0
        self._recording_told = False
        #: Called once at the end, every process gone, before the objects are removed.
        self.on_end: list[Callable[[], None]] = []
        #: ``on_end`` hooks that run after a hurried end too (``left_out``): what removes
        #: what a traced program left, where the others only read the objects
        self.cleanup_at_end: list[Callable[[], None]] = []
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._wake_r, self._wake_w):
            os.set_blocking(fd, False)
        self._created: list[Any] = []
        # One fd kept free for the shutdown: under a low ``ulimit -n`` the run may use every
        # descriptor, and cleaning up needs one (/proc, the registry, a System V lookup).
        self._spare_fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        self.gate = Gate(self)  # step mode, deadlock and lost-update watchers (engine/gate.py)

    # -- events -------------------------------------------------------------------------

    def now(self) -> int:
        return time.monotonic_ns() - self.t0

    def emit(self, kind: str, pid: int = 0, **fields: Any) -> dict[str, Any]:
        """An event from the engine itself (``Publisher.emit``; bound in ``__init__``)."""
        return self.publisher.emit(kind, pid, **fields)

    def _run_hooks(self) -> None:
        self.publisher.run_hooks()

    def add_command(self, name: str, fn: Callable[[dict[str, Any]], None]) -> None:
        """A control command by name (``{"cmd": NAME, …}`` from the viewer)."""
        self.commands.add(name, fn)

    def add_periodic(self, interval: float, fn: Callable[[], None]) -> None:
        """``fn`` from the loop every ``interval`` seconds (0: every turn)."""
        self.periodic.add(interval, fn)

    def _held(self) -> bool:
        """The gate lets one operation run at a time (stepped, paced, presented): nothing
        needs to be held back for the rings to catch up."""
        gate = self.gate
        return gate.step_mode or gate.present or gate.pace is not None

    # -- set-up ---------------------------------------------------------------------------

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: Any) -> None:
            if self.stop_reason is not None:
                self.hurry = True  # asked again while stopping: at once (``_drain_all``)
            self.stop_reason = self.stop_reason or signal.Signals(signum).name

        def hurry(signum: int, _frame: Any) -> None:
            """The viewer's second stop (``EngineProcess.hurry``): the user's, at once."""
            self.stop_reason = self.stop_reason or N_("stopped by the user")
            self.hurry = True

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, stop)
        signal.signal(signal.SIGUSR1, hurry)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self._wake_w)
        # the viewer starts the engine with it blocked (``EngineProcess``): one that came
        # before is handled now
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})

    def _create_objects(self) -> None:
        for obj in self.scenario.objects:
            obj.create(self.session)
            self._created.append(obj)
            self.emit(schema.OBJ_DECLARE, **obj.declare())

    def _start_workers(self) -> None:
        start_r, start_w = os.pipe()
        self.scenario.pids = pids = PidTable(len(self.scenario.processes))
        private = [self.out.stream_fd, self._wake_r, self._wake_w, self.out.trace.fd, start_w]
        private += self.adopter.private_fds() + self._source_fds()
        for color, proc in enumerate(self.scenario.processes):
            w = self._fork(
                proc.name,
                self.scenario,
                self._runs(proc),
                color,
                self.params,
                self.scenario.objects,
                private
                + self.gate.private_fds()
                + [fd for x in self.workers.values() for fd in (x.out_fd, x.gate_w)],
                start_r,
                bell_w=self.gate.bell_w,
                traced=self.traced,
                link=self.adopter.link(),
                declared_schedule=self.declared_schedule,
            )
            self.workers[w.pid] = w
            self.lin.started(w.pid, time.monotonic_ns())
            pids.set(len(self.workers) - 1, w.pid)
            # Saved once, below, before any worker starts: a worker forked meanwhile dies
            # with the engine (PR_SET_PDEATHSIG, in the engine's session for ``clean``).
            self.registry.add_proc(w.pid, save=False)
            self._started(w, color)
        self.registry.save()
        for obj in self.scenario.objects:
            obj.in_engine_after_fork()
        self.gate.armed()  # step mode from the start (--seed/--schedule): gates closed now
        os.close(start_r)
        os.close(start_w)  # every worker's read() returns: they all start now

    def _source_fds(self) -> list[int]:
        """Descriptors of another event source, closed in every worker (none here)."""
        return []

    def _runs(self, proc: Process) -> Process:
        """What is forked for a scenario process: itself (another source may wrap it)."""
        return proc

    def _started(self, w: Worker, color: int) -> None:
        """A worker is forked: its ``proc.start``."""
        fields: dict[str, Any] = {"name": w.proc.name, "color": color}
        if w.proc.argv is not None:
            fields["command"] = list(w.proc.argv)
        self.emit(schema.PROC_START, w.pid, **fields)
        if w.proc.step is not None:  # a command's step, said for it (``Scenario.command``)
            self.emit(schema.NARRATE, w.pid, step=w.proc.step)

    def _install_watchers(self) -> None:
        """The kernel prober and the adopter of what workers fork (another source of
        events, ``ipcviz/sources/``, installs its own)."""
        Prober(self, self.probe_interval).install()
        self.adopter.install()

    @staticmethod
    def _fork(name: str, *args: Any, **kwargs: Any) -> Worker:
        """fork_worker; a process or descriptor limit is a clear error, not a traceback."""
        try:
            return fork_worker(*args, **kwargs)
        except OSError as exc:
            hint = {
                errno.EAGAIN: " (the process limit, ulimit -u?)",
                errno.EMFILE: " (the descriptor limit, ulimit -n?)",
            }.get(exc.errno or 0, "")
            raise IpcvizError(f"cannot start process {name}: {exc.strerror}{hint}") from None

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> int:
        """Run the scenario to its end (or a stop); always cleans up. Returns the exit code."""
        try:
            self._install_signals()
            become_subreaper()
            if self.stop_reason is not None:  # the viewer was gone before anything ran
                return self.exit_code
            try:
                self._create_objects()
                self._start_workers()
                self._install_watchers()
                # The watcher yields to the watched: workers (forked above) keep their
                # priority; the engine does its work in their gaps. A full ring makes a
                # worker wait, so the engine can never fall behind for long.
                if self.nice:
                    os.nice(self.nice)
                # Start-up objects live for the whole run: keep them out of every GC pass;
                # events are short-lived dicts, so collect the young generation less often.
                gc.freeze()
                gc.set_threshold(20_000, 20, 20)  # the kernel's view, several times a second
            except IpcvizError as exc:
                self._fail(str(exc))
                return self.exit_code
            self.out.flush()
            try:
                self._loop()
            except IpcvizError as exc:  # a limit met on the way (a forked child's ring)
                self._fail(str(exc))
            if self.stop_reason is None and self.outcome is None:
                # The kernel's last look first (every worker gone, the objects still
                # there): a check about the kernel's view then reads the final state, not
                # whichever sweep or narration probe happened to come last (``ShmObj.kernel_cell``).
                _guarded(self._end_hooks)
                self._run_checks()
        except Exception as exc:  # an engine bug: still clean up, and say what happened
            traceback.print_exc()  # to the engine's stderr, which the CLI keeps
            self._fail(phrases.INTERNAL.format(error=f"{type(exc).__name__}: {exc}"))
        finally:
            self._shutdown()
        return self.exit_code

    def _viewer_gone(self) -> None:
        """No one is left to stop it twice: end at once, as a second stop would. Ordering a
        flood's backlog for everything it held took minutes of a CPU and gigabytes, for an
        engine no one watched (the viewer SIGKILLed mid-flood, or while the stop ordered)."""
        if self.outcome is None:  # (a run that ended by itself keeps its own end)
            self.stop_reason = self.stop_reason or N_("viewer gone")
        self.hurry = True

    def _halt(self) -> bool:
        """Asked every 256 operations the linearizer emits: end a long turn for the
        user's second stop, or, in the loop, for a command waiting (a stop must not wait
        while a turn orders a backlog of 100,000 operations and the workers run on)."""
        if self.hurry:
            return True
        if not self._looping:
            return False
        try:
            return bool(select.select([0], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def _loop(self) -> None:
        self._looping = True
        try:
            self._turns()
        finally:
            self._looping = False

    def _turns(self) -> None:
        poller = select.poll()
        poller.register(0, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        poller.register(self.gate.bell_r, select.POLLIN)
        for w in self.workers.values():
            poller.register(w.out_fd, select.POLLIN)
        deadline = time.monotonic() + self.timeout if self.timeout > 0 else None
        next_stall_check = 0.0
        while True:
            busy = self._drain()
            self._reap(poller)
            now = time.monotonic()
            self.periodic.run_due(now)
            if now >= next_stall_check:
                next_stall_check = now + 0.1
                self._check_stalls()
            self.out.flush()
            if self.stop_reason is not None:
                return
            if all(w.exited for w in self.workers.values()):
                # No record can come any more: everything is put in order now, before the
                # checks read the model. A viewer command waiting must not end this turn
                # (``_halt``): a Ctrl-C as the run ended left the rest unpublished, and the
                # checks failed a correct run on the part they saw.
                self._looping = False
                self._drain(flush=True)
                return
            if deadline is not None and now >= deadline + self.gate.held_seconds():
                running = ", ".join(w.name for w in self.workers.values() if not w.exited)
                self._fail(
                    phrases.TIMEOUT.format(seconds=f"{self.timeout:g}", running=running),
                    outcome="timeout",
                    code=1,
                )
                return
            for fd, _ev in poller.poll(0 if busy else IDLE_POLL_MS):
                if fd == 0:
                    self.commands.read(0, poller)
                elif fd == self.gate.bell_r:
                    self.gate.on_bell()
                elif fd == self._wake_r:
                    try:
                        os.read(self._wake_r, 4096)
                    except BlockingIOError:
                        pass
                else:
                    self._read_output(fd, poller)

    def adopt_ring(
        self,
        pid: int,
        ring: Any,
        name: str,
        parent: int = 0,
        gate_w: int = -1,
        pidfd: int = -1,
        forked_at: int = 0,
    ) -> Worker:
        """A process a worker forked announced its own ring (``WorkerLife.adopt``)."""
        return self.life.adopt(pid, ring, name, parent, gate_w, pidfd, forked_at)

    def _drain(self, only: Worker | None = None, flush: bool = False) -> bool:
        """Rings → pool → published (``Drainer.drain``); overridden by another source."""
        return self.drainer.drain(only, flush)

    def _check_recording(self) -> None:
        """Say once, in the stream, that the trace file stopped growing (full disk, EFBIG)."""
        trace = self.out.trace
        if trace.error is None or self._recording_told:
            return
        self._recording_told = True
        why = trace.error.strerror or str(trace.error)
        self.emit(
            RECORDING_STOPPED, message=phrases.RECORDING_STOPPED.format(why=why, path=trace.path)
        )

    def _check_stalls(self) -> None:
        self._check_recording()
        self.life.check_stalls()

    def _reap(self, poller: select.poll | None) -> None:
        self.life.reap(poller)

    def _finish_worker(self, w: Worker, status: int | None, poller: select.poll | None) -> None:
        """A worker ended: its ring is final; ``proc.exit`` follows its last record."""
        self.life.finish(w, status, poller)

    def _read_output(self, fd: int, poller: select.poll | None, final: bool = False) -> None:
        self.life.read_output(fd, poller, final)

    def _output(self, w: Worker, data: bytes) -> None:
        """``proc.output`` (capped, ``WorkerLife.output``); overridden by another source."""
        self.life.output(w, data)

    # -- control ----------------------------------------------------------------------

    def control(self, cmd: dict[str, Any]) -> None:
        """Apply one control command: freeze, resume, kill, stop, or a registered one."""
        self.commands.run(cmd)

    _signal_all = staticmethod(signal_all)

    # -- the end ------------------------------------------------------------------------

    def _run_checks(self) -> None:
        self.outcome, self.exit_code = run_checks(self, self._model_pid)

    def _model_pid(self, w: Worker) -> int:
        """The process of the model that a worker is (another source may show it as
        another pid: a traced command is its program, not the strace running it)."""
        return w.pid

    def _unseen_pids(self) -> set[int]:
        """Processes of the session that are no party to its IPC (the strace running a
        command): the deadlock proof leaves them out, or a strace asleep in wait4 would
        be named in a cycle as a process that could send to a queue, and killed."""
        return set()

    def _fail(self, message: str, outcome: str = "error", code: int = 2, **data: Any) -> None:
        """``message`` in English (the trace's language); ``data`` lets a viewer word it."""
        self.emit(schema.ERROR, message=message, **data)
        self.outcome, self.exit_code = outcome, code

    def _end_hooks(self, hurried: bool = False) -> None:
        """The last look at the objects (the final kernel probe), once: before the checks
        when the run ended normally, else at shutdown; a failing hook is reported.
        ``hurried``: operations were left out (the stream is a prefix): no look, which
        would show objects as the stream never made them, only ``cleanup_at_end`` (a
        traced program's leftovers are still removed, as after any stop)."""
        hooks, self.on_end = self.on_end, []
        for hook in hooks:
            if hurried and hook not in self.cleanup_at_end:
                continue
            try:
                hook()
            except Exception as exc:
                traceback.print_exc()
                self.emit(schema.ERROR, message=phrases.INTERNAL_AT_END.format(error=repr(exc)))

    def _kill_grandchildren(self) -> None:
        self.life.kill_grandchildren()

    def _shutdown(self) -> None:
        """Kill what still runs, remove every kernel object, end the stream. Never raises:
        every step is guarded, so one that fails (EMFILE on /proc under ``ulimit -n``, a
        full disk) never skips the ones after it."""
        try:
            os.close(self._spare_fd)  # the descriptor kept for this moment
        except OSError:
            pass
        _guarded(self._quiesce)
        live = [w for w in self.workers.values() if not w.exited]
        for step in (
            lambda: self._kill_live(live),
            lambda: self._signal_all(live, signal.SIGCONT),
            self.adopter.settle,
            self._drain_killed,
            self._reap_all,
            self._drain_all,
            lambda: kill_procs(self.registry.data["procs"]),
            self._kill_grandchildren,
            lambda: self._end_hooks(hurried=bool(self.left_out)),
            self._destroy_objects,
            lambda: remove_objects(self.registry.data["objects"]),
            # what the steps since the last drain added to the pool (a grandchild reaped,
            # its exit; the objects' removal): published before the end, which would
            # otherwise wait behind them in the pool, never written (a trace without its
            # session.end after a Ctrl-C on a run of forking workers)
            self._drain_all,
        ):
            _guarded(step)
        if self.outcome is None:
            self.outcome = "stopped"
            self.exit_code = 0
        # A second stop from here on changes nothing: what is in the pool now (the steps'
        # engine events) is published, and the end after it, never held back (``_halt``).
        self.lin.halt = self.lin.hurried = lambda: False
        try:
            _guarded(self.out.flush)
            _guarded(self._check_recording)
            _guarded(
                lambda: self.emit(
                    schema.SESSION_END,
                    outcome=self.outcome,
                    exit_code=self.exit_code,
                    reason=self._end_reason(),
                    events=self.out.seq + 1,
                )
            )
            _guarded(self.lin.flush)  # (nothing should wait in the pool: never the end)
            _guarded(self.out.flush)
        finally:
            _guarded(self.out.trace.close)
            _guarded(self.adopter.close)
            for w in self.workers.values():
                if w.ring is not None:
                    _guarded(w.ring.close)
            if not self._leftovers():  # else keep the registry: ``ipcviz clean`` needs it
                _guarded(self.registry.discard)

    def _drain_killed(self) -> None:
        """The killed workers' rings, turn by turn (``Drainer.drain_killed``): a Ctrl-C on
        a flat-out queue took a minute to end read whole at once, where this takes seconds."""
        self.drainer.drain_killed(self._killed_at, lambda: self.hurry)

    def _kill_live(self, live: list[Worker]) -> None:
        """SIGKILL every worker still running; what ended after this moment may depend
        on their deaths (``Drainer.drain_killed``)."""
        self._killed_at = time.monotonic_ns()
        self._signal_all(live, signal.SIGKILL)

    def _drain_all(self) -> None:
        """Every record into the stream, in order; stopped twice (``hurry``), what is not
        yet in order is left out instead, and the session's end says how much."""
        self._drain(flush=True)
        if self.hurry:
            self.left_out += self.lin.abandon()
            self._drain(flush=True)  # the processes' exits, kept

    def _end_reason(self) -> str:
        if not self.left_out:
            return self.stop_reason or ""
        # the viewer's death ends at once too (``_viewer_gone``), even during a first stop
        said = phrases.LEFT_OUT_GONE if self.out.viewer_gone else phrases.LEFT_OUT
        return said.format(count=self.left_out)

    def _quiesce(self) -> None:
        """Before the workers still running are killed: close every gate and wait (at most
        QUIESCE_S) until none is running. A worker killed between an operation's system
        call and its record left a history no order explains (a pipe read of a byte whose
        write was never recorded: ``order.conflict``, and ``ipcviz verify`` failed after
        a plain Ctrl-C); stopped at its gate, its last operation is recorded whole. One
        asleep in the kernel stays so: its operation did not happen.

        Its drains read the rings (a worker waiting for room in its ring reaches its gate)
        but publish nothing (``Linearizer.hurried``): one that put a forked flood's backlog
        in order took 13 s, while the children not yet adopted, which no gate stops, ran
        on and forked more (the attack: operations 5 to 18 s after the Ctrl-C)."""
        ringed = any(not w.exited and w.ring is not None for w in self.workers.values())
        if ringed:
            self.gate.close_all()
        self._thaw()
        if not ringed:
            return
        deadline = time.monotonic() + QUIESCE_S
        self._quiescing = True
        try:
            while time.monotonic() < deadline:
                self._drain()
                self._reap(None)
                if self.gate._settled() != "soon" and not self._recording():
                    return
                time.sleep(0.005)
        finally:
            self._quiescing = False

    def _recording(self) -> bool:
        """A live worker is writing a record: its stamp is taken (``Ring.pending_stamp``).
        One waiting for room in a full ring sleeps (``Ring._wait_for_room``), which
        ``Gate._settled`` reads as settled ("later"): killed then, it took the record of a
        call it had made with it (a message taken, shown still queued)."""
        return any(w.ring.pending_stamp() for w in self.workers.values() if w.ring and not w.exited)

    def _thaw(self) -> None:
        """A frozen run (``freeze``: every worker SIGSTOPped) goes on once, as it stops, to
        its gates (closed by then): a worker frozen between a call and its record, or a
        strace frozen before it printed a call its program had made, was killed so, and
        the call was lost. A message taken stayed in the picture, which then ended with
        a queue the kernel never had (and ``order.conflict``: a freeze, then a stop, of
        a flood, 4 runs in 4). Once: the stop's own SIGSTOPs are never undone."""
        if not self.frozen:
            return
        self.frozen = False
        self._signal_all([w for w in self.workers.values() if not w.exited], signal.SIGCONT)

    def _reap_all(self) -> None:
        self.life.reap_all()

    def _destroy_objects(self) -> None:
        for obj in reversed(self._created):
            _guarded(obj.destroy)
            shown = self.model.objects.get(obj.name)
            # (a traced command may have removed it already: said then, not twice)
            if obj.kernel_name and not (shown is not None and shown.removed):
                _guarded(lambda o=obj: self.emit(schema.OBJ_REMOVE, obj=o.name))

    def _leftovers(self) -> bool:
        """True if a registered object or a worker is still there after the shutdown."""
        from ipcviz.session.cleanup import owned_by_me

        try:
            if any(not w.exited for w in self.workers.values()):
                return True
            return any(owned_by_me(e) for e in self.registry.data["objects"])
        except Exception:
            return True


def _guarded(step: Callable[[], Any]) -> None:
    """Run one shutdown step; its failure is written to stderr, never raised."""
    try:
        step()
    except Exception:
        traceback.print_exc()
