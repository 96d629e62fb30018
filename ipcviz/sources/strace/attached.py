"""The engine of ``ipcviz attach PID``: a running process tree under ``strace -p``.

The same loop, stream, linearizer, model and trace as ``ipcviz run --`` (``ProgramEngine``);
what differs is the start and the end, and what ipcviz may do to the processes:

* at the start the tree already runs and its objects already exist: they are declared as
  found in ``/proc`` (``attach.py``), objects as ``outside`` — their contents before the
  attach are what the kernel probes read (``probe.*`` events, stamped, shown with their
  age), never operations made up to explain them;
* strace attaches with one ``-p`` per process (``-f``: every thread, and what they fork
  from now on); the kernel probes go on every ``PROBE_EVERY`` seconds, since processes
  outside the tree may use the same objects unseen;
* the processes are not ipcviz's: never registered for ``clean``, never signalled, never
  killed, their objects never removed. The end (``q``, SIGINT/SIGTERM, ``--duration``)
  sends strace SIGINT, which detaches cleanly, and waits for it: the processes run on.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from ipcviz import probe
from ipcviz.engine.engine import HOLD_NS, Engine
from ipcviz.engine.workers import Worker
from ipcviz.events import phrases, schema
from ipcviz.mechanisms import fifo as fifo_type
from ipcviz.mechanisms import registry
from ipcviz.mechanisms.base import Found
from ipcviz.scenario.api import Process, Scenario
from ipcviz.sources.strace import attach as A
from ipcviz.sources.strace.engine import ProgramEngine
from ipcviz.sources.strace.feed import Killer, StraceFeed
from ipcviz.sources.strace.mapper import FIFO, MQ_PREFIX, PIPE, PIPE_CAPACITY, POSIX_MQ
from ipcviz.sources.strace.source import TRACED, StraceSource, SysvNow

#: Seconds between two kernel probes of every watched object and process.
PROBE_EVERY = 0.5
#: Seconds strace may take to detach from every process after SIGINT, before it is killed
#: (the kernel then detaches them itself: they still run on).
DETACH_LIMIT = 10.0
#: Payload bytes a probe event carries at most.
DATA_CAP = 4096
#: A test's hold between the listing and strace's start: the path of a FIFO the test made.
#: The engine writes "listed" into it once ``/proc`` was read, then waits for the test to
#: write into it and close it. What a process does in that window (exits, closes an end)
#: strace never sees; the tests make it happen there, without timing anything.
LISTED_ENV = "IPCVIZ_TEST_ATTACH_LISTED"


def _after_listing() -> None:
    """The test's hold (``LISTED_ENV``), when one is asked for: nothing otherwise."""
    path = os.environ.get(LISTED_ENV)
    if not path:
        return
    with open(path, "w") as f:
        f.write("listed\n")
    with open(path) as f:
        f.read()


