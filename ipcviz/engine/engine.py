"""The engine's main loop: set up, supervise, drain, check, clean up — on every exit path."""

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

from ipcviz.engine.adopt import Adopter, signal_pidfd
from ipcviz.engine.gate import Gate
from ipcviz.engine.linearize import ENGINE, Linearizer
from ipcviz.engine.linux import become_subreaper
from ipcviz.engine.probing import Prober
from ipcviz.engine.stream import EventOut, RecordCodec
from ipcviz.engine.workers import Worker, fork_worker
from ipcviz.errors import IpcvizError
from ipcviz.events import schema
from ipcviz.events.codec import RAW, b64, encode_event
from ipcviz.events.trace import TraceWriter
from ipcviz.model.analysis.holders import undo_events
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.scenario.api import PidTable, Process, Run, Scenario
from ipcviz.session.cleanup import kill_leftovers, kill_procs, remove_objects
from ipcviz.session.registry import Registry, files_dir_name, new_session_id, runtime_dir
from ipcviz.tracer.ring import Record

#: Event kind: the trace file could not be written any more (the stream goes on).
RECORDING_STOPPED = "recording.stopped"
#: How long the loop sleeps when there is nothing to do (ms): bounds event latency.
IDLE_POLL_MS = 5
#: Records drained per ring per loop turn, so control and exits stay responsive.
DRAIN_LIMIT = 20000
#: The engine's niceness once the workers run (they keep their own).
ENGINE_NICE = 10
#: How long after an operation ended every ring must have been read before it is published
#: (see ``Engine._drain``): what happened before it is known by then.
HOLD_NS = 30_000_000
#: Bytes of stdout/stderr recorded per process; the rest is dropped (the trace says so).
OUTPUT_CAP = 1 << 20
#: Lines written out as soon as this many wait: during a long drain the viewer tells the
#: first events while the engine orders the rest (both CPUs work).
FLUSH_LINES = 2048


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
        # fd 1 is the event stream; anything else printing to stdout must not corrupt it.
        stream_fd = os.dup(1)
        os.dup2(2, 1)
        self.out = EventOut(stream_fd, trace)
        self.out.send_header(json.dumps(self.header, separators=(",", ":"), ensure_ascii=False))
        self.model = State(header=self.header)
        self.workers: dict[int, Worker] = {}
        self.adopter = Adopter(self)  # children workers fork, objects workers make
        self.obj_names = self.adopter.names
        self.step_ids = [s.id for s in scenario.steps]
        self.codec = RecordCodec(self.t0, self.obj_names, self.step_ids)
        #: drained operations, published in an order the kernel could have made
        self.lin = Linearizer(
            self.model, self.t0, self.obj_names, self._publish_record, self._publish_event
        )
        self._drained_at: dict[int, int] = {}  # pid → every record stamped before is read
        self._turn: list[dict[str, Any]] = []  # events published since the hooks last ran
        self.stop_reason: str | None = None
        self.outcome: str | None = None
        self.exit_code = 0
        self._recording_told = False
        #: (interval_s, callback) run from the loop; probes and analyses hook in here.
        self.periodic: list[list[Any]] = []
        self.on_events: list[Callable[[list[dict[str, Any]]], None]] = []
        #: Called once at the end, every process gone, before the objects are removed.
        self.on_end: list[Callable[[], None]] = []
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._wake_r, self._wake_w):
            os.set_blocking(fd, False)
        self._created: list[Any] = []
        self._output_seen: dict[int, int] = {}  # pid → bytes of output read
        # One fd kept free for the shutdown: under a low ``ulimit -n`` the run may use every
        # descriptor, and cleaning up needs one (/proc, the registry, a System V lookup).
        self._spare_fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        self.gate = Gate(self)  # step mode, deadlock and lost-update watchers (engine/gate.py)

    # -- events -------------------------------------------------------------------------

    def now(self) -> int:
        return time.monotonic_ns() - self.t0

    def emit(self, kind: str, pid: int = 0, **fields: Any) -> dict[str, Any]:
        """An event from the engine itself (not from a worker's ring).

        While drained operations still wait in the pool, the event waits with them, at its
        own time, so the stream stays in time order (a probe after what it saw).
        """
        stamp = time.monotonic_ns()
        event = {"t": stamp - self.t0, "seq": -1, "pid": pid, "kind": kind, **fields}
        if self.lin.pending:
            # The gate letting a worker go comes before that worker's next operation: it
            # joins the worker's own program order, not only the engine's.
            self.lin.add_event(event, stamp, pid if kind == schema.GATE_STEP else ENGINE)
        else:
            self._publish_event(event)
            self._run_hooks()
        return event

    def _publish_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Number, write and apply one event (the linearizer calls this in its order)."""
        raw = event.pop(RAW, None)
        self.out.add(event)
        if raw is not None:
            event[RAW] = raw
        apply(self.model, event)
        self._turn.append(event)
        if event["kind"] == schema.PROC_EXIT:
            self._undo(event)
        return event

    def _undo(self, exit_event: dict[str, Any]) -> None:
        """SEM_UNDO: as a process exits the kernel reverses its adjustments; recorded right
        after its ``proc.exit``, before any operation that the units it gave back allow."""
        for e in undo_events(self.model, exit_event["pid"], exit_event["t"]):
            self._publish_event(e)
            if e["obj"] in self.obj_names:
                self.lin.changed(self.obj_names.index(e["obj"]))

    def _publish_record(self, rec: Record, pid: int, since: int, want: int | None) -> dict:
        """Number, encode, write and apply the event of one ring record."""
        out = self.out
        thread = pid >> 32  # the linearizer's lane: the n-th thread of the process, or 0
        event, line = self.codec.make(rec, pid & 0xFFFFFFFF, out.seq, since)
        if want is not None or thread:
            if want is not None:  # a System V receive: the type it asked for decides legality
                event["want"] = want
            if thread:  # each thread is a program order of its own (ipcviz verify)
                event["thread"] = thread
            raw = event.pop(RAW, None)
            line = encode_event(event)
            if raw is not None:
                event[RAW] = raw
        out.seq += 1
        out.lines.append(line)
        if len(out.lines) >= FLUSH_LINES:
            out.flush()
        apply(self.model, event)
        self._turn.append(event)
        return event

    def _run_hooks(self) -> None:
        if not self._turn:
            return
        events, self._turn = self._turn, []
        for hook in self.on_events:
            hook(events)

    # -- set-up ---------------------------------------------------------------------------

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: Any) -> None:
            self.stop_reason = self.stop_reason or signal.Signals(signum).name

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, stop)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self._wake_w)

    def _create_objects(self) -> None:
        for obj in self.scenario.objects:
            obj.create(self.session)
            self._created.append(obj)
            self.emit(schema.OBJ_DECLARE, **obj.declare())

    def _start_workers(self) -> None:
        start_r, start_w = os.pipe()
        self.scenario.pids = pids = PidTable(len(self.scenario.processes))
        private = [self.out.stream_fd, self._wake_r, self._wake_w, self.out.trace.fd, start_w]
        private += self.adopter.private_fds()
        for color, proc in enumerate(self.scenario.processes):
            w = self._fork(
                proc.name,
                self.scenario,
                proc,
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
            fields: dict[str, Any] = {"name": proc.name, "color": color}
            if proc.argv is not None:
                fields["command"] = list(proc.argv)
            self.emit(schema.PROC_START, w.pid, **fields)
        self.registry.save()
        for obj in self.scenario.objects:
            obj.in_engine_after_fork()
        self.gate.armed()  # step mode from the start (--seed/--schedule): gates closed now
        os.close(start_r)
        os.close(start_w)  # every worker's read() returns: they all start now

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
            self._loop()
            if self.stop_reason is None and self.outcome is None:
                # The kernel's last look first (every worker gone, the objects still
                # there): a check about the kernel's view then reads the final state, not
                # whichever sweep or narration probe happened to come last (``ShmObj.kernel_cell``).
                _guarded(self._end_hooks)
                self._run_checks()
        except Exception as exc:  # an engine bug: still clean up, and say what happened
            traceback.print_exc()  # to the engine's stderr, which the CLI keeps
            self._fail(f"internal error: {type(exc).__name__}: {exc} (please report it)")
        finally:
            self._shutdown()
        return self.exit_code

    def _loop(self) -> None:
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
            for entry in self.periodic:
                if now >= entry[2]:
                    entry[2] = now + entry[0]
                    entry[1]()
            if now >= next_stall_check:
                next_stall_check = now + 0.1
                self._check_stalls()
            self.out.flush()
            if self.out.viewer_gone and self.stop_reason is None:
                self.stop_reason = "viewer gone"
            if self.stop_reason is not None:
                return
            if all(w.exited for w in self.workers.values()):
                self._drain(flush=True)  # no record can come any more
                return
            if deadline is not None and now >= deadline + self.gate.held_seconds():
                running = ", ".join(w.name for w in self.workers.values() if not w.exited)
                self._fail(
                    f"timeout: still running after {self.timeout:g} s: {running}",
                    outcome="timeout",
                    code=1,
                )
                return
            for fd, _ev in poller.poll(0 if busy else IDLE_POLL_MS):
                if fd == 0:
                    self._read_control(poller)
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
        """A process a worker forked announced its own ring: from now on it is drained,
        stepped, killed and reaped like a worker (``ipcviz/engine/adopt.py``). Its
        ``proc.start`` is the first record of that ring (stamped at fork time)."""
        w = Worker(Process(name, None), pid, len(self.workers), ring, -1, gate_w=gate_w)
        w.extra.update(parent=parent, pidfd=pidfd)
        parent_w = self.workers.get(parent)
        if parent_w is not None and parent_w.ring is not None:
            ring.set_gate_flag(parent_w.ring.gate_flag())
        if gate_w >= 0:
            self.gate._gate_ino[pid] = os.fstat(gate_w).st_ino
        self.workers[pid] = w
        self.lin.started(pid, forked_at or time.monotonic_ns())
        self.registry.add_proc(pid)
        return w

    def add_periodic(self, interval: float, fn: Callable[[], None]) -> None:
        self.periodic.append([interval, fn, 0.0])

    def _drain(self, only: Worker | None = None, flush: bool = False) -> bool:
        """Move records from the rings into the pool, and publish what is ready.

        An operation is published once every live ring has been read up to ``HOLD_NS``
        after it ended (in step mode and paced the gate lets one operation run at a time,
        so nothing is held; in presenter mode the gate releases them too); the linearizer
        then puts it in an order the kernel could have made.
        ``only``: drain that (exited) worker's ring to the end, publish nothing yet.
        ``flush``: no record can come any more (every worker is gone): publish all.
        """
        # Records, pool entries and events hold no cycles: the collector would only scan
        # them again and again while they pile up (about a tenth of the time of a long
        # drain). It runs between turns instead.
        gc.disable()
        try:
            return self._drain_rings(only, flush)
        finally:
            gc.enable()

    def _drain_rings(self, only: Worker | None, flush: bool) -> bool:
        more = False
        lin = self.lin
        for w in [only] if only else self.workers.values():
            if w.ring is None:
                continue
            before = time.monotonic_ns()
            # Read before draining: a stamp taken (or being taken) but not yet published.
            pending = w.ring.pending_stamp()
            if pending:
                before = min(before, pending)
            batch: list[Record] = []
            limit = DRAIN_LIMIT if only is None else 1 << 30
            n = w.ring.drain(batch, limit)
            if batch:
                lin.add_records(w.pid, batch)
            if n >= limit:
                more = True
                self._drained_at[w.pid] = batch[-1][2]
            else:
                self._drained_at[w.pid] = before
        if only is not None:
            return more
        if flush:
            lin.flush()
        else:
            live = [
                self._drained_at.get(w.pid, 0)
                for w in self.workers.values()
                if not w.exited and w.ring is not None
            ]
            gate = self.gate  # stepped, paced (one at a time) or presented: nothing held
            hold = 0 if gate.step_mode or gate.present or gate.pace is not None else HOLD_NS
            cutoff = (min(live) if live else time.monotonic_ns()) - hold
            lin.emit_ready(cutoff)
        self._run_hooks()
        return more

    def _check_recording(self) -> None:
        """Say once, in the stream, that the trace file stopped growing (full disk, EFBIG)."""
        trace = self.out.trace
        if trace.error is None or self._recording_told:
            return
        self._recording_told = True
        why = trace.error.strerror or str(trace.error)
        self.emit(
            RECORDING_STOPPED,
            message=f"recording stopped: {why}; {trace.path} keeps the events before "
            "that and stays valid; the run goes on",
        )

    def _check_stalls(self) -> None:
        self._check_recording()
        for w in self.workers.values():
            if w.ring is not None:
                stalls = w.ring.stalls()
                if stalls != w.stalls_seen:
                    self.emit(schema.TRACER_STALL, w.pid, count=stalls - w.stalls_seen)
                    w.stalls_seen = stalls

    def _reap(self, poller: select.poll | None) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            w = self.workers.get(pid)
            if w is None or w.exited:
                continue  # an orphaned grandchild re-parented to us: just reaped
            self._finish_worker(w, status, poller)

    def _finish_worker(self, w: Worker, status: int | None, poller: select.poll | None) -> None:
        """A worker ended: its ring is final; ``proc.exit`` follows its last record."""
        self.adopter.check_exits()  # its children that ended already end first
        self._drain(only=w)
        self._read_output(w.out_fd, poller, final=True)
        w.exited = True
        w.exit_status = status
        self._check_stalls()  # a worker's last waits for a full ring, before its exit
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
        event = {"t": stamp - self.t0, "seq": -1, "pid": w.pid, "kind": schema.PROC_EXIT}
        self.lin.add_event({**event, **fields}, stamp, pid=w.pid)

    def _read_output(self, fd: int, poller: select.poll | None, final: bool = False) -> None:
        w = next((x for x in self.workers.values() if x.out_fd == fd), None)
        if w is None or w.out_fd < 0:
            return
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                data = None
            if data:
                self._output(w, data)
                continue
            if data == b"" or final:  # EOF, or the worker is gone
                if poller is not None:
                    poller.unregister(fd)
                os.close(fd)
                w.out_fd = -1
            return

    def _output(self, w: Worker, data: bytes) -> None:
        """``proc.output``, at most OUTPUT_CAP bytes per process: a worker printing without
        end must not grow the engine and the trace without end. The event that reaches the
        cap says so (``cut``); the rest is read and dropped, so the worker never blocks."""
        seen = self._output_seen.get(w.pid, 0)
        self._output_seen[w.pid] = seen + len(data)
        if seen >= OUTPUT_CAP:
            return
        if seen + len(data) < OUTPUT_CAP:
            self.emit(schema.PROC_OUTPUT, w.pid, data=b64(data))
        else:
            head = data[: OUTPUT_CAP - seen]
            self.emit(schema.PROC_OUTPUT, w.pid, data=b64(head), cut=OUTPUT_CAP)

    # -- control ----------------------------------------------------------------------

    def _read_control(self, poller: select.poll) -> None:
        try:
            data = os.read(0, 65536)
        except OSError:
            data = b""
        if not data:  # the viewer that started us is gone (even if it was SIGKILLed)
            poller.unregister(0)
            self.stop_reason = self.stop_reason or "viewer gone"
            return
        for line in data.decode("utf-8", "replace").splitlines():
            try:
                cmd = json.loads(line)
            except ValueError:
                continue
            if isinstance(cmd, dict):
                self.control(cmd)

    def control(self, cmd: dict[str, Any]) -> None:
        """Apply one control command: freeze, resume, kill, stop."""
        action = cmd.get("cmd")
        live = [w for w in self.workers.values() if not w.exited]
        if action == "freeze":
            self._signal_all(live, signal.SIGSTOP)
            self.emit(schema.CONTROL, action="freeze")
        elif action == "resume":
            self._signal_all(live, signal.SIGCONT)
            self.emit(schema.CONTROL, action="resume")
        elif action == "kill":
            target = next((w for w in live if w.pid == cmd.get("pid")), None)
            if target is not None:
                self.emit(schema.CONTROL, action="kill", target=target.pid)
                self._signal_all([target], signal.SIGKILL)
                self._signal_all([target], signal.SIGCONT)
        elif action == "stop":
            self.stop_reason = "stopped by the user"
        else:
            handler = getattr(self, f"control_{action}", None)
            if handler is not None:
                handler(cmd)

    @staticmethod
    def _signal_all(workers: list[Worker], sig: int) -> None:
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

    # -- the end ------------------------------------------------------------------------

    def _run_checks(self) -> None:
        state = self.model
        run = Run(
            params=self.params,
            reports={k: dict(v) for k, v in state.reports.items()},
            exits={
                w.name: {
                    "code": state.procs[w.pid].exit_code,
                    "signal": state.procs[w.pid].exit_signal,
                }
                for w in self.workers.values()
                if w.pid in state.procs
            },
            state=state,
            counts=dict(state.kinds),
        )
        failed = crashed = False
        for check in self.scenario.checks:
            raised = ""
            try:
                result = check.fn(run)
                ok, detail = result if isinstance(result, tuple) else (result, "")
                ok = bool(ok) if ok is not None else True
            except (Exception, SystemExit) as exc:  # sys.exit(0) must not turn a run green
                raised = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
                ok, detail, crashed = False, f"the check raised {raised}", True
            failed = failed or not ok
            self.emit(schema.CHECK, description=check.description, ok=ok, detail=str(detail))
            if raised:  # a bug in the scenario, not a failed claim: exit 2 with one line
                self.emit(schema.ERROR, message=f"check {check.description!r} raised {raised}")
        if state.errors or crashed:
            self.outcome, self.exit_code = "error", 2
        elif failed:
            self.outcome, self.exit_code = "failed", 1
        else:
            self.outcome, self.exit_code = "passed", 0

    def _fail(self, message: str, outcome: str = "error", code: int = 2) -> None:
        self.emit(schema.ERROR, message=message)
        self.outcome, self.exit_code = outcome, code

    def _end_hooks(self) -> None:
        """The last look at the objects (the final kernel probe), once: before the checks
        when the run ended normally, else at shutdown; a failing hook is reported."""
        hooks, self.on_end = self.on_end, []
        for hook in hooks:
            try:
                hook()
            except Exception as exc:
                traceback.print_exc()
                self.emit(schema.ERROR, message=f"internal error at the end: {exc!r}")

    def _kill_grandchildren(self) -> None:
        """Kill what workers forked on their own, even after the worker itself exited.

        A dead worker's children are re-parented to us (subreaper); they keep the worker's
        process group and our session. Kill and reap until none is left (bounded).
        """
        deadline = time.monotonic() + 3
        while kill_leftovers(self.registry.data, os.getpid()) and time.monotonic() < deadline:
            time.sleep(0.01)
            self._reap(None)
        self._reap(None)

    def _shutdown(self) -> None:
        """Kill what still runs, remove every kernel object, end the stream. Never raises:
        every step is guarded, so one that fails (EMFILE on /proc under ``ulimit -n``, a
        full disk) never skips the ones after it."""
        try:
            os.close(self._spare_fd)  # the descriptor kept for this moment
        except OSError:
            pass
        live = [w for w in self.workers.values() if not w.exited]
        for step in (
            lambda: self._signal_all(live, signal.SIGKILL),
            lambda: self._signal_all(live, signal.SIGCONT),
            self.adopter.settle,
            self._reap_all,
            lambda: self._drain(flush=True),
            lambda: kill_procs(self.registry.data["procs"]),
            self._kill_grandchildren,
            self._end_hooks,
            self._destroy_objects,
            lambda: remove_objects(self.registry.data["objects"]),
        ):
            _guarded(step)
        if self.outcome is None:
            self.outcome = "stopped"
            self.exit_code = 0
        try:
            _guarded(self.out.flush)
            _guarded(self._check_recording)
            _guarded(
                lambda: self.emit(
                    schema.SESSION_END,
                    outcome=self.outcome,
                    exit_code=self.exit_code,
                    reason=self.stop_reason or "",
                    events=self.out.seq + 1,
                )
            )
            _guarded(self.out.flush)
        finally:
            _guarded(self.out.trace.close)
            _guarded(self.adopter.close)
            for w in self.workers.values():
                if w.ring is not None:
                    _guarded(w.ring.close)
            if not self._leftovers():  # else keep the registry: ``ipcviz clean`` needs it
                _guarded(self.registry.discard)

    def _reap_all(self) -> None:
        """Reap the killed workers, for at most 3 s (never blocks past that)."""
        deadline = time.monotonic() + 3
        while any(not w.exited for w in self.workers.values()) and time.monotonic() < deadline:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.005)
                continue
            w = self.workers.get(pid)
            if w is not None and not w.exited:
                self._finish_worker(w, status, None)

    def _destroy_objects(self) -> None:
        for obj in reversed(self._created):
            _guarded(obj.destroy)
            if obj.kernel_name:
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