def _exit_status(pid: int) -> dict[str, Any]:
    """A ``proc.exit``'s fields for a process that ended unseen: a zombie's wait status
    (``/proc/PID/stat``'s 52nd field, ``exit_code``), else unknown (``code``: None)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        status = int(fields[49]) if fields[0] == b"Z" else None
    except (OSError, IndexError, ValueError):
        status = None
    if status is None:
        return {"code": None}
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"SIG{sig}"
        return {"signal": sig, "signame": name}
    return {"code": os.WEXITSTATUS(status)}


def _ended(pid: int) -> bool:
    """Gone, or a zombie: it runs no more, and the kernel let go of what it held. strace
    cannot attach to a zombie (``PTRACE_SEIZE``: EPERM), which is no refusal to report."""
    return A.proc_state(pid) in ("", "Z", "X")


class AttachSource(StraceSource):
    """strace ``-p`` on every process of a running tree, into the same mapper."""

    def __init__(self, members: list[A.Member], names: list[str], fifo: str) -> None:
        self.members = members
        super().__init__([members[0].name], names, fifo)
        self.mapper.outside = True

    def argv(self, strsize: int = 65536) -> list[str]:
        pids = [x for m in self.members for x in ("-p", str(m.pid))]
        return [
            self.strace, "-f", "-ttt", "-T", "-yy", "-xx", "-s", str(strsize),
            "-e", f"trace={TRACED}", "-o", self.fifo, *pids,
        ]  # fmt: skip

    def leftovers(self, now: SysvNow | None = None) -> list[tuple[str, str, int | str]]:
        """Nothing is said left behind: the processes run on and keep what they made."""
        return []


def attach_scenario(pid: int, name: str, duration: float) -> Scenario:
    """What the trace header says about an attach (replay needs nothing else)."""
    return Scenario(
        "attach",
        f"{name}, attached",
        description=f"ipcviz attach {pid}: a running process tree watched through strace -p",
        timeout=duration if duration > 0 else 60.0,
    )


class AttachEngine(ProgramEngine):
    """A ``ProgramEngine`` that attaches to a tree instead of starting a program."""

    owns_processes = False

    def __init__(self, pid: int, trace_path: Any, duration: float = 0.0, **kwargs: Any) -> None:
        self.target = pid
        self.duration = duration
        self.members = A.tree(pid)
        root = self.members[0] if self.members else A.Member(pid, 0, str(pid), [])
        extra = {
            **kwargs.pop("header_extra", {}),
            "program": root.command or [root.name],
            "source": "strace",
            "attach": pid,
        }
        scenario = attach_scenario(pid, root.name, duration)
        # Engine's own set-up: a program run's adds a check that the program exited 0
        Engine.__init__(self, scenario, trace_path, timeout=0.0, header_extra=extra, **kwargs)
        self.program = root.command or [root.name]
        self.source: AttachSource | None = None  # type: ignore[assignment]
        self.strace: Worker | None = None
        self.killer = Killer(self.registry)  # (never asked: attach kills nothing)
        self._early_output = b""
        self._said = b""  # what strace said on stderr (attached, detached, its errors)
        self._attached = False  # strace traces every process of the tree found
        self._detaching = False
        self._refusals: set[int] = set()  # processes strace said it cannot attach to
        #: (pipe, pid, end): the pipe ends the listing counted (``reader_pids``/``writer_pids``)
        self._counted: list[tuple[str, int, int]] = []
        #: once strace held every member: when ``/proc`` was read again, and what of
        #: ``_counted`` it showed still held (``_said_let_go``)
        self._relisted: tuple[int, set[tuple[str, int, int]]] | None = None
        #: the members ended (gone, or zombies) at that reading: their exits (``_said_ended``)
        self._ended_then: set[int] = set()
        self._deadline = time.monotonic() + duration if duration > 0 else None

    # -- set-up ---------------------------------------------------------------------------

    def _start_workers(self) -> None:
        from ipcviz.errors import IpcvizError

        if not self.members:
            raise IpcvizError(f"attach {self.target}: the process ended before ipcviz looked")
        fifo = os.path.join(self.session.fifo_dir, "strace")
        self.session.register({"type": fifo_type.MECHANISM.type, "path": fifo})
        self.source = source = AttachSource(self.members, self.obj_names, fifo)
        self.feed = StraceFeed(source.mapper, self.lin, self.t0)  # never ours to register
        self._adopt(source)
        _after_listing()
        start_r, start_w = os.pipe()
        private = [self.out.stream_fd, self._wake_r, self._wake_w, self.out.trace.fd, start_w]
        private += [source.fd, *self.adopter.private_fds(), *self.gate.private_fds()]
        proc = Process("strace", None, 0, tuple(source.argv()))
        w = self._fork("strace", self.scenario, proc, 0, self.params, [], private, start_r)
        self.workers[w.pid] = self.strace = w
        self.registry.add_proc(w.pid)  # strace is ours; the watched processes never are
        os.close(start_r)
        os.close(start_w)

    def _adopt(self, source: AttachSource) -> None:
        """The tree and what it holds, as found: declared now, contents from the probes."""
        mapper = source.mapper
        now = time.monotonic_ns()
        in_tree = {m.pid for m in self.members}
        for color, m in enumerate(self.members):
            mapper.adopt_proc(m.pid, m.name, m.ppid, m.tids)
            self.lin.started(m.pid, now)
            for n, _tid in enumerate(m.tids, 1):
                self.lin.started(m.pid | n << 32, now)
            fields: dict[str, Any] = {"name": m.name, "color": color}
            if m.command:
                fields["command"] = m.command
            if m.ppid in in_tree:
                fields["parent"] = m.ppid
            self.emit(schema.PROC_START, m.pid, **fields)
        for held in A.held_objects(list(in_tree)):
            mapper.adopt_object(held.name, held.type, held.holders)
            fields = {"type": held.type, "kernel_name": held.kernel_name}
            if held.type in (PIPE, FIFO):
                fields["capacity"] = PIPE_CAPACITY
                ends = {(pid, end) for pid, _, end, _ in held.holders if pid in in_tree}
                fields["reader_pids"] = sorted(pid for pid, end in ends if end == 0)
                fields["writer_pids"] = sorted(pid for pid, end in ends if end == 1)
                self._counted += [(held.name, pid, end) for pid, end in sorted(ends)]
            if held.type == FIFO:
                fields["path"] = held.name
            if held.type == POSIX_MQ:
                st = probe.posix_mq_stat(held.kernel_name)
                if st is not None:
                    fields["max_messages"] = st.max_messages
                    fields["max_message_size"] = st.max_message_size
            self.emit(schema.OBJ_DECLARE, obj=held.name, discovered=True, outside=True, **fields)

    def _install_watchers(self) -> None:
        self.add_periodic(0.0, self._each_turn)
        self.add_periodic(PROBE_EVERY, self._probe_all)

    # -- the loop -------------------------------------------------------------------------

    def _each_turn(self) -> None:
        """Once strace traces the whole tree: the pipe ends let go of before it did, then a
        probe of everything (what was there at attach, as the kernel says). At
        ``--duration``: the end (a detach, not a failure)."""
        strace = self.strace
        waiting = not self._attached and strace is not None and not strace.exited
        # a process of the tree that ended before strace got to it (a zombie too: strace
        # cannot attach to one), or that strace could not attach to (said once, as an
        # error), does not hold this up
        if (
            waiting
            and self._relisted is None
            and all(
                A.attached_to(m.pid, strace.pid) or _ended(m.pid) or self._refused(m.pid)  # type: ignore[union-attr]
                for m in self.members
            )
        ):
            self._relisted = (time.monotonic_ns(), self._still_held())
            self._ended_then = {m.pid for m in self.members if _ended(m.pid)}
        # a close strace saw before that reading is read once the source is past it
        source, relisted = self.source, self._relisted
        if waiting and source and relisted and source.horizon - HOLD_NS >= relisted[0]:
            self._attached = True
            self._said_let_go()
            self._said_missed(strace.pid)  # type: ignore[union-attr]
            self.emit(schema.PROBE_SNAPSHOT, why="attached")
            self._probe_all()
        if self._deadline is not None and time.monotonic() >= self._deadline:
            self.stop_reason = self.stop_reason or "duration"

    def _holding(self) -> bool:
        """Nothing is published until strace holds every member and the ends let go of
        before that were said (``_said_let_go``): an end of file read meanwhile waits for
        that, instead of being judged against a writer counted at the listing that no
        longer held the pipe (an ``order.conflict`` after ``STUCK_NS``)."""
        strace = self.strace
        if self._attached or strace is None or strace.exited:
            return False
        return self.stop_reason is None and not self._detaching

    def _still_held(self) -> set[tuple[str, int, int]]:
        """Which of the ends the listing counted ``/proc`` shows held now (none for a
        process gone or a zombie: the kernel let go of its descriptors); the descriptors
        of those are taken as ``/proc`` shows them (``_moved``)."""
        pids = sorted({pid for _, pid, _ in self._counted})
        found = A.held_objects(pids)
        held = {(h.name, pid, end) for h in found for pid, _, end, _ in h.holders}
        self._moved(found, held)
        return held

    def _moved(self, found: list[A.Held], held: set[tuple[str, int, int]]) -> None:
        """A counted end still held, at descriptors other than the listing's: moved
        (``dup2`` then ``close``) before strace held its process. The mapper knows it at
        its new descriptors from now on, so a traced close there is the ``pipe.close`` it
        is; else that close was no close of the pipe, the process stayed counted for good,
        and an end of file after it was a conflict. A descriptor the mapper has for an end
        let go of is left as it is: ``_said_let_go`` reads it."""
        assert self.source is not None
        mapper = self.source.mapper
        counted = set(self._counted)
        now: dict[tuple[str, int, int], dict[int, bool]] = {}
        for h in found:
            for pid, fd, end, cloexec in h.holders:
                if (h.name, pid, end) in counted:
                    now.setdefault((h.name, pid, end), {})[fd] = cloexec
        for (name, pid, end), fds in now.items():
            proc, i = mapper.procs.get(pid), mapper.index.get(name)
            if proc is None or proc.ended or i is None:
                continue
            for fd, (obj, e, _) in list(proc.fds.items()):
                if obj == i and e == end and fd not in fds:
                    del proc.fds[fd]  # that end is no longer there
            for fd, cloexec in fds.items():
                was = proc.fds.get(fd)
                if was is not None and (was[0], was[1]) != (i, end):
                    other = (mapper.names[was[0]], pid, was[1])
                    if other in counted and other not in held:
                        continue  # an end let go of: left for ``_said_let_go``
                proc.fds[fd] = (i, end, cloexec)

    def _said_let_go(self) -> None:
        """A counted end that ``/proc`` no longer showed held once strace held every
        member, and whose close (or exit) strace did not show by then, was let go of
        before strace held its process: that close is never seen. Said (a ``notice``,
        ``attach-let-go``) so the model counts it no more; else an end of file read after
        it was judged read while a writer held the write end, accusing a correct program.

        Said before every operation still waiting (``_say_first``): each came after it."""
        if self._relisted is None or self.source is None:
            return
        stamp, held = self._relisted
        mapper = self.source.mapper
        self._said_ended(stamp)
        for name, pid, end in self._counted:
            if (name, pid, end) in held or pid in self._refusals:
                continue
            proc, i = mapper.procs.get(pid), mapper.index.get(name)
            if proc is None or proc.ended or i is None:
                continue  # its exit was seen
            if not any(obj == i and e == end for obj, e, _ in proc.fds.values()):
                continue  # its close was seen
            said = phrases.NOTICES["attach-let-go"].format(pid=pid, name=name)
            reason = "attach-let-go"
            self._say_first(stamp, pid, message=said, reason=reason, obj=name, end=end)
        self._relisted = None

    def _said_ended(self, stamp: int) -> None:
        """A member that had ended when ``/proc`` was read again (gone, or a zombie) and
        whose exit strace did not show by then ended before strace held it: its exit is
        never printed, and it was shown running to the end. Said now, ahead of everything
        held back, with the status a zombie still keeps (``/proc/PID/stat``), else unknown
        (``code``: None). Its exit lets go of its pipe ends as any exit does."""
        assert self.source is not None
        mapper = self.source.mapper
        for pid in sorted(self._ended_then):
            proc = mapper.procs.get(pid)
            if proc is None or proc.ended or proc.thread:
                continue  # not ours to say, or its exit was seen
            proc.ended = True  # (``unended`` at the end does not say it again)
            event = {"t": stamp - self.t0, "seq": -1, "pid": pid, "kind": schema.PROC_EXIT}
            self.publisher.publish_event({**event, **_exit_status(pid)})
        self._ended_then = set()

    def _say_first(self, stamp: int, pid: int, **fields: Any) -> None:
        """A ``notice`` published now, ahead of the operations held back (``_holding``):
        what it says was so before any of them."""
        event = {"t": stamp - self.t0, "seq": -1, "pid": pid, "kind": schema.NOTICE, **fields}
        self.publisher.publish_event(event)
        self._run_hooks()

    def _said_missed(self, tracer: int) -> None:
        """A process the tree forked after ``/proc`` was read and before strace held its
        parent is traced by no one (strace ``-f`` follows forks from its attach on): its
        calls will never be shown, so the trace says so, once, instead of keeping quiet."""
        assert self.source is not None
        known = self.source.mapper.procs
        for m in A.tree(self.target)[1:]:
            if m.pid in known or A.attached_to(m.pid, tracer) or _ended(m.pid):
                continue
            said = phrases.NOTICES["attach-missed"].format(pid=m.pid, name=m.name)
            self.emit(schema.NOTICE, m.pid, message=said, reason="attach-missed", name=m.name)

    def _refused(self, pid: int) -> bool:
        """strace said it cannot attach to ``pid`` (``attach: ptrace(PTRACE_SEIZE, PID): …``):
        said once as an error; the rest of the tree is watched."""
        if pid in self._refusals:
            return True
        mark = f"PTRACE_SEIZE, {pid}):"
        for line in self._said.decode("utf-8", "replace").splitlines():
            if mark in line:
                self._refusals.add(pid)
                why = line.split(mark, 1)[1].strip()
                self.emit(schema.ERROR, message=phrases.ATTACH_FAILED.format(pid=pid, why=why))
                # its ends of the pipes found were counted (``writer_pids``): its close is
                # never seen, so the model stops counting them (an end of file needs it)
                name = next((m.name for m in self.members if m.pid == pid), "?")
                said = phrases.NOTICES["attach-refused"].format(pid=pid, name=name)
                reason = "attach-refused"
                now = time.monotonic_ns()
                self._say_first(now, pid, message=said, reason=reason, name=name)
                return True
        return False

    def _probe_all(self) -> None:
        """The kernel's view of every watched object and process, as ``probe.*`` events."""
        source = self.source
        if source is None or self._detaching:
            return
        mapper = source.mapper
        for name, type_ in list(mapper.declared.items()):
            if name in mapper.removed:
                continue
            try:
                self._probe_object(name, type_)
            except (OSError, ValueError):
                continue  # gone meanwhile
        for pid, proc in list(mapper.procs.items()):
            if proc.thread or proc.ended:
                continue
            self._probe_proc(pid)

    def _probe_object(self, name: str, type_: str) -> None:
        """The kernel's reading of one object the calls named, by its mechanism
        (``KernelSide.probe_found``), as a ``probe.*`` event."""
        mech, side = registry.get(type_), registry.kernel(type_)
        if mech is None or side is None or side.probe_found is None:
            return
        fields = side.probe_found(self._found(name), DATA_CAP)
        if fields is not None:
            self.emit(mech.probe_kind, obj=name, **fields)

    def _found(self, name: str) -> Found:
        """What the calls told of object ``name``: its id or name, and who holds it."""
        assert self.source is not None
        mapper = self.source.mapper
        i = mapper.index[name]
        holders = tuple(
            (proc.pid, fd, end)
            for proc in mapper.procs.values()
            if not proc.thread and not proc.ended
            for fd, (obj, end, _) in proc.fds.items()
            if obj == i
        )
        names = {p: mapper.procs[p].name for p, _, _ in holders if p in mapper.procs}
        ident: int | str = mapper.sysv_ids.get(name, ("", ""))[1]
        if name.startswith(MQ_PREFIX):
            ident = name[len(MQ_PREFIX) :]
        num = int(name.split("[", 1)[1].rstrip("]")) if "[" in name else 0
        return Found(name, ident, num, holders, names)

    def _probe_proc(self, pid: int) -> None:
        state = A.proc_state(pid)
        if not state:
            return
        info = probe.blocked_on(pid)
        self.emit(
            schema.PROBE_PROC,
            pid,
            state=state,
            wchan=info.wchan if info else "",
            syscall=info.syscall if info else None,
        )

    def _output(self, w: Worker, data: bytes) -> None:
        """strace's own messages (its stderr): kept for the error it may end with, never
        shown as the program's output (that goes where the program sends it)."""
        self._said = (self._said + data)[-4096:]

    def control(self, cmd: dict[str, Any]) -> None:
        """No ``kill``, no ``freeze``: the watched processes are not ipcviz's to kill or
        stop (a stopped strace would leave them stopped at their next system call)."""
        action = cmd.get("cmd")
        if action in ("kill", "freeze", "resume", "pace"):
            self.emit(  # not "freeze" with ok=False: the model would take it as frozen
                schema.CONTROL,
                action="refused",
                ok=False,
                reason=f"{action}: attached processes are not ipcviz's to stop or kill",
            )
            return
        super().control(cmd)

    # -- the end --------------------------------------------------------------------------

    def _ended_with_strace(self, status: int | None) -> None:
        """strace ended (ProgramEngine read what it wrote): every watched process exited,
        or it detached (the processes run on: no ``proc.exit``), or it could not attach at
        all (then one clear line: its own reason). Every line it wrote was read: the
        ends let go of before it held their processes are said now, if not yet. strace
        held every process if ``/proc`` was read again (``_relisted``): a tree that ended
        before the turn that says so was attached to all the same."""
        held_all = self._relisted is not None
        self._said_let_go()
        if not (self._detaching or self._attached or held_all or self.stop_reason):
            said = [
                ln.removeprefix("strace: ")
                for ln in self._said.decode("utf-8", "replace").splitlines()
                if "attached" not in ln
            ]
            why = said[-1] if said else f"strace ended with status {status}"
            if "Operation not permitted" in why:
                why += " (ptrace refused: kernel.yama.ptrace_scope, or not your process)"
            self._fail(f"cannot attach to {self.target}: {why}")

    def _run_checks(self) -> None:
        """Every watched process ended while watched: the watch ends there (nothing was
        claimed about them, so nothing passed or failed)."""
        if self.outcome is None:
            self.outcome, self.exit_code = "stopped", 0
            self.stop_reason = "every watched process ended"

    def _detach(self) -> None:
        """SIGINT to strace, which detaches from every process and exits; meanwhile its
        output is read (it must never block on a full FIFO). Past DETACH_LIMIT it is
        killed: the kernel detaches the processes then, and they run on too."""
        w = self.strace
        if w is None or w.exited:
            return
        self._detaching = True
        try:
            os.kill(w.pid, signal.SIGINT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + DETACH_LIMIT
        while not w.exited:
            self._drain()
            try:
                pid, status = os.waitpid(w.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = w.pid, 0
            if pid == w.pid:
                self._finish_worker(w, status, None)
                break
            if time.monotonic() > deadline:
                os.kill(w.pid, signal.SIGKILL)
                deadline = float("inf")
            time.sleep(0.005)

    def _shutdown(self) -> None:
        try:
            self._detach()
        except Exception:
            import traceback

            traceback.print_exc()
        super()._shutdown()
