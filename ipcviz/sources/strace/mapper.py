"""strace's IPC system calls → the ring records and events the tracer rings would give.

Pure: fed parsed lines (``parser.Line``), it appends *actions* to ``out`` that the source
hands to the engine's linearizer, in order:

* ``("start", pid, started_ns, t_ns, fields)``: a process appeared (``proc.start``);
* ``("rec", pid, record)``: an operation, the same tuple a worker's ring holds
  (``ipcviz/tracer/ring.py``: code, object index, stamp, a, b, payload);
* ``("event", pid, t_ns, event)``: ``obj.declare``, ``obj.remove``, ``proc.exit``.

Objects are discovered from the calls and named by their kernel identity: ``pipe:[INODE]``
(with ``-yy`` strace names the pipe behind every descriptor), ``msqid:ID``, ``shm:/NAME``
and ``sem:/NAME`` (POSIX shared memory and semaphores: declared ``probed``, their contents
read by the engine's prober, see ``_open_any`` below). Each process
keeps its descriptor table (inherited at fork, dropped at exec for close-on-exec ones), so a
pipe end counts as closed in a process only when its last descriptor for it is closed.

Times: strace stamps a call when it stops the process at the call's entry and at its
return, so the call took effect between the two: an operation's interval is
[entry, entry + ``-T`` length], widened by the 1 µs the printed stamps are rounded to.
A call that can block gets a begin record at its entry (folded into its completion by
the linearizer when nobody could have seen it wait).
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from collections import deque
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from typing import Any

from ipcviz.engine.life import capped
from ipcviz.events import phrases
from ipcviz.events.codec import b64
from ipcviz.mechanisms import (
    fifo,
    mmap_file,
    pipe,
    posix_mq,
    posix_sem,
    posix_shm,
    sysv_mq,
    sysv_sem,
    sysv_shm,
)
from ipcviz.sources.strace import parser as P
from ipcviz.tracer import codes as C

#: The object types this source makes (named by their packages: see mechanisms/registry.py)
PIPE = pipe.MECHANISM.type
SYSV_MQ = sysv_mq.MECHANISM.type
SYSV_SEM = sysv_sem.MECHANISM.type
FIFO = fifo.MECHANISM.type
POSIX_MQ = posix_mq.MECHANISM.type
SYSV_SHM = sysv_shm.MECHANISM.type
POSIX_SHM = posix_shm.MECHANISM.type
POSIX_SEM = posix_sem.MECHANISM.type
MMAP_FILE = mmap_file.MECHANISM.type

#: Pipe capacity when the program did not change it (16 pages).
PIPE_CAPACITY = 65536
#: System V msgmnb default: bytes a queue may hold.
MSGMNB = 16384
#: ``msgctl(ID, IPC_SET, {…, msg_qbytes=N})``: the queue's new limit in bytes
_QBYTES = re.compile(r"\bmsg_qbytes=(\d+)")
_O_CLOEXEC = "O_CLOEXEC"
#: POSIX queue limits when mq_open gives no attributes (fs.mqueue.msg_default and
#: msgsize_default: the kernel's defaults unless changed)
MQ_DEFAULTS = (10, 8192)
#: Object name prefix of a POSIX queue: ``mq:/NAME`` (its kernel name is ``/NAME``). Never
#: a path: a read of its descriptor (``-yy`` names it ``/NAME``) is not taken for a FIFO's.
MQ_PREFIX = "mq:"
#: A process's name is cut to this many characters (a program's file name may be long).
NAME_MAX = 32
#: A POSIX queue descriptor in a process's table holds this "end": not a pipe's end (0/1),
#: so closing it is no pipe.close
MQ_END = -1
#: The vector forms of read and write: on a pipe or FIFO the same operation (the offset
#: of the p… forms must be -1 there, or the call fails with ESPIPE)
_READV = ("readv", "preadv", "preadv2")
_WRITEV = ("writev", "pwritev", "pwritev2")
_BLOCKING = frozenset(
    {
        "read", "write", "msgsnd", "msgrcv", "semop", "semtimedop", "open", "openat",
        "mq_timedsend", "mq_timedreceive", *_READV, *_WRITEV,
        "futex",  # (no begin: what a sleeping sem_wait names is declared at its entry)
    }
)  # fmt: skip

_PIPE_IO = frozenset({"read", "write", *_READV, *_WRITEV})
#: The calls that make a process: a child's lines before one returns wait for it
_FORKS = frozenset({"clone", "clone3", "fork", "vfork"})
#: How long (µs of its stamps) an unnamed child prints before it is named the child of
#: the one vfork under way (``Mapper._adopt_vfork_child``)
VFORK_ADOPT_US = 50_000

Action = tuple[Any, ...]
#: The parser's line kinds, as module globals (read once per line on the hot path)
_CALL, _UNFINISHED, _RESUMED, _EXITED, _KILLED = (
    P.CALL, P.UNFINISHED, P.RESUMED, P.EXITED, P.KILLED
)  # fmt: skip
_first_fd, _last_int, _string_arg = P.first_fd, P.last_int, P.string_arg
_PIPE_READ_BEGIN, _PIPE_WRITE_BEGIN = C.PIPE_READ_BEGIN, C.PIPE_WRITE_BEGIN
_PIPE_READ, _PIPE_WRITE = C.PIPE_READ, C.PIPE_WRITE


@dataclass
class Proc:
    """A traced process (or thread): its name and its descriptor table."""

    pid: int  # the process (thread group) the trace names it by
    name: str
    thread: int = 0  # 0: the process itself; n: its n-th thread (a lane of its own)
    tid: int = 0  # the pid strace prints (a thread's own id): its calls in progress
    #: fd → (object index, end 0/1, close-on-exec); shared by the threads of a process
    fds: dict[int, tuple[int, int, bool]] = field(default_factory=dict)
    children: int = 0
    threads: int = 0
    ended: bool = False
    #: /dev/shm mappings of the process: address → (the file, length, offset in it); the
    #: file as the call named it, not its path: one made anew there is another
    maps: dict[int, tuple[DevShm, int, int]] = field(default_factory=dict)


class Mapper:
    """Keeps what the calls told so far; ``feed(line)`` appends the actions it implies."""

    def __init__(
        self,
        names: list[str],
        root_name: str,
        command: list[str] | None = None,
        offset_ns: int = 0,
        msgmnb: int = MSGMNB,
        mq_defaults: tuple[int, int] = MQ_DEFAULTS,
        mq_existing: set[str] | None = None,
        sysv_existing: Mapping[str, Container[int]] | None = None,
        shm_existing: set[str] | None = None,
    ) -> None:
        self.names = names  # the engine's object index → name list (appended to here)
        self.index: dict[str, int] = {n: i for i, n in enumerate(names)}
        self.root_name = root_name
        self.command = command
        self.offset = offset_ns  # strace's clock (the epoch, µs) → the engine's (ns)
        self.msgmnb = msgmnb
        self.out: list[Action] = []
        self.procs: dict[int, Proc] = {}  # pid or tid as strace prints it
        self.root: int | None = None
        #: the command's narration step (``Scenario.command(..., step=)``), said for it as
        #: it starts: its ``proc.start`` is this mapper's, not the engine's
        self.root_step: str | None = None
        self._colors = 0
        self._waiting: dict[int, list[tuple[P.Line, int]]] = {}  # pids no fork named yet
        self._held: P.Line | None = None  # a call printed whole, waiting for the next stamp
        self._entry: dict[int, tuple[int, str, str]] = {}  # pid → (t, name, args) in progress
        self._begun: dict[int, tuple[int, list[Any]]] = {}  # pid → (entry t, begin record)
        self.declared: dict[str, str] = {}  # object name → type
        self.made: set[str] = set()  # System V objects the program created (IPC_PRIVATE, EXCL)
        self.sysv_ids: dict[str, tuple[str, int]] = {}  # object name → (kind, id)
        self.removed: set[str] = set()
        self.fifos: dict[str, bool] = {}  # FIFO path the program made → still linked
        #: a path the program renamed a FIFO it made to, or made one at anew while the old
        #: one lives on → the object name of the FIFO there now (its first path, ``(2)``…)
        self.fifo_names: dict[str, str] = {}
        #: an object made anew under a name whose old object lives on → that name, the key
        #: the calls name both by (``incarnation``): ``mq:/q (2)`` → ``mq:/q``
        self.incarnations: dict[str, str] = {}
        #: the keys that name more than one object (a FIFO's path): strace names their
        #: descriptors alike, so the process's table says which one a descriptor holds
        self.reborn: set[str] = set()
        #: FIFOs whose path was unlinked (or replaced): gone once no descriptor holds them
        self.unlinked: set[int] = set()
        #: System V objects (kind, id) a call of the program removed (IPC_RMID): an object
        #: under that id later is another's, unless a get of the program's returned it
        self.rmid: set[tuple[str, int]] = set()
        #: what a call of the program created (mkfifo; O_CREAT|O_EXCL: a POSIX segment, a
        #: named semaphore, a queue), by its path or ``/NAME`` → a descriptor (O_PATH) of
        #: that very object, taken when the call was seen and held to the end: the one
        #: ipcviz may remove if the program leaves it. Held, its inode number is never
        #: another's (ext4 gives a freed one to the next file): one under the same name
        #: since, made by another, is told apart. At most ``HELD_MAX`` (``let_go``).
        self.own: dict[str, int] = {}
        self.own_changes = 0  # how many times ``own`` changed (``made_signature``)
        self.held_max = _held_max()
        self._sets: dict[int, tuple[int, str, bool]] = {}  # semid → (nsems, key, made here)
        #: System V segments: shmid → object name (cells: the engine's probes, shmprobe.py)
        self.segments: dict[int, str] = {}
        #: semaphore → the value semctl gave it, until its first use (SEM_UNDO: see _sem)
        self._sem_fresh: dict[str, int] = {}
        self._sem_undo: set[str] = set()  # semaphores declared with ``undo``
        #: tid → its semop that just failed with EINTR, (process, semaphore, end): strace
        #: names the signal on its next line (``_observer_eintr``)
        self._eintr: dict[int, tuple[Proc, int, int]] = {}
        #: tid → the stamp (µs) of its last stop strace showed (SIGSTOP): every call it
        #: made before is printed whole (``ProgramEngine._end_program_first`` and ``k``
        #: stop a process before they kill it; ``all_stopped``)
        self.stopped: dict[int, int] = {}
        #: sets given values by a SETALL strace did not print: declared ``outside``
        self._unseen_sets: set[int] = set()
        #: shmid → its size, for a segment the calls name before any shmget here shows it
        #: (made before the run, or by a program not traced): the source reads the kernel's
        self.shm_size: Callable[[int], int | None] = _no_size
        self._lossy: set[int] = set()  # pipes a write of was cut by ``-s``: reads keep no data
        #: ``pipe:[INODE]`` of the pipe the engine reads the program's stdout and stderr
        #: from (``ipcviz run -- PROG``): a write to it is ``proc.output`` of the process
        #: that wrote it, at the moment it wrote it. None: output is read from the pipe alone.
        self.output_pipe: str | None = None
        #: what those writes put in the pipe, (bytes shown, size), oldest first: the engine
        #: takes them out of what it reads there, so nothing is shown twice
        self.output_said: deque[tuple[bytes, int]] = deque()
        self._output_seen: dict[int, int] = {}  # pid → bytes written to ``output_pipe``
        #: pid → its mmap, munmap, shmat and shmdt calls that succeeded: where it maps
        #: what may have changed (the prober reads /proc/PID/maps again)
        self.map_moves: dict[int, int] = {}
        self.unknown_calls = 0
        #: thread (as strace prints it) → the end stamp of its last record: its next begin
        #: comes no earlier (program order)
        self._last_end: dict[int, int] = {}
        self.mq_defaults = mq_defaults
        #: POSIX queues (``/NAME``) that existed before the run (None: not known)
        self.mq_existing = mq_existing
        #: System V ids of each kind (``msqid``, ``semid``) that existed before the run
        self.sysv_existing = sysv_existing or {}
        #: /dev/shm files (paths) that existed before the run (None: not known)
        self.shm_existing = shm_existing
        #: POSIX queue ``/NAME`` → (object name, made by the program, name still linked)
        self.queues: dict[str, list[Any]] = {}
        #: POSIX queues the program opened with O_CREAT alone while what existed before the
        #: run is not known (no /dev/mqueue to list): maybe its own, named if left behind
        self.mq_maybe_made: set[str] = set()
        #: such a queue's max_messages, as its O_CREAT asked (the queue's own if it made it)
        self._mq_max: dict[int, int] = {}
        #: POSIX queue object → messages sent and not yet received, (prio, bytes): a
        #: receive whose priority strace cannot show (a NULL msg_prio) gets its message's
        self._mq_pending: dict[int, list[tuple[int, bytes]]] = {}
        #: ``ipcviz attach``: an object the calls find that the program did not make
        #: existed before the trace began (``outside``: it may hold contents no event shows)
        self.outside = False
        #: /dev/shm files (POSIX segments, named semaphores) the calls named, by path
        self.devshm: dict[str, DevShm] = {}
        #: A scenario's traced command: new objects get their index from the run's object
        #: table, where the workers' own objects get theirs (one index space). None: the
        #: names list is the mapper's alone to append to.
        self.allocate: Callable[[str], int] | None = None
        #: a scenario's objects a traced command may use: the key its calls name one by →
        #: (the object's name, whether strace sees its operations) (``share``)
        self.shared: dict[str, tuple[str, bool]] = {}
        self._told: set[tuple[int, str]] = set()  # (pid, key) said to act unseen
        self._outside: set[int] = set()  # FIFOs said to have an unwatched partner
        #: the only strace of the run: every traced process is in ``procs`` (several
        #: commands have one each, and share objects: ``objects_of``)
        self.alone = True

    # -- times ---------------------------------------------------------------------------

    def _entry_ns(self, t_us: int) -> int:
        return (t_us - 1) * 1000 - self.offset

    def _exit_ns(self, t_us: int, dur_us: int) -> int:
        return (t_us + dur_us + 2) * 1000 - self.offset

    # -- lines ---------------------------------------------------------------------------

    def feed(self, line: P.Line) -> None:
        """One line, in the order strace printed them.

        A call printed whole is held until the next line: strace printed it while the
        process was stopped at the call's return, so the next line's stamp bounds when it
        ended (``-T`` does not: it leaves out strace's own time at the entry, which can be
        longer than the call).
        """
        held = self._held
        if held is not None:
            self._held = None
            self._process(held, line[1])
        if line[2] == _CALL:
            self._held = line
        else:
            self._process(line, line[1])

    def release(self, now_us: int, wait_us: int = 0) -> None:
        """Nothing more to read now: a call held for its end ended before ``now_us``.

        ``wait_us``: keep holding it while it returned less than that long ago. Its end is
        then stamped ``now_us``, later than it was, and the process's next call, whose line
        strace may not have written yet, would begin before that end (program order
        broken). A moment later that next line has almost surely come, and bounds it."""
        held = self._held
        if held is not None and now_us - (held.t + held.dur) < wait_us:
            return
        if held is not None:
            self._held = None
            self._process(held, max(now_us, held.t + held.dur))

    def _process(self, line: P.Line, end: int) -> None:
        """``end``: a stamp strace took after the line's call returned."""
        pid, t, kind, name, args, ret, err, dur = line
        if self._eintr and kind != P.SIGNAL:
            self._eintr.pop(pid, None)  # no signal right after that EINTR: not strace's
        proc = self.procs.get(pid)
        if proc is None:
            if self.root is None:
                self._start_root(line)
                proc = self.procs[pid]
            else:  # a child that printed before its parent's fork returned: wait for it
                waiting = self._waiting.setdefault(pid, [])
                waiting.append((line, end))
                if t - waiting[0][0].t > VFORK_ADOPT_US:
                    self._adopt_vfork_child(pid)
                return
        if kind == _RESUMED:  # printed at the return: its own stamp is the end
            entry = self._entry.pop(pid, None)
            if entry is not None:
                t, args = entry[0], entry[2] + args
            handler = _CALLS.get(name)
            if handler is None:
                self.unknown_calls += 1
            else:
                handler(self, proc, t, line.t, args, ret, err)
        elif kind == _UNFINISHED:
            self._enter(pid, t, name, args)
        elif kind == _CALL:
            begun = self._begun.get(pid)
            if begun is not None and begun[0] != t:
                self._begun.pop(pid)
            entry = self._entry.get(pid)
            if entry is not None and entry[0] == t:
                self._entry.pop(pid)
            end = max(end, t + dur)  # strace prints its stamps in order; in case
            self._call(pid, t, end, name, args, ret, err)
        elif kind in (_EXITED, _KILLED):
            self._exit(line)
        elif kind == P.SIGNAL:
            if name in ("SIGSTOP", "stopped"):  # (``--- stopped by SIGSTOP ---``: each thread)
                self.stopped[pid] = t
            elif name == "superseded" and pid in self.procs and self.procs[pid].thread:
                self.procs[pid].ended = True  # (``+++ superseded by execve …``)
            interrupted = self._eintr.pop(pid, None)
            if interrupted is not None and name in _IGNORED_BY_DEFAULT:
                _observer_eintr(self, *interrupted, name)

    def entry(self, pid: int, t: int, name: str, args: str) -> None:
        """A call entered and has not returned (yet): a process may now be seen waiting.
        (strace has begun its line; what it printed before is complete.)"""
        self.release(t)
        if pid in self.procs:
            self._enter(pid, t, name, args)

    def _enter(self, pid: int, t: int, name: str, args: str) -> None:
        entries = self._entry
        known = entries.get(pid)
        if known is not None and known[0] == t and len(known[2]) >= len(args):
            return
        # the whole entry replaces what a line cut off in the middle showed of it (the
        # flags of a clone3 were still to come: CLONE_THREAD)
        entries[pid] = (t, name, args)
        if name in _BLOCKING and pid not in self._begun:
            proc = self.procs[pid]
            rec = self._begin(proc, t, name, args)
            if rec is not None:
                self._begun[pid] = (t, rec)
                self.out.append(("rec", proc.pid, rec))

    def finish(self) -> None:
        """No line can come any more: children never named by a fork start on their own."""
        held = self._held
        if held is not None:
            self._held = None
            self._process(held, held.t + held.dur)
        for pid, lines in list(self._waiting.items()):
            self._waiting.pop(pid, None)
            first = lines[0][0]
            self._new_proc(pid, None, f"{self.root_name}?{pid}", first.t, first.t)
            for line, end in lines:
                self._process(line, end)

    def waiting_since(self) -> int | None:
        """The stamp (µs) of the first line kept back for a child no fork named yet
        (``_waiting``), while a fork is under way (the one that will name it): read, but
        not in the pool. None when there is none, or no fork is under way (its parent
        died in it: only ``finish`` starts such a child, and it must hold nothing back)."""
        if not self._waiting or not any(e[1] in _FORKS for e in self._entry.values()):
            return None
        return min(lines[0][0].t for lines in self._waiting.values())

    def all_stopped(self, pid: int, since_us: int) -> bool:
        """Every live thread of process ``pid`` was shown stopped (``stopped``) at or
        after ``since_us`` (strace's clock: when ipcviz sent its SIGSTOP). A sibling
        thread still ran a call after the leader's SIGSTOP line; a stop shown before,
        of the program's own, says nothing of now (a SIGCONT it blocked is never shown)."""
        stopped = self.stopped
        return all(
            stopped.get(tid, -1) >= since_us
            for tid, proc in self.procs.items()
            if proc.pid == pid and not proc.ended
        )

    def unended(self) -> list[int]:
        """Processes strace never saw end (it was killed first, with them)."""
        return [p for p, proc in self.procs.items() if not proc.thread and not proc.ended]

    # -- processes -----------------------------------------------------------------------

    def _start_root(self, line: P.Line) -> None:
        self.root = line.pid
        fields: dict[str, Any] = {}
        if self.command:
            fields["command"] = list(self.command)
        self._new_proc(line.pid, None, self.root_name, line.t, line.t, **fields)
        if self.root_step is not None:
            t = self._entry_ns(line.t)
            said = {"t": t, "seq": -1, "pid": line.pid, "kind": "narrate", "step": self.root_step}
            self.out.append(("event", line.pid, t, said))

    def _new_proc(
        self, pid: int, parent: Proc | None, name: str, t0: int, t: int, **fields: Any
    ) -> Proc:
        proc = Proc(pid, name, tid=pid)
        if parent is not None:
            proc.fds = dict(parent.fds)
            proc.maps = dict(parent.maps)  # fork keeps MAP_SHARED mappings
        self.procs[pid] = proc
        start = {"name": name, "color": self._colors, **fields}
        self._colors += 1
        if parent is not None:
            start["parent"] = parent.pid
        self.out.append(("start", pid, self._entry_ns(t0), self._entry_ns(t), start))
        return proc

    def _adopt_vfork_child(self, pid: int) -> None:
        """A vfork's parent returns only when its child execs or ends: a child that
        writes for seconds first waited unnamed all that while (never stopped nor killed
        at the end, its calls out of the pool: thousands of ``order.conflict``). Named
        its child once it has printed for ``VFORK_ADOPT_US`` (a fork's own return comes
        in microseconds), when exactly one vfork is under way: else it waits as before."""
        vforks = [
            (tid, entry)
            for tid, entry in self._entry.items()
            if entry[1] == "vfork" or (entry[1] in _FORKS and "CLONE_VFORK" in entry[2])
        ]
        if len(vforks) != 1 or vforks[0][0] not in self.procs:
            return
        tid, (t0, _name, args) = vforks[0]
        self._forked(self.procs[tid], pid, t0, self._waiting[pid][0][0].t, args, False)

    def _forked(self, proc: Proc, child: int, t0: int, t: int, args: str, thread: bool) -> None:
        if child <= 0 or child in self.procs:
            return
        waiting = self._waiting.pop(child, [])
        if waiting:
            t = min(t, waiting[0][0].t)
        if thread:
            owner = self.procs.get(proc.pid, proc)
            owner.threads += 1
            self.procs[child] = Proc(proc.pid, proc.name, owner.threads, child, proc.fds)
        else:
            proc.children += 1
            self._new_proc(child, proc, f"{proc.name}/{proc.children}", t0, t)
        for line, end in waiting:
            self._process(line, end)

    def _exit(self, line: P.Line) -> None:
        proc = self.procs.get(line.pid)
        if proc is None:
            return
        if proc.thread:
            proc.ended = True  # (no event: the process goes on; ``all_stopped`` skips it)
            return
        fields: dict[str, Any]
        if line.kind == P.EXITED:
            fields = {"code": line.ret}
        else:
            signame = line.name.split()[0]
            fields = {"signal": _signum(signame), "signame": signame}
        # Not before its last record: a call printed whole at the end of a read is held
        # to "now" (``release``), which may be later than the exit strace prints next.
        t = max(self._exit_ns(line.t, 0), self._last_end.get(proc.tid, 0))
        event = {"t": t, "seq": -1, "pid": proc.pid, "kind": "proc.exit", **fields}
        self.out.append(("event", proc.pid, t, event))
        proc.ended = True
        self._entry.pop(line.pid, None)
        self._begun.pop(line.pid, None)
        for obj in {o for o, e, _ in proc.fds.values() if e == MQ_END}:
            self._mq_closed(proc, obj, t)  # its descriptors went with it
        for obj in {o for o, e, _ in proc.fds.values() if o in self.unlinked}:
            self._fifo_gone(proc, obj, t)
        _devshm_unmapped(self, proc, t, list(proc.maps))  # and its mappings

    # -- calls ---------------------------------------------------------------------------

    def _call(
        self, pid: int, t: int, end: int, name: str, args: str, ret: int | None, err: str
    ) -> None:
        proc = self.procs[pid]
        handler = _CALLS.get(name)
        if handler is None:
            self.unknown_calls += 1
            return
        handler(self, proc, t, end, args, ret, err)

    def _rec(
        self, proc: Proc, code: int, obj: int, t: int, a: int = 0, b: int = 0, data: bytes = b""
    ) -> None:
        self.out.append(("rec", proc.pid, (code | proc.thread << 8, obj, t, a, b, data)))
        self._last_end[proc.tid] = t

    def _begin(self, proc: Proc, t: int, name: str, args: str) -> list[Any] | None:
        """The begin record of a call that can block, from what its entry printed."""
        code, obj, a, b, data = 0, -1, 0, 0, b""
        if name in _PIPE_IO:
            fd = _first_fd(args)
            if fd is None:
                return None
            obj = self.index.get(fd[1], -1)  # a pipe's ``pipe:[INODE]``, a FIFO's path
            if obj >= 0 and fd[1] in self.reborn:  # (``_fd_obj``; its usual case inline)
                obj = self._fd_obj(proc, fd)
            if obj < 0:
                return None
            if name == "read" or name in _READV:
                code = _PIPE_READ_BEGIN
            elif name == "write":
                code, a = _PIPE_WRITE_BEGIN, _last_int(args) or 0
            else:
                code, a = _PIPE_WRITE_BEGIN, P.iovecs(args)[1]
        elif name in ("open", "openat"):
            opened = self._fifo_opened(args, name)
            if opened is None:
                return None
            obj, end = opened
            code, a = C.PIPE_OPEN_BEGIN, end
        elif name in ("mq_timedsend", "mq_timedreceive"):
            found = self._mq_obj(proc, args)
            if found is None:
                return None
            obj = found
            if name == "mq_timedsend":  # (fd, data, len, prio, timeout)
                nums = P.ints(args)
                code = C.MQ_SEND_BEGIN
                a = nums[1] if len(nums) > 1 else 0
                b = nums[0] if nums else 0
            else:
                code = C.MQ_RECV_BEGIN
        elif name == "futex":  # asleep in a semaphore of a segment: declared now
            _futex(self, proc, t, t, args, None, "")
            return None
        elif name in ("semop", "semtimedop"):
            nums = P.ints(args)
            waits = [b for b in P.sembufs(args) if b[1] < 0 and "IPC_NOWAIT" not in b[2]]
            if not nums or not waits:
                return None
            objs = [self._sem(proc, nums[0], w[0], t, undo="SEM_UNDO" in w[2]) for w in waits]
            obj, code = objs[0], C.SEM_WAIT_BEGIN
            if len(waits) > 1:  # every semaphore it takes from: it sleeps on any too low
                names = [self.names[i] for i in objs]
                asks = {"sems": names, "units": [-w[1] for w in waits]}
                data = json.dumps(asks).encode()
        else:
            nums = P.ints(args)
            if not nums:
                return None
            obj = self._sysv(proc, "msqid", nums[0], t)
            if name == "msgsnd":
                msg = P.message(args)
                code = C.MSGQ_SEND_BEGIN
                a = msg[0] if msg else 0
                b = nums[1] if len(nums) > 1 else 0
            else:  # msgrcv: the type asked for is printed only at the return (fixed then)
                code, b = C.MSGQ_RECV_BEGIN, 1
        # never before the end given to this thread's previous call: that end is widened
        # past the next line's stamp, and this call's entry is that very line
        begin = (t - 1) * 1000 - self.offset  # ``_entry_ns``
        last = self._last_end.get(proc.tid, 0)
        return [code | proc.thread << 8, obj, begin if begin >= last else last, a, b, data]

    def _begun_or_new(self, proc: Proc, pid: int, t: int, name: str, args: str) -> list | None:
        """The begin record of this call: the one emitted at its entry, or a new one."""
        self._entry.pop(pid, None)
        begun = self._begun.pop(pid, None)
        if begun is not None and begun[0] == t:
            return begun[1]
        rec = self._begin(proc, t, name, args)
        if rec is not None:
            self.out.append(("rec", proc.pid, rec))
        return rec

    def _drop_begin(self, rec: list[Any] | None) -> None:
        """A call that failed took no effect: its begin goes too, if not handed on yet."""
        if rec is None:
            return
        for i in range(len(self.out) - 1, -1, -1):
            if self.out[i][0] == "rec" and self.out[i][2] is rec:
                del self.out[i]
                return

    def _declare(self, proc: Proc, name: str, type_: str, t: int, **fields: Any) -> int:
        i = self.index.get(name)
        if i is None:
            i = self.index[name] = self._new_index(name)
        if name not in self.declared or name in self.removed:
            self.declared[name] = type_
            self.removed.discard(name)
            # Not before the process's last record: a call's entry is widened a microsecond
            # back (strace's stamps are whole microseconds), the previous call's end two
            # forward, and the declare is the process's own record (program order).
            t = max(t, self._last_end.get(proc.tid, t))
            if self.outside and fields.get("discovered"):
                fields["outside"] = True  # attached: it may hold what no event shows
            event = {
                "t": t,
                "seq": -1,
                "pid": proc.pid,
                "kind": "obj.declare",
                "obj": name,
                "type": type_,
                **fields,
            }
            self.out.append(("event", proc.pid, t, event))
            # and the process's next call begins no earlier than its declare (a receive
            # entered within 3 µs of the mq_open that named the queue was stamped before it)
            self._last_end[proc.tid] = t
        return i

    def _new_index(self, name: str) -> int:
        """The index of an object the calls name for the first time."""
        if self.allocate is not None:
            return self.allocate(name)
        i = len(self.names)
        list.append(self.names, name)
        return i

    def incarnation(self, key: str) -> str:
        """The object name of what ``key`` (a FIFO's path, ``mq:/NAME``) names once made
        anew: ``key`` itself unless the object of that name is still there, else the first
        free of ``key (2)``, ``key (3)``… In the kernel an unlinked FIFO or queue lives on
        for the descriptors that hold it, and one made under its name is another object:
        one name for both mixed their operations (a correct program accused)."""
        name, n = key, 1
        while name in self.declared and name not in self.removed:
            n += 1
            name = f"{key} ({n})"
        if name != key:
            self.incarnations[name] = key
            self.reborn.add(key)
        return name

    def _key_of(self, obj: int) -> str:
        """The key the calls name object ``obj`` by (``incarnation``)."""
        name = self.names[obj]
        return self.incarnations.get(name, name)

    def _fd_obj(self, proc: Proc, fd: tuple[int, str]) -> int:
        """The pipe or FIFO that descriptor ``fd`` (its number, the name ``-yy`` gives it)
        holds, or -1: by that name, unless a FIFO was made anew at that path (strace names
        the old one's descriptors alike): then what the process's table says it opened."""
        obj = self.index.get(fd[1], -1)
        if obj < 0 or fd[1] not in self.reborn:
            return obj
        held = proc.fds.get(fd[0])
        if held is not None and self._key_of(held[0]) == fd[1]:
            return held[0]
        return self.index.get(self.fifo_names.get(fd[1], fd[1]), obj)

    def share(self, obj: Any, index: int) -> None:
        """A scenario's own object that a traced command may use too (``scenario.command``).

        Where strace sees every operation on it (a FIFO by its path, a System V or POSIX
        queue, a System V semaphore: ``$IPCVIZ_NAME`` gives a command its path, name or
        id), the command's calls on it are that object's operations, beside the Python
        workers' own. Shared memory and POSIX semaphores change without a system call (a
        store, an uncontended ``sem_wait``): a command that opens one is said to act
        unseen (``notice``), and no second object is made up for it."""
        found = shareable(obj)
        if found is None:
            return
        key, seen = found
        self.index[key] = index
        self.declared[key] = obj.type
        self.shared[key] = (obj.name, seen)
        if obj.type == POSIX_MQ:
            self.queues[obj.kernel_name] = [key, False, True]
            self._mq_pending[index] = []
        elif obj.type == SYSV_SEM:
            self._sets[obj.id] = (1, "", False)  # a scenario's semaphore: a set of one

    #: What a mapper knows of objects (not of processes): shared by the mappers of several
    #: straces that watch one run (a scenario's commands), so an object two of them use is
    #: one object, declared once.
    OBJECT_STATE = (
        "index", "declared", "made", "sysv_ids", "removed", "fifos", "_sets", "segments",
        "_sem_fresh", "_sem_undo", "_unseen_sets", "_lossy", "queues", "_mq_pending", "devshm",
        "shared", "rmid", "own", "fifo_names", "incarnations", "reborn", "unlinked",
    )  # fmt: skip

    def objects_of(self, other: Mapper) -> None:
        """Know objects through ``other``'s tables from now on (``OBJECT_STATE``)."""
        for attr in self.OBJECT_STATE:
            setattr(self, attr, getattr(other, attr))
        self.alone = other.alone = False  # (a process of another strace is no outsider)

    def _unseen(self, proc: Proc, key: str, t: int) -> bool:
        """``key`` names a scenario's object a command cannot be watched using: said once
        per process (``notice``); True if so (the caller makes up no object for it)."""
        shared = self.shared.get(key)
        if shared is None or shared[1]:
            return False
        if (proc.pid, key) not in self._told:
            self._told.add((proc.pid, key))
            self._notice(
                proc,
                t,
                "unseen-use",
                shared[0],
                f"{proc.name} uses {shared[0]}, which changes without system calls: ipcviz "
                "cannot see what it does there",
            )
        return True

    def program_output(self, proc: Proc, t: int, data: bytes, size: int) -> None:
        """``proc.output`` of the process that wrote ``size`` bytes to the program's output
        pipe (``data``: what strace showed of them), at most ``OUTPUT_CAP`` bytes per
        process, as the engine keeps a worker's; ``cut`` says where it stopped."""
        self.output_said.append((data, size))
        seen = self._output_seen.get(proc.pid, 0)
        self._output_seen[proc.pid] = seen + size
        took = capped(seen, data, size)  # (also cut where strace showed less: ``-s``)
        if took is None:
            return
        kept, cut = took
        event: dict[str, Any] = {"t": t, "seq": -1, "pid": proc.pid, "kind": "proc.output"}
        event["data"] = b64(kept)
        if cut is not None:
            event["cut"] = cut
        self.out.append(("event", proc.pid, t, event))

    def _notice(self, proc: Proc, t: int, reason: str, obj: str, message: str, **more: Any) -> None:
        """A ``notice`` about ``obj`` (its ``reason`` is what the views word; ``message``
        the engine's English, for a reader that knows no reason; ``more``: the fields
        its words name)."""
        event = {
            "t": t,
            "seq": -1,
            "pid": proc.pid,
            "kind": "notice",
            "reason": reason,
            "obj": obj,
            "message": message,
            **more,
        }
        self.out.append(("event", proc.pid, t, event))

    def _sysv(
        self, proc: Proc, kind: str, ident: int, t: int, made: bool = False, key: str = ""
    ) -> int:
        name = f"{kind}:{ident}"
        if name in self.declared and name not in self.removed:
            return self.index[name]
        self.sysv_ids[name] = (kind, ident)
        if made:
            self.made.add(name)
        label = f"{kind} {ident}" + (f" (key {key})" if key else "")
        fields: dict[str, Any] = {"kernel_name": label, "id": ident}
        if not made:
            fields["discovered"] = True
            if ident in self.sysv_existing.get(kind, ()):
                fields["outside"] = True  # there before the run: it may hold messages already
        if kind == "msqid":
            fields["max_bytes"] = self.msgmnb
            return self._declare(proc, name, SYSV_MQ, self._entry_ns(t), **fields)
        return self._declare(proc, name, SYSV_SEM, self._entry_ns(t), **fields)

    def let_go(self) -> None:
        """Close the descriptors ``own`` holds (the end of the run)."""
        for fd in self.own.values():
            try:
                os.close(fd)
            except OSError:
                pass
        self.own.clear()

    def made_signature(self) -> tuple[int, ...]:
        """Changes whenever ``made_now`` may have (cheap: asked after every batch)."""
        return (len(self.made), len(self.rmid), len(self._sets), self.own_changes)

    def made_now(self) -> list[tuple[str, int | str, int | None]]:
        """What the program's own calls made and did not remove, as (kind, id or name,
        a descriptor of it held since the call, or None): System V objects it created
        (IPC_PRIVATE, IPC_CREAT|IPC_EXCL), and the FIFOs, POSIX queues, segments and named
        semaphores ``own`` holds. The registry keeps them for ``ipcviz clean``, in case
        the engine is killed before it can remove them (``session/program.py``)."""
        out: list[tuple[str, int | str, int | None]] = []
        sysv = {self.sysv_ids[n] for n in self.made if n in self.sysv_ids}
        sysv.update(("semid", ident) for ident in self.sets_made())
        out += [(kind, ident, None) for kind, ident in sorted(sysv - self.rmid)]
        for key, fd in self.own.items():
            if key in self.fifos:
                kind = "FIFO"
            elif key in self.queues:
                kind = "POSIX queue"
            elif key in self.devshm:
                kind = "POSIX semaphore" if self.devshm[key].is_sem else "POSIX shared memory"
            else:
                continue
            out.append((kind, key, fd))
        return out

    def sets_made(self) -> list[int]:
        """System V semaphore sets the program created (used or not)."""
        return [ident for ident, (_n, _key, made) in self._sets.items() if made]

    def _sem(
        self, proc: Proc, ident: int, num: int, t: int, value: int | None = None, undo: bool = False
    ) -> int:
        """Semaphore ``num`` of set ``ident``: ``semid:ID`` (a set of one) or ``semid:ID[n]``.
        Declared at its first use; declared again with the value ``semctl`` gave it.

        ``undo``: this use is made with SEM_UNDO. A semaphore whose first use after its
        ``semctl`` value is one is declared again with ``undo`` (and that value: nothing
        changed it yet), so the model keeps each process's adjustment and the kernel's
        reversal at its death is shown (``sem.undo``)."""
        nsems, key, made = self._sets.get(ident, (0, "", False))
        name = self._sem_name(ident, num)
        if name in self.shared:  # a scenario's semaphore: its declare is the engine's
            return self.index[name]
        if value is None:
            fresh = self._sem_fresh.pop(name, None)
            if undo and fresh is not None and name not in self._sem_undo:
                self._sem_undo.add(name)
                value = fresh
        else:
            self._sem_fresh[name] = value
        if value is None and name in self.declared and name not in self.removed:
            return self.index[name]
        self.sysv_ids[name] = ("semid", ident)
        if made:
            self.made.add(name)
        label = f"semid {ident}" + (f" #{num}" if nsems != 1 else "")
        fields: dict[str, Any] = {
            "kernel_name": label + (f" (key {key})" if key else ""),
            "id": ident,
            "value": value or 0,
        }
        if not made:
            fields["discovered"] = True
            if ident in self.sysv_existing.get("semid", ()) and value is None:
                fields["outside"] = True  # there before the run: its value is the kernel's
                # (until a SETVAL the trace shows gives it one: then declared again)
        if value is None and ident in self._unseen_sets:
            del fields["value"]  # a SETALL gave it one strace does not print: none is said
        if name in self._sem_undo:
            fields["undo"] = True
        if value is not None:
            self.declared.pop(name, None)  # a new value: said by declaring it again
        at = self._entry_ns(t)
        i = self._declare(proc, name, SYSV_SEM, at, **fields)
        if ident in self._unseen_sets:  # its value: a SETALL strace did not print
            self._unseen_value(proc, name, self._last_end.get(proc.tid, at))
        return i

    def _unseen_value(self, proc: Proc, name: str, at: int) -> None:
        """``name``'s value was set by a SETALL strace did not print: from now on only
        the kernel's readings tell it (``notice`` unseen-value: the object is ``outside``)."""
        self._notice(
            proc,
            at,
            "unseen-value",
            name,
            f"{name} has the value a SETALL gave it, which strace does not print: from now "
            "on only the kernel's readings tell its value",
        )

    def _sem_name(self, ident: int, num: int) -> str:
        """``semid:ID`` (a set of one), or ``semid:ID[n]``."""
        nsems = self._sets.get(ident, (0, "", False))[0]
        return f"semid:{ident}" if nsems == 1 else f"semid:{ident}[{num}]"

    def _set_value(self, proc: Proc, ident: int, num: int, at: int, value: int | None) -> bool:
        """semctl(SETVAL/SETALL) on a semaphore already declared (a scenario's, or one the
        program used already): the value given is an operation on it (``sem.set``), not a
        new object. On a scenario's, ``None`` (a value strace did not print: SETALL) makes
        its value the kernel's to say from now on (``notice`` unseen-value).
        False: a semaphore not declared yet (``_sem`` declares it with the value)."""
        name = self._sem_name(ident, num)
        known = name in self.declared and name not in self.removed
        if name not in self.shared and not (known and value is not None):
            return False
        if value is not None:
            if name not in self.shared:
                self._sem_fresh[name] = value  # (a first SEM_UNDO use declares it again)
            self._rec(proc, C.SEM_SET, self.index[name], at, value)
            return True
        said = self.shared[name][0]
        self._notice(
            proc,
            at,
            "unseen-value",
            said,
            f"{proc.name} set {said} to values strace does not print (SETALL): from now on "
            "only the kernel's readings tell its value",
        )
        return True

    def _partner_seen(self, proc: Proc, obj: int, end: int, t: int) -> None:
        """A blocking open of a program's FIFO returned: a process opened the other end.
        If no traced process holds that end, or is inside its open (strace printed that
        call's entry before this return), the partner is a process ipcviz does not watch
        (a client from another shell): what it writes or reads is not seen, and the FIFO
        is said to be used from outside (``notice`` outside-end), so a read of its bytes
        is no accusation. (A scenario's FIFO has Python workers as partners: not here.)"""
        if obj in self._outside or any(self.index.get(k) == obj for k in self.shared):
            return  # (a scenario's FIFO: its workers are partners strace does not see)
        if not self.alone:
            return  # the partner may be another command's process: nothing can be said
        other = 1 - end
        for p in self.procs.values():
            if not p.ended and any(o == obj and e == other for o, e, _ in p.fds.values()):
                return
        for _, rec in self._begun.values():
            if rec and rec[0] & 0xFF == C.PIPE_OPEN_BEGIN and rec[1] == obj and rec[3] == other:
                return
        for _, name, args in self._entry.values():
            if name in ("open", "openat") and self._fifo_opened(args, name) == (obj, other):
                return
        self._outside.add(obj)
        path = self.names[obj]
        self._notice(
            proc,
            t,
            "outside-end",
            path,
            f"{path}: a process ipcviz does not watch opened its other end (from another "
            "shell?): what it writes or reads there is not seen",
        )

    def _fifo_opened(self, args: str, name: str) -> tuple[int, int] | None:
        """(object, end) when ``open``/``openat`` names a FIFO the program made."""
        path = _path_arg(args, at=name == "openat")
        key = path or ""
        if key in self.reborn:  # made anew there: the FIFO at the path now
            key = self.fifo_names.get(key, key)
        obj = self.index.get(key, -1)
        if obj < 0 or self.declared.get(key) != FIFO:
            return None
        return obj, 1 if "O_WRONLY" in args else 0

    def _close_fd(self, proc: Proc, fd: int, t: int) -> None:
        held = proc.fds.pop(fd, None)
        if held is None:
            return
        obj, end, _ = held
        if end == MQ_END:
            self._mq_closed(proc, obj, t)
            return
        if any(o == obj and e == end for o, e, _ in proc.fds.values()):
            return  # another descriptor of this process still holds that end
        self._rec(proc, C.PIPE_CLOSE, obj, t, end)
        if obj in self.unlinked:
            self._fifo_gone(proc, obj, t)

    def _holders(self, obj: int, end: int | None = None) -> bool:
        """A live process's descriptor holds ``obj`` (its ``end``; None: any)."""
        for other in self.procs.values():
            if other.ended or other.thread:
                continue
            if any(o == obj and (end is None or e == end) for o, e, _ in other.fds.values()):
                return True
        return False

    def _fifo_gone(self, proc: Proc, obj: int, t: int) -> None:
        """An unlinked FIFO that no descriptor holds, and no open under way waits in, is
        gone (``obj.remove``): a FIFO made at its path since is another one."""
        name = self.names[obj]
        if name in self.removed or not self.alone or self._holders(obj):
            return  # (not alone: another strace's process may hold it, unseen here)
        for _, rec in self._begun.values():
            if rec and rec[0] & 0xFF == C.PIPE_OPEN_BEGIN and rec[1] == obj:
                return
        self.removed.add(name)
        self.unlinked.discard(obj)
        event = {"t": t, "seq": -1, "pid": proc.pid, "kind": "obj.remove", "obj": name}
        self.out.append(("event", proc.pid, t, event))

    # -- POSIX queues --------------------------------------------------------------------

    def _mq_obj(self, proc: Proc, args: str) -> int | None:
        """The queue a descriptor names: this process's table (the descriptor mq_open
        returned, inherited at fork), else the queue ``-yy`` names it after."""
        fd = P.first_fd(args)
        if fd is None:
            return None
        held = proc.fds.get(fd[0])
        if held is not None and held[1] == MQ_END:
            return held[0]
        known = self.queues.get(fd[1])
        return self.index.get(known[0]) if known is not None else None

    def _mq_closed(self, proc: Proc, obj: int, t: int) -> None:
        """A queue's descriptor went: an unlinked queue no descriptor holds is gone."""
        name = self.names[obj]
        entry = next((q for q in self.queues.values() if q[0] == name), None)
        # (none: a queue made anew under its name since, so its own name is gone)
        if (entry is not None and entry[2]) or name in self.removed or self._holders(obj, MQ_END):
            return
        self.removed.add(name)
        event = {"t": t, "seq": -1, "pid": proc.pid, "kind": "obj.remove", "obj": name}
        self.out.append(("event", proc.pid, t, event))

    # -- ipcviz attach: what already ran and existed before the trace began ----------------

    def adopt_proc(self, pid: int, name: str, parent: int, tids: list[int]) -> Proc:
        """A process found running at attach time (its ``proc.start`` is the engine's):
        known from now on, with its threads as lanes of their own."""
        proc = Proc(pid, name, tid=pid)
        self.procs[pid] = proc
        self._colors += 1
        if self.root is None:
            self.root = pid
        owner = self.procs.get(parent)
        if owner is not None and not owner.thread:
            owner.children += 1
        for tid in tids:
            proc.threads += 1
            self.procs[tid] = Proc(pid, name, proc.threads, tid, proc.fds)
        return proc

    def adopt_object(self, name: str, type_: str, holders: list[tuple[int, int, int, bool]]) -> int:
        """An object found open at attach time (its ``obj.declare`` is the engine's): its
        index, and the descriptors that hold it in each process's table."""
        i = self.index.get(name)
        if i is None:
            i = self.index[name] = self._new_index(name)
        self.declared[name] = type_
        self.removed.discard(name)
        if type_ == POSIX_MQ:
            self.queues[name[len(MQ_PREFIX) :]] = [name, False, True]
            self._mq_pending[i] = []
        for pid, fd, end, cloexec in holders:
            proc = self.procs.get(pid)
            if proc is not None:
                proc.fds[fd] = (i, end, cloexec)
        return i


def shareable(obj: Any) -> tuple[str, bool] | None:
    """How a traced command's calls name a scenario's object, and whether strace sees its
    operations (``Mapper.share``); None for a type a command cannot be given (a pipe)."""
    ident = getattr(obj, "id", -1)
    name = str(obj.kernel_name or "")
    if obj.type == FIFO and name:
        return name, True
    if obj.type == SYSV_MQ and ident >= 0:
        return f"msqid:{ident}", True
    if obj.type == POSIX_MQ and name:
        return MQ_PREFIX + name, True
    if obj.type == SYSV_SEM and ident >= 0:
        return f"semid:{ident}", True
    if obj.type == SYSV_SHM and ident >= 0:
        return f"shmid:{ident}", False
    if obj.type == POSIX_SHM and name:
        return SHM_DIR + name.lstrip("/"), False
    if obj.type == POSIX_SEM and name:
        return SHM_DIR + "sem." + name.lstrip("/"), False
    if obj.type == MMAP_FILE and name:
        return name, False
    return None


# -- one handler per system call ---------------------------------------------------------


#: Objects the program made that ipcviz holds a descriptor of at most (``Mapper.own``):
#: past it, one more made is named at the end, never removed. A quarter of the engine's
#: descriptor limit at most: its probes and trace need the rest.
HELD_MAX = 4096


def _held_max() -> int:
    import resource

    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return HELD_MAX if soft == resource.RLIM_INFINITY else min(HELD_MAX, soft // 4)


def _hold(path: str, fifo: bool = False, follow: bool = False) -> int | None:
    """An O_PATH descriptor of what ``path`` names now (the last component not followed;
    a FIFO if ``fifo``): it opens nothing (a FIFO's writer is not let through), or None.

    Held by its path (not a process's descriptor, ``follow``), it is what the path names
    when ipcviz reads strace's line, a moment after the call: in a directory where another
    user may replace an entry (writable by others and not sticky) that could be theirs,
    so nothing is held there (the object is named at the end, never removed). In a
    sticky or private directory (/dev/shm, /tmp, the program's own) only the same user or
    root could have put another object there in that moment (docs/any-program.md)."""
    if not follow and not _guarded_dir(os.path.dirname(path) or "."):
        return None
    try:
        flags = os.O_PATH | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
        fd = os.open(path, flags)
    except (OSError, ValueError):
        return None
    try:
        if fifo and not stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.close(fd)
            return None
    except OSError:
        os.close(fd)
        return None
    return fd


def _identity(fd: int | None) -> int | None:
    """The inode of what ``fd`` holds, or None."""
    if fd is None:
        return None
    try:
        return os.fstat(fd).st_ino
    except OSError:
        return None


def _guarded_dir(directory: str) -> bool:
    """No other user can unlink or rename an entry of ``directory``: it is sticky, or
    neither its group nor others may write it."""
    try:
        mode = os.stat(directory).st_mode
    except OSError:
        return False
    return bool(mode & stat.S_ISVTX) or not mode & (stat.S_IWGRP | stat.S_IWOTH)


def _own(m: Mapper, key: str, fd: int | None) -> None:
    """``key`` (a path, a queue's ``/NAME``) names what the program made, held by ``fd``
    (None: not known; what was held under it is let go)."""
    m.own_changes += 1
    old = m.own.pop(key, None)
    if old is not None:
        os.close(old)
    if fd is None:
        return
    if len(m.own) >= m.held_max:
        os.close(fd)
        return
    m.own[key] = fd


def _hold_fd(proc: Proc, fd: int | None, path: str) -> int | None:
    """An O_PATH descriptor of what the process's descriptor ``fd`` holds now, if that is
    still the object the call opened at ``path`` (for a POSIX queue its ``/NAME``), or
    None. ipcviz reads the call's line after it returned: the program may have closed
    ``fd`` since and got the number again for another file (glibc's sem_open closes its
    temporary file's), which must not be taken for this one."""
    if fd is None or fd < 0:
        return None
    link = f"/proc/{proc.tid or proc.pid}/fd/{fd}"
    held = _hold(link, follow=True)
    if held is None:
        return None
    try:  # read after the hold, and the same inode both ways: one file, not two
        same = os.readlink(link) == path and os.path.samestat(os.fstat(held), os.stat(link))
    except OSError:
        same = False
    if not same:
        os.close(held)
        return None
    return held


def _held_dup(m: Mapper, key: str) -> int | None:
    fd = m.own.get(key)
    try:
        return os.dup(fd) if fd is not None else None
    except OSError:
        return None


def _pipe(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    ends = P.fds(args)
    if ret != 0 or len(ends) < 2 or not ends[0][1].startswith("pipe:["):
        return
    name = ends[0][1]
    at = m._exit_ns(t, end - t)
    m._lossy.discard(m.index.get(name, -1))
    obj = m._declare(proc, name, PIPE, at, kernel_name=name, capacity=PIPE_CAPACITY)
    m.removed.discard(name)
    cloexec = _O_CLOEXEC in args[args.rfind("]") :]
    proc.fds[ends[0][0]] = (obj, 0, cloexec)
    proc.fds[ends[1][0]] = (obj, 1, cloexec)


def _read(
    m: Mapper,
    proc: Proc,
    t: int,
    end: int,
    args: str,
    ret: int | None,
    err: str,
    call: str = "read",
) -> None:
    fd = _first_fd(args)
    obj = m.index.get(fd[1], -1) if fd is not None else -1
    if obj >= 0 and fd[1] in m.reborn:  # (``_fd_obj``; its usual case inline)
        obj = m._fd_obj(proc, fd)
    if obj < 0:
        m._entry.pop(proc.tid, None)
        return
    begun = m._begun.pop(proc.tid, None)  # ``_begun_or_new``, its usual case inline
    if begun is not None and begun[0] == t:
        m._entry.pop(proc.tid, None)
        begin = begun[1]
    else:
        begin = m._begun_or_new(proc, proc.tid, t, call, args)
    if ret is None or ret < 0:
        m._drop_begin(begin)
        return
    if call == "read":
        got = _string_arg(args)
        data = got[0][:ret] if got is not None else b""
        asked = _last_int(args)
        if asked is not None and ret > asked:
            # the kernel never returns more than was asked: a line strace wrote as its
            # process was killed (``read(3, "b\3\0…", 1) = 62``, in a SIGKILL of the
            # program's own group). What the call did is not known: none is told.
            m._drop_begin(begin)
            return
        most = asked or 0
    else:  # the buffers filled in order: their bytes, one after the other
        data, most, _ = P.iovecs(args)
        data = data[:ret]
    if ret == 0 and most == 0:  # a read of nothing: returns at once, takes nothing, is no
        m._drop_begin(begin)  # end of file (it was told as one, and a correct program
        return  # accused of reading end of file from a pipe holding bytes)
    if obj in m._lossy:
        data = b""
    if begin is not None:  # the most it could read, known only now
        begin[3] = most
    at = (end + 2) * 1000 - m.offset  # ``_exit_ns``; then ``_rec``, inline
    m.out.append(("rec", proc.pid, (_PIPE_READ | proc.thread << 8, obj, at, ret, 0, data)))
    m._last_end[proc.tid] = at


def _readv(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """readv, preadv, preadv2: a read into several buffers (the same begin for all)."""
    _read(m, proc, t, end, args, ret, err, call="readv")


def _write(
    m: Mapper,
    proc: Proc,
    t: int,
    end: int,
    args: str,
    ret: int | None,
    err: str,
    call: str = "write",
) -> None:
    fd = _first_fd(args)
    obj = m.index.get(fd[1], -1) if fd is not None else -1
    if obj >= 0 and fd[1] in m.reborn:  # (``_fd_obj``; its usual case inline)
        obj = m._fd_obj(proc, fd)
    if obj < 0:
        m._entry.pop(proc.tid, None)
        if fd is not None and fd[1].startswith(SEM_FILE) and ret is not None and ret > 0:
            _sem_file_written(m, fd[1], args)
        elif fd is not None and fd[1] == m.output_pipe and ret is not None and ret > 0:
            shown = _string_arg(args)[0] if call == "write" else P.iovecs(args)[0]
            m.program_output(proc, (end + 2) * 1000 - m.offset, (shown or b"")[:ret], ret)
        return
    begun = m._begun.pop(proc.tid, None)  # ``_begun_or_new``, its usual case inline
    if begun is not None and begun[0] == t:
        m._entry.pop(proc.tid, None)
        begin = begun[1]
    else:
        begin = m._begun_or_new(proc, proc.tid, t, call, args)
    if call == "write":
        got = _string_arg(args)
        size = _last_int(args) or 0
        shown = got[0] if got is not None else None
    else:  # the buffers' bytes, one after the other; the size is the sum of their lengths
        shown, size, _ = P.iovecs(args)
    at = (end + 2) * 1000 - m.offset  # ``_exit_ns(t, end - t)``
    if err == "EPIPE":
        m._rec(proc, C.PIPE_EPIPE, obj, at, size)
        return
    if ret is None or ret < 0 or (call == "write" and size and ret > size):
        m._drop_begin(begin)  # (no result, or one no kernel gives: see ``_read``)
        return
    if begin is not None:  # made at the entry, maybe from a line cut before the count
        begin[3] = size
    data = shown[:ret] if shown is not None else b""
    if shown is not None and len(data) < ret:  # ``-s`` cut it: the pipe's bytes are not all known
        m._lossy.add(obj)
    m.out.append(("rec", proc.pid, (_PIPE_WRITE | proc.thread << 8, obj, at, ret, size, data)))
    m._last_end[proc.tid] = at  # (``_rec`` inline)


def _writev(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """writev, pwritev, pwritev2: a write gathered from several buffers."""
    _write(m, proc, t, end, args, ret, err, call="writev")


def _close(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    fd = P.first_fd(args)
    if fd is not None and ret == 0:
        m._close_fd(proc, fd[0], m._exit_ns(t, end - t))


def _dup(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """dup, dup2, dup3 and fcntl(F_DUPFD…): the new descriptor holds the same end."""
    fd = P.first_fd(args)
    if fd is None or ret is None or ret < 0 or ret == fd[0]:
        return
    at = m._exit_ns(t, end - t)
    m._close_fd(proc, ret, at)  # dup2 onto an open descriptor closes it first
    held = proc.fds.get(fd[0])
    if held is not None:
        proc.fds[ret] = (held[0], held[1], _O_CLOEXEC in args or "F_DUPFD_CLOEXEC" in args)


def _fcntl(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    if "F_DUPFD" in args:
        _dup(m, proc, t, end, args, ret, err)
        return
    fd = P.first_fd(args)
    if fd is None or ret is None or ret < 0 or "F_SETFD" not in args:
        return
    held = proc.fds.get(fd[0])
    if held is not None:
        proc.fds[fd[0]] = (held[0], held[1], "FD_CLOEXEC" in args)


def _clone(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    if ret is None or ret <= 0:
        return
    m._forked(proc, ret, t, end, args, thread="CLONE_THREAD" in args)


def _at(args: str) -> bool:
    """The call's first argument is a directory descriptor (openat, mknodat, unlinkat), not
    the path itself (open, mknod, unlink)."""
    return not args.startswith('"')


def _path_arg(args: str, at: bool) -> str | None:
    """The path a call names, made absolute with ``-yy``'s directory (``AT_FDCWD</dir>``)."""
    got = P.string_arg(args)
    if got is None:
        return None
    path = P.name_text(got[0])
    if not path.startswith("/"):
        base = P.first_fd(args.replace("AT_FDCWD", "-100", 1)) if at else None
        if base is None:
            return None
        path = os.path.normpath(os.path.join(base[1], path))
    return path


def _mknod(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """mkfifo(3) is mknod(2) with S_IFIFO: a FIFO the program made, named by its path."""
    if ret != 0 or "S_IFIFO" not in args:
        return
    path = _path_arg(args, at=_at(args))
    if path is None:
        return
    m.fifos[path] = True
    name = m.incarnation(path)  # made anew: a new object (the old one may live on)
    if name == path:
        m.fifo_names.pop(path, None)
    else:
        m.fifo_names[path] = name
    _own(m, path, _hold(path, fifo=True))
    m._declare(
        proc, name, FIFO, m._exit_ns(t, end - t), kernel_name=path, path=path,
        capacity=PIPE_CAPACITY,
    )  # fmt: skip
    m.unlinked.discard(m.index[name])


def _open(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """Opening a FIFO waits for the other end (pipe.open.begin, pipe.open)."""
    name = "openat" if _at(args) else "open"
    opened = m._fifo_opened(args, name)
    if opened is None:
        m._entry.pop(proc.tid, None)
        if m.shared and ret is not None and ret >= 0:  # a scenario's mapped file, maybe
            path = _path_arg(args, at=name == "openat")
            if path is not None:
                m._unseen(proc, path, m._exit_ns(t, end - t))
        return
    begin = m._begun_or_new(proc, proc.tid, t, name, args)
    if ret is None or ret < 0:
        m._drop_begin(begin)
        return
    obj, end_ = opened
    if begin is not None:  # the FIFO its path named at the call's entry (made anew since?)
        obj = begin[1]
    proc.fds[ret] = (obj, end_, _O_CLOEXEC in args)
    at = m._exit_ns(t, end - t)
    m._rec(proc, C.PIPE_OPEN, obj, at, end_, ret)
    if "O_NONBLOCK" not in args and "O_RDWR" not in args:
        m._partner_seen(proc, obj, end_, at)


def _unlink(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    if ret != 0:
        return
    path = _path_arg(args, at=_at(args))
    if path in m.fifos:
        m.fifos[path] = False  # the name is gone; who has it open can still use it
        _own(m, path, None)
        obj = m.index.get(m.fifo_names.get(path, path), -1)
        if obj >= 0 and m.declared.get(m.names[obj]) == FIFO:
            m.unlinked.add(obj)
            m._fifo_gone(proc, obj, m._exit_ns(t, end - t))


def _execve(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    if ret != 0:
        return
    at = m._exit_ns(t, end - t)
    for fd, (_, _, cloexec) in list(proc.fds.items()):
        if cloexec:
            m._close_fd(proc, fd, at)
    _devshm_unmapped(m, proc, at, list(proc.maps))  # a new program: no mapping kept
    if proc.thread or proc.pid == m.root:
        return  # the watched program keeps the name it was asked for (run.exits, checks)
    got = P.string_arg(args)
    if got is None:
        return
    path = P.name_text(got[0])
    argv = [P.name_text(a) for a in P.string_list(args, args.find('"', 1))]
    # A child named ``shell/1`` at its fork is ``grep`` once it runs grep (and its own
    # children ``grep/1``…): the name a lecturer reads on the screen.
    proc.name = (os.path.basename(path) or path)[:NAME_MAX]
    event = {"t": at, "seq": -1, "pid": proc.pid, "kind": "proc.exec", "name": proc.name}
    if argv:
        event["command"] = argv
    m.out.append(("event", proc.pid, at, event))


def _msgget(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    if ret is None or ret < 0:
        return
    key = P.split_args(args)[0] if args else ""
    made = key == "IPC_PRIVATE" or ("IPC_CREAT" in args and "IPC_EXCL" in args)
    m.rmid.discard(("msqid", ret))
    m._sysv(proc, "msqid", ret, end, made=made, key=key)


def _msgsnd(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    nums = P.ints(args)
    if not nums:
        return
    begin = m._begun_or_new(proc, proc.tid, t, "msgsnd", args)
    msg = P.message(args)
    if err == "EIDRM" and begin is not None:  # (its begin names the queue as it was)
        _removed_meanwhile(m, proc, C.MSGQ_EIDRM, begin[1], m._exit_ns(t, end - t), 1)
        return
    if ret != 0 or msg is None:
        m._drop_begin(begin)
        if err == "EAGAIN":  # IPC_NOWAIT on a full queue: refused, shown as the kernel did
            size = nums[1] if len(nums) > 1 else 0  # (its size: the rule checks it did not fit)
            obj = m._sysv(proc, "msqid", nums[0], t)
            _refused(m, proc, obj, t, end, send=True, want=size, code=C.MSGQ_AGAIN_SEND)
        return
    size = nums[1] if len(nums) > 1 else len(msg[1])
    if begin is not None:  # made at the entry, maybe from a line cut before the message
        begin[3], begin[4] = msg[0], size
    obj = m._sysv(proc, "msqid", nums[0], t)
    m._rec(proc, C.MSGQ_SEND, obj, m._exit_ns(t, end - t), msg[0], size, msg[1][:size])


def _msgrcv(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    nums = P.ints(args)
    if not nums:
        return
    begin = m._begun_or_new(proc, proc.tid, t, "msgrcv", args)
    msg = P.message(args)
    # IPC_NOWAIT, no message of that type: (ID, buf, size, TYPE, …). Not with MSG_EXCEPT
    # (any type but TYPE) or MSG_COPY (the message at index TYPE, left in the queue): an
    # ``mq.again``'s ``want`` is a type as msgrcv takes it plainly, and checked as one
    if err == "ENOMSG" and "MSG_EXCEPT" not in args and "MSG_COPY" not in args:
        parts = P.split_args(args)
        want = P.ints(parts[3]) if len(parts) > 3 else []
        if want:
            if begin is not None:
                begin[3], begin[4] = want[0], 0  # the type asked for, known at the return
            obj = m._sysv(proc, "msqid", nums[0], t)
            _refused(m, proc, obj, t, end, send=False, want=want[0])
            return
    if err == "EIDRM" and begin is not None:  # (its begin names the queue as it was)
        _removed_meanwhile(m, proc, C.MSGQ_EIDRM, begin[1], m._exit_ns(t, end - t))
        return
    if ret is None or ret < 0 or msg is None or (len(nums) >= 2 and ret > nums[1]):
        m._drop_begin(begin)  # (more than its buffer: no msgrcv returns that)
        return
    if begin is not None and len(nums) >= 3:
        begin[3] = nums[2]  # msgtyp: printed after the buffer, so known only at the return
        begin[4] = 0  # (known now: if the begin is not handed on yet, it says the type)
    obj = m._sysv(proc, "msqid", nums[0], t)
    # MSG_NOERROR and a full buffer: the message may have been longer (the kernel cut it)
    cut = "MSG_NOERROR" in args and len(nums) >= 2 and ret == nums[1]
    code = C.MSGQ_RECV_CUT if cut else C.MSGQ_RECV
    if "MSG_COPY" in args:  # a copy of the message at index msgtyp: it stays queued
        code = C.MSGQ_COPY
    elif "MSG_EXCEPT" in args and len(nums) >= 3 and nums[2] > 0:  # (msgtyp <= 0: ignored)
        code = C.MSGQ_RECV_EXCEPT_CUT if cut else C.MSGQ_RECV_EXCEPT
    m._rec(proc, code, obj, m._exit_ns(t, end - t), msg[0], ret, msg[1][:ret])


def _removed_meanwhile(m: Mapper, proc: Proc, code: int, obj: int, at: int, a: int = 0) -> None:
    """A call failed with EIDRM: the object was removed (IPC_RMID) while the call was in
    it, asleep or just begun. Its begin stays, ended by this failure, which the linearizer
    places after the removal (a sleeper shown asleep on an object that is gone, or a
    begin left open that could have taken effect before the removal, held it back)."""
    m._rec(proc, code, obj, at, a)


def _refused(
    m: Mapper,
    proc: Proc,
    obj: int,
    t: int,
    end: int,
    send: bool,
    want: int = 0,
    code: int | None = None,
) -> None:
    """A non-blocking send refused on a full queue (EAGAIN), a receive with nothing it
    could take (POSIX EAGAIN, System V ENOMSG): ``mq.again``, on the queue, at the call's
    return, as a worker's ``try_send``/``try_receive`` records it. Nothing changed, but the
    program saw it (and the rules check the queue was full, or empty, then). ``want``: the
    type a System V receive asked for; with ``code`` ``MSGQ_AGAIN_SEND``, a System V
    send's size."""
    at = m._exit_ns(t, end - t)
    limit = m._mq_max.get(obj)
    if limit is not None and _sole_holder(m, proc, obj):  # may have been there before
        held = len(m._mq_pending.get(obj, ()))  # (exact: no other traced call on it)
        if (held < limit) if send else held:  # not what the traced calls left in it
            _unseen_contents(m, proc, obj, m._last_end.get(proc.tid, at))
    m._rec(proc, C.MQ_AGAIN if code is None else code, obj, at, int(send), want)


def _sole_holder(m: Mapper, proc: Proc, obj: int) -> bool:
    """No other traced process or thread holds queue ``obj``: its calls are the only ones,
    so what the mapper counts in it is what it held. (With another holder, strace's lines
    come in the order the calls returned, not the kernel's: a send printed before a
    refused receive may have come after it; the linearizer, with the intervals, decides.)"""
    for other in m.procs.values():
        if other is proc or other.ended:
            continue
        if any(o == obj and e == MQ_END for o, e, _ in other.fds.values()):
            return False
    return True


def _unseen_contents(m: Mapper, proc: Proc, obj: int, at: int) -> None:
    """A refusal the traced calls do not explain, on a queue opened with O_CREAT alone
    where what existed before the run is not known (no /dev/mqueue): it was there already,
    holding messages no call here showed, or an unwatched process uses it. From now on its
    contents are not all known (``notice`` unseen-contents: ``outside``): no
    ``order.conflict`` accuses a correct program."""
    name = m.names[obj]
    del m._mq_max[obj]  # (said once: outside from now on)
    m._notice(
        proc,
        at,
        "unseen-contents",
        name,
        phrases.NOTICES["unseen-contents"].format(name=name),
    )


def _msgctl(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """IPC_RMID removes the queue; IPC_SET gives it the limit in bytes the program set
    (``msg_qbytes``: lowered, or raised up to msgmnb, past it with CAP_SYS_RESOURCE)."""
    _sysv_removed(m, proc, "msqid", t, end, args, ret)
    nums = P.ints(args)
    qbytes = _QBYTES.search(args) if "IPC_SET" in args else None
    if ret != 0 or not nums or qbytes is None:
        return
    obj = m._sysv(proc, "msqid", nums[0], t)
    m._rec(proc, C.MSGQ_LIMIT, obj, m._exit_ns(t, end - t), int(qbytes.group(1)))


def _sysv_removed(
    m: Mapper, proc: Proc, kind: str, t: int, end: int, args: str, ret: int | None
) -> int | None:
    """``…ctl(ID, IPC_RMID, …) = 0``: the object ``KIND:ID`` is gone, said once (its id)."""
    nums = P.ints(args)
    if ret != 0 or not nums or "IPC_RMID" not in args:
        return None
    m.rmid.add((kind, nums[0]))
    name = f"{kind}:{nums[0]}"
    if name not in m.declared or name in m.removed:
        return None
    at = m._exit_ns(t, end - t)
    m.removed.add(name)
    shown = m.shared.get(name, (name, True))[0]  # a scenario's object: by its own name
    event = {"t": at, "seq": -1, "pid": proc.pid, "kind": "obj.remove", "obj": shown}
    m.out.append(("event", proc.pid, at, event))
    return nums[0]


def _semget(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    if ret is None or ret < 0:
        return
    parts = P.split_args(args)
    key = parts[0] if parts else ""
    counted = P.ints(parts[1]) if len(parts) > 1 else []  # (the key may be a number too)
    nsems = counted[0] if counted else 0
    made = key == "IPC_PRIVATE" or ("IPC_CREAT" in args and "IPC_EXCL" in args)
    m.rmid.discard(("semid", ret))
    m._sets[ret] = (nsems, key, made)


def _semctl(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    parts = P.split_args(args)
    if ret is None or ret < 0 or len(parts) < 3:
        return
    try:
        ident, num = int(parts[0]), int(parts[1])
    except ValueError:
        return
    cmd = parts[2]
    at = m._exit_ns(t, end - t)
    if "SETVAL" in cmd and len(parts) > 3:
        try:
            # (the value is a union's: strace prints 0 as NULL)
            value = 0 if parts[3] == "NULL" else _union_int(int(parts[3], 0))
        except ValueError:
            value = None
        if not m._set_value(proc, ident, num, at, value) and value is not None:
            m._sem(proc, ident, num, end, value)
    elif "SETALL" in cmd and len(parts) > 3:
        # (strace 6.1 prints the array's address, not its values: those stay unknown)
        values = (
            P.ints(parts[3].strip("[]").replace(" ", "").replace(",", ", "))
            if parts[3].startswith("[")
            else []
        )
        if not m._set_value(proc, ident, 0, at, values[0] if values else None):
            for i, v in enumerate(values):
                m._sem(proc, ident, i, end, v)
            if not values:
                _unseen_setall(m, proc, ident, end)
    elif "IPC_RMID" in cmd:
        m.rmid.add(("semid", ident))
        for name, (kind, sid) in list(m.sysv_ids.items()):
            if kind == "semid" and sid == ident and name in m.declared and name not in m.removed:
                m.removed.add(name)
                event = {"t": at, "seq": -1, "pid": proc.pid, "kind": "obj.remove", "obj": name}
                m.out.append(("event", proc.pid, at, event))


def _union_int(raw: int) -> int:
    """The ``int val`` of a ``union semun`` strace printed whole: on a 64-bit machine the
    union is one register, and a union whose pointer member was set before ``val`` still
    has the pointer's upper bytes (``0x7ffc00000001``). The kernel takes the int (its low
    32 bits, little-endian; the high ones on a big-endian machine), and so does this."""
    if sys.byteorder == "big" and sys.maxsize > 1 << 32:
        raw >>= 32
    raw &= 0xFFFFFFFF
    return raw - (1 << 32) if raw >= 1 << 31 else raw


def _unseen_setall(m: Mapper, proc: Proc, ident: int, end: int) -> None:
    """SETALL on the program's own set, with values strace did not print: its semaphores
    are declared here, by the process that set them (as SETVAL declares one), and their
    values are the kernel's to say from now on (``notice`` unseen-value: ``outside``).
    Otherwise a semaphore's first use declared it at 0 and every correct wait after was an
    ``order.conflict``."""
    m._unseen_sets.add(ident)
    for num in range(m._sets.get(ident, (0, "", False))[0]):
        name = m._sem_name(ident, num)
        if name in m.declared and name not in m.removed:
            m._unseen_value(proc, name, m._exit_ns(end, 0))
        else:
            m._sem(proc, ident, num, end)  # (its declare says the value is unseen)


def _semop(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """P (sem_op < 0) and V (> 0), one record per unit, in the order the call lists them.
    The kernel applies a call's operations at once (all or nothing, at one instant): every
    record after the first is a joined part (``C.JOINED``), which the linearizer places
    right after the one before it, with the call's begin. Stamped apart, each at the call's
    end, a part after the first had no begin of its own: a waiter the call woke, whose
    return was stamped before that end, had no legal place (a semaphore shown at -1)."""
    nums = P.ints(args)
    ops = P.sembufs(args)
    if not nums or not ops:
        return
    begin = m._begun_or_new(proc, proc.tid, t, "semop", args)
    at = m._exit_ns(t, end - t)
    ident = nums[0]
    if err == "EIDRM" and begin is not None:  # asleep in it (a wait) when it was removed
        _removed_meanwhile(m, proc, C.SEM_EIDRM, begin[1], at)
        return
    if ret != 0:
        m._drop_begin(begin)
        waits = [o for o in ops if o[1] < 0]
        first = waits[0] if waits else None
        if err == "EAGAIN" and [o[1] for o in waits] == [-1]:  # IPC_NOWAIT, the value 0
            m._rec(proc, C.SEM_TRYWAIT, m._sem(proc, ident, first[0], t), at, 0)
        # (asked for more, the kernel does not say which semaphore was too low: naming the
        # first accused a free one, "trywait failed at value 1"; it changed nothing)
        if err == "EINTR" and first is not None:  # by which signal: strace's next line
            m._eintr[proc.tid] = (proc, m._sem(proc, ident, first[0], t), at)
        return
    # Every semaphore declared first: the call's records are then one run in the process's
    # lane, with no declare between them (the linearizer glues a joined part to the last)
    objs = [m._sem(proc, ident, num, t, undo="SEM_UNDO" in flags) for num, _op, flags in ops]
    parts: list[tuple[int, int, int]] = []  # (code, object, a)
    for obj, (_num, op, flags) in zip(objs, ops, strict=True):
        if op < 0:
            nowait = "IPC_NOWAIT" in flags
            parts += [(C.SEM_TRYWAIT, obj, 1) if nowait else (C.SEM_WAIT, obj, 0)] * -op
        parts += [(C.SEM_POST, obj, 0)] * op
    for i, (code, obj, a) in enumerate(parts):
        # the kernel applies the whole call at one instant: every part after the first is
        # joined to it (same begin, nothing of another process between them)
        m._rec(proc, _JOINED_CODE[code] if i else code, obj, at, a)


#: a semop's part → its code as a further part of the same call (``C.JOINED`` reversed)
_JOINED_CODE = {plain: joined for joined, plain in C.JOINED.items()}

#: Signals whose default action is to ignore them: without a tracer one never wakes a
#: process that has no handler for it.
_IGNORED_BY_DEFAULT = frozenset({"SIGCHLD", "SIGURG", "SIGWINCH"})


def _observer_eintr(m: Mapper, proc: Proc, obj: int, at: int, sig: str) -> None:
    """A semop that failed with EINTR on a signal ignored by default (a child's SIGCHLD):
    strace stops the process for every signal, and a semop stopped that way is not
    restarted. Outside strace a program that does not handle ``sig`` would still be
    waiting: the watching changed what it did, and the notice says so."""
    name = m.names[obj]
    m._notice(
        proc,
        at,
        "observer-eintr",
        name,
        f"process {proc.pid}'s semop on {name} failed with EINTR on a {sig}: under strace "
        f"every signal stops a process and a stopped semop is not restarted; without "
        f"strace, unless it handles {sig}, it would still be waiting",
        signal=sig,
    )


_MQ_ATTR = re.compile(r"mq_maxmsg=(\d+), mq_msgsize=(\d+)")
_PRIO = re.compile(r"\[(\d+)\]")


def _mq_open(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """``mq_open("NAME", flags, mode, {mq_maxmsg=…}) = fd``: the queue ``/NAME`` (strace
    prints the name without the slash glibc strips), held by the returned descriptor."""
    got = P.string_arg(args)
    if ret is None or ret < 0 or got is None:
        return
    kernel_name = "/" + P.name_text(got[0])
    flags = P.split_args(args)[1] if len(P.split_args(args)) > 1 else ""
    at = m._exit_ns(t, end - t)
    known = m.queues.get(kernel_name)
    created = "O_CREAT" in flags and (
        "O_EXCL" in flags or (m.mq_existing is not None and kernel_name not in m.mq_existing)
    )
    if "O_CREAT" in flags and not created and m.mq_existing is None:
        m.mq_maybe_made.add(kernel_name)  # made by this call, or there before: not known
    # new, or opened after the program unlinked the name: made anew (by this call or
    # another process), another queue than the one still held under the old name
    if known is None or not known[2]:
        name = m.incarnation(MQ_PREFIX + kernel_name)
        attr = _MQ_ATTR.search(args) if "O_CREAT" in flags else None
        fields: dict[str, Any] = {"kernel_name": kernel_name}
        if attr is not None:
            fields["max_messages"], fields["max_message_size"] = map(int, attr.groups())
        elif created:
            fields["max_messages"], fields["max_message_size"] = m.mq_defaults
        if not created:  # it was there before: it may hold messages no call here showed
            fields["discovered"] = True
            if "O_CREAT" not in flags or (
                m.mq_existing is not None and kernel_name in m.mq_existing
            ):  # opened, not made: it existed before the run (or an unwatched process made
                fields["outside"] = True  # it), and may hold messages no call here showed
            elif m.mq_existing is None:
                _mq_own_sizes(proc, ret, kernel_name, fields, attr is not None)
                if fields.get("outside"):  # not its call's: not left behind by it either
                    m.mq_maybe_made.discard(kernel_name)
        m.queues[kernel_name] = [name, created, True]
        # only O_EXCL says the program's call made it: without it, another may have made
        # it during the run (after the look at what existed before)
        _own(m, kernel_name, _hold_fd(proc, ret, kernel_name) if "O_EXCL" in flags else None)
        obj = m._declare(proc, name, POSIX_MQ, at, **fields)
        m._mq_pending[obj] = []
        if kernel_name in m.mq_maybe_made and not fields.get("outside"):
            m._mq_max[obj] = fields.get("max_messages", 0)
    else:
        obj = m.index[known[0]]
    proc.fds[ret] = (obj, MQ_END, _O_CLOEXEC in flags)


def _mq_own_sizes(
    proc: Proc, fd: int, kernel_name: str, fields: dict[str, Any], asked: bool
) -> None:
    """A queue opened with O_CREAT alone where what existed before the run is not known:
    its own max_messages and max_message_size (mq_getattr, by its name, opened read-only a
    moment: its messages are left alone), read if the name still names the queue the
    process's descriptor ``fd`` holds. A queue that call made has the sizes it asked for;
    other sizes say it was there already (or another process made it): ``outside``, it
    may hold messages no call here showed. Sizes alike decide nothing; unread, the fields
    stay the call's."""
    import posix_ipc

    held = _hold_fd(proc, fd, kernel_name)
    if held is None:
        return  # (closed since, or the number is another file's now: nothing to read)
    try:
        same = os.fstat(held)
        queue = posix_ipc.MessageQueue(kernel_name, read=True, write=False)
    except (OSError, posix_ipc.Error):
        return
    finally:
        os.close(held)
    try:
        if not os.path.samestat(os.fstat(queue.mqd), same):
            return  # unlinked and made anew since: the name names another queue
        own = (queue.max_messages, queue.max_message_size)
    except (OSError, posix_ipc.Error):
        return
    finally:
        queue.close()
    if asked and own != (fields.get("max_messages"), fields.get("max_message_size")):
        fields["outside"] = True  # not the sizes its O_CREAT asked: it was there already
    fields["max_messages"], fields["max_message_size"] = own


def _mq_send(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """``mq_timedsend(fd, "DATA", len, prio, timeout) = 0``."""
    obj = m._mq_obj(proc, args)
    if obj is None:
        m._entry.pop(proc.tid, None)
        return
    begin = m._begun_or_new(proc, proc.tid, t, "mq_timedsend", args)
    nums = P.ints(args)
    got = P.string_arg(args)
    if ret != 0 or got is None or len(nums) < 2:  # full (O_NONBLOCK), timed out: no effect
        m._drop_begin(begin)
        if err == "EAGAIN":  # O_NONBLOCK on a full queue: the refusal is shown
            _refused(m, proc, obj, t, end, send=True)
        return
    size, prio = nums[0], nums[1]
    data = got[0][:size]
    if begin is not None:  # made at the entry, maybe from a line cut before the numbers
        begin[3], begin[4] = prio, size
    m._mq_pending.setdefault(obj, []).append((prio, data))
    m._rec(proc, C.MQ_SEND, obj, m._exit_ns(t, end - t), prio, size, data)


def _mq_receive(
    m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str
) -> None:
    """``mq_timedreceive(fd, "DATA", len, [prio], timeout) = n``; a NULL msg_prio hides
    the priority: it is the one of the message sent with these bytes (the highest)."""
    obj = m._mq_obj(proc, args)
    if obj is None:
        m._entry.pop(proc.tid, None)
        return
    begin = m._begun_or_new(proc, proc.tid, t, "mq_timedreceive", args)
    got = P.string_arg(args)
    if err == "EAGAIN":  # O_NONBLOCK on an empty queue: refused, completes its begin
        _refused(m, proc, obj, t, end, send=False)
        return
    if ret is None or ret < 0 or got is None:  # timed out, interrupted: no effect
        m._drop_begin(begin)
        return
    data = got[0][:ret]
    pending = m._mq_pending.setdefault(obj, [])
    shown = _PRIO.search(args, args.rfind('"'))
    if shown is not None:
        prio = int(shown.group(1))
        match = [i for i, msg in enumerate(pending) if msg == (prio, data)]
    else:
        match = [i for i, msg in enumerate(pending) if msg[1] == data]
        match.sort(key=lambda i: -pending[i][0])
        prio = pending[match[0]][0] if match else 0
    if match:
        del pending[match[0]]
    m._rec(proc, C.MQ_RECV, obj, m._exit_ns(t, end - t), prio, ret, data)


def _mq_notify(
    m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str
) -> None:
    """Registered for a notice when a message arrives in the empty queue (not NULL: that
    unregisters)."""
    obj = m._mq_obj(proc, args)
    if obj is None or ret != 0 or args.rstrip().endswith("NULL"):
        return
    m._rec(proc, C.MQ_NOTIFY, obj, m._exit_ns(t, end - t))


def _mq_unlink(
    m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str
) -> None:
    """The name goes; the queue lives on while a descriptor holds it."""
    got = P.string_arg(args)
    if ret != 0 or got is None:
        return
    kernel_name = "/" + P.name_text(got[0])
    known = m.queues.get(kernel_name)
    if known is None:
        return
    known[2] = False
    _own(m, kernel_name, None)
    obj = m.index[known[0]]
    m._mq_closed(proc, obj, m._exit_ns(t, end - t))


# -- System V shared memory ---------------------------------------------------------------
#
# No system call shows a store into a segment: the calls only make, attach, detach and
# remove it. So the mapper declares the segment (``shmid:ID``, its size cut into 8-byte
# cells, ``probe_cells``: its cells are known only from the engine's read-only probes,
# ``shmprobe.py``) and says when it is removed; what the cells hold is the kernel's, read
# by the engine, shown with the age of the reading.

#: Bytes per cell of a segment seen through strace (a C ``long``; ``int`` arrays show two
#: values per cell).
SHM_CELL = 8


def _no_size(ident: int) -> int | None:
    return None


def _shm_declare(
    m: Mapper, proc: Proc, ident: int, t: int, size: int | None, made: bool, key: str = ""
) -> int | None:
    """``shmid:ID``, declared once (again after a removal): the object index, or None when
    its size is not known (then it cannot be drawn as cells)."""
    name = f"shmid:{ident}"
    if m._unseen(proc, name, t):
        return None
    if name in m.declared and name not in m.removed:
        return m.index[name]
    if size is None:
        size = m.shm_size(ident)
    if size is None or size <= 0:
        return None
    m.sysv_ids[name] = ("shmid", ident)
    m.segments[ident] = name
    if made:
        m.made.add(name)
    label = f"shmid {ident}" + (f" (key {key})" if key else "")
    fields: dict[str, Any] = {
        "kernel_name": label,
        "id": ident,
        "size": size,
        "cell_size": SHM_CELL,
        "cells": max(1, size // SHM_CELL),
        "probe_cells": True,
    }
    if not made:
        fields["discovered"] = True
    return m._declare(proc, name, SYSV_SHM, t, **fields)


def _shmget(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """``shmget(KEY, SIZE, FLAGS) = shmid``: a segment made here (IPC_PRIVATE, or
    IPC_CREAT|IPC_EXCL) or found by its key."""
    parts = P.split_args(args)
    if ret is None or ret < 0 or len(parts) < 2:
        return
    try:
        size: int | None = int(parts[1], 0)
    except ValueError:
        size = None
    key = parts[0]
    made = key == "IPC_PRIVATE" or ("IPC_CREAT" in args and "IPC_EXCL" in args)
    if not made:
        size = None  # an existing segment's size is its own, not the one asked for
    m.rmid.discard(("shmid", ret))
    _shm_declare(m, proc, ret, m._exit_ns(t, end - t), size, made, key)


def _moved(m: Mapper, proc: Proc) -> None:
    """The process mapped or unmapped memory: where it maps a segment may have changed."""
    m.map_moves[proc.pid] = m.map_moves.get(proc.pid, 0) + 1


def _shmat(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """``shmat(shmid, ADDR, FLAGS) = ADDRESS``: a segment no shmget here showed (made
    before the run) is declared at its first attach. Where each process has it attached,
    the engine reads from /proc/PID/maps (a child inherits its parent's attachments)."""
    if ret is not None and ret != -1 and not err:
        _moved(m, proc)
    nums = P.ints(args)
    if ret is None or ret == -1 or err or not nums:
        return
    _shm_declare(m, proc, nums[0], m._entry_ns(t), None, False)


def _shmctl(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """``shmctl(shmid, IPC_RMID, …)``: the segment is gone once its last attachment goes
    (those of the program, and the engine's read-only one, let go when it reads this)."""
    ident = _sysv_removed(m, proc, "shmid", t, end, args, ret)
    if ident is not None:
        m.segments.pop(ident, None)


def _shmdt(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """A detach changes no cell and no object: the engine's probe shows the attachments."""
    if ret == 0:
        _moved(m, proc)


# -- POSIX shared memory and named semaphores: files in /dev/shm --------------------------
#
# shm_open(3) is openat("/dev/shm/NAME") and sem_open(3) openat("/dev/shm/sem.NAME") (a new
# one: a temporary sem.XXXXXX written with the sem_t, mapped, then link(2)ed to its name);
# both are used through mmap(2). What the program then does in that memory makes no system
# call: a store to a cell, an uncontended sem_wait or sem_post. So no operation is recorded
# for them; the objects are declared ``probed`` and the engine's prober reads what they
# hold (the cells from /dev/shm/NAME, a semaphore's value and waiters from its sem_t), shown
# with the reading's age. A wait that must sleep is futex(FUTEX_WAIT_BITSET) on the sem_t:
# an unnamed semaphore (sem_init(pshared=1)) in a segment is found from its first one.

SHM_DIR = "/dev/shm/"
SEM_FILE = SHM_DIR + "sem."
#: Object names: ``shm:/NAME`` (a segment), ``sem:/NAME`` (a named semaphore),
#: ``sem:/NAME@OFFSET`` (an unnamed semaphore at OFFSET in segment /NAME)
SHM_PREFIX = "shm:"
SEM_PREFIX = "sem:"
#: ``/dev/shm/`` as ``-xx`` spells it (a path in the arguments: a call to look at closely)
_SHM_HEX = "".join(f"\\x{b:02x}" for b in SHM_DIR.encode())
#: Bytes per cell of a segment as shown (the wrappers' cells: signed 64-bit)
CELL = 8


@dataclass(eq=False)  # (each is one file: told apart by identity, as its mappings are)
class DevShm:
    """A /dev/shm file the program's calls named: what the prober needs to read it."""

    path: str  # /dev/shm/NAME or /dev/shm/sem.NAME (a temporary one until its link)
    made: bool  # created by the program (O_CREAT|O_EXCL): its leftover if still linked
    #: made (O_CREAT|O_EXCL), or opened with O_CREAT alone where nothing was before the
    #: run: said left behind if still linked, never removed unless ``made``
    created: bool = False
    linked: bool = True
    size: int = 0  # ftruncate's length, or the end of the largest mapping
    obj: str = ""  # the object declared for it ('' not yet)
    value: int | None = None  # a new named semaphore's initial value (its sem_t as written)
    #: unnamed semaphores found in a segment: offset → object name
    sems: dict[int, str] = field(default_factory=dict)
    #: the inode of the file the program opened, as found when ipcviz read the call or
    #: (``ProgramProber``) in a process's mapping of it (None: not found yet): the prober
    #: reads the name only while it names that file, so a file another puts there after
    #: an unlink is never taken for it
    same: int | None = None

    @property
    def kernel_name(self) -> str:
        """``/NAME`` as shm_open and sem_open name it (the probes' argument)."""
        base = self.path[len(SHM_DIR) :]
        return "/" + (base[4:] if base.startswith("sem.") else base)

    @property
    def is_sem(self) -> bool:
        return self.path.startswith(SEM_FILE)


def _open_any(
    m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str
) -> None:
    """open/openat: a /dev/shm file (shm_open, sem_open) or else a FIFO (``_open``)."""
    if _SHM_HEX in args:  # (not every open's path decoded: a program opens many files)
        path = _path_arg(args, at=_at(args))
        if (
            path is not None
            and path.startswith(SHM_DIR)
            and "/" not in path[len(SHM_DIR) :]
            and path not in m.fifos  # a FIFO made in /dev/shm is a FIFO
        ):
            m._entry.pop(proc.tid, None)
            if ret is not None and ret >= 0 and m._unseen(proc, path, m._exit_ns(t, end - t)):
                return
            if ret is not None and ret >= 0:
                made = "O_CREAT" in args and "O_EXCL" in args
                known = m.devshm.get(path)
                if known is None or made or not known.linked:
                    # O_CREAT alone on a name that was not there before the run (or that
                    # the program unlinked): most likely its own, though nothing proves it
                    fresh = m.shm_existing is not None and path not in m.shm_existing
                    created = "O_CREAT" in args and (fresh or known is not None)
                    m.devshm[path] = DevShm(path, made, created=made or created)
                    held = _hold_fd(proc, ret, path) or _hold(path)
                    m.devshm[path].same = _identity(held)
                    # (not made: not provably its own, and what was held under the name
                    # before, a file it made and unlinked, is let go, as before eebc8fd)
                    _own(m, path, held if made else None)
                    if not made and held is not None:
                        os.close(held)
            return
    _open(m, proc, t, end, args, ret, err)


def _unlink_any(
    m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str
) -> None:
    """unlink: a /dev/shm name (shm_unlink, sem_unlink) or else a FIFO's (``_unlink``)."""
    path = _path_arg(args, at=_at(args)) if ret == 0 else None
    known = m.devshm.get(path) if path is not None else None
    if known is None:
        _unlink(m, proc, t, end, args, ret, err)
        return
    known.linked = False
    _own(m, known.path, None)
    _devshm_gone(m, proc, known, m._exit_ns(t, end - t))


def _sem_file_written(m: Mapper, path: str, args: str) -> None:
    """sem_open(O_CREAT) writes the new sem_t (value in its first 4 bytes) to its file."""
    known = m.devshm.get(path)
    got = P.string_arg(args)
    if known is not None and got is not None and len(got[0]) >= 4:
        known.value = int.from_bytes(got[0][:4], "little")


def _ftruncate(
    m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str
) -> None:
    fd = P.first_fd(args)
    known = m.devshm.get(fd[1]) if fd is not None else None
    size = P.last_int(args)
    if known is not None and ret == 0 and size is not None:
        known.size = size


def _mmap(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """``mmap(addr, len, prot, MAP_SHARED, fd</dev/shm/NAME>, off) = ADDR``: the process
    maps the segment (declared at its first mapping, when its size is known)."""
    if ret is not None and ret >= 0 and not err:
        _moved(m, proc)
    if ret is None or ret < 0 or "MAP_SHARED" not in args or _SHM_HEX not in args:
        return
    parts = P.split_args(args)
    fd = P.first_fd(parts[4]) if len(parts) >= 6 else None
    known = m.devshm.get(fd[1]) if fd is not None else None
    if known is None:
        return
    try:
        length, offset = int(parts[1], 0), int(parts[5], 0)
    except ValueError:
        return
    owner = m.procs.get(proc.pid, proc)
    owner.maps[ret] = (known, length, offset)
    known.size = max(known.size, offset + length)
    if not known.obj and not known.is_sem:
        at = m._exit_ns(t, end - t)
        size = known.size
        name = m.incarnation(SHM_PREFIX + known.kernel_name)  # (the old one may be mapped)
        fields: dict[str, Any] = {
            "kernel_name": known.kernel_name, "size": size, "cells": size // CELL,
            "cell_size": CELL, "probed": True,
        }  # fmt: skip
        if not known.made:
            fields["discovered"] = True
        known.obj = name
        m._declare(proc, name, POSIX_SHM, at, **fields)
    elif not known.obj and known.is_sem and not known.made:
        # an existing named semaphore, opened (a new one's temporary file is named at link)
        _declare_sem(m, proc, known, m._exit_ns(t, end - t))


def _declare_sem(m: Mapper, proc: Proc, known: DevShm, at: int) -> None:
    name = m.incarnation(SEM_PREFIX + known.kernel_name)  # (the old one may be mapped)
    fields: dict[str, Any] = {"kernel_name": known.kernel_name, "probed": True}
    if known.value is not None:
        fields["value"] = known.value
    if not known.made:
        fields["discovered"] = True
    known.obj = name
    m._declare(proc, name, POSIX_SEM, at, **fields)


def _rename(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """rename/renameat/renameat2: a FIFO the program made, under a new path now (the old
    one is free for another's)."""
    if ret != 0:
        return
    parts = P.split_args(args)
    if _at(args):
        if len(parts) < 4:
            return
        old = _path_arg(", ".join(parts[0:2]), at=True)
        new = _path_arg(", ".join(parts[2:4]), at=True)
    else:
        if len(parts) < 2:
            return
        old, new = _path_arg(parts[0], at=False), _path_arg(parts[1], at=False)
    if old is None or new is None or old == new:
        return
    if new in m.fifos:  # what the program made there is replaced (unlinked by the rename)
        m.fifos[new] = False
        m.fifo_names.pop(new, None)
        _own(m, new, None)
    if not m.fifos.get(old):
        return
    m.fifos[old] = False
    m.fifos[new] = True
    m.fifo_names[new] = m.fifo_names.pop(old, old)
    held = m.own.pop(old, None)
    # (renamed before ipcviz read its mknod: held now, under the name it has)
    _own(m, new, held if held is not None else _hold(new, fifo=True))


def _link(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """``link("/dev/shm/sem.XXXXXX", "/dev/shm/sem.NAME")``: sem_open(O_CREAT) names the
    semaphore it wrote and mapped under its temporary name."""
    if ret != 0:
        return
    first = P.string_arg(args)
    if first is None:
        return
    second = P.string_arg(args, args.find('"', args.find('"') + 1) + 1)
    if second is None:
        return
    old, new = (P.name_text(got[0]) for got in (first, second))
    known = m.devshm.get(old)
    if known is None or not new.startswith(SEM_FILE) or "/" in new[len(SHM_DIR) :]:
        return
    made = DevShm(new, known.made, known.created, value=known.value, same=known.same)
    m.devshm[new] = made
    # the file the program wrote, under its name now (link fails where a name is taken)
    _own(m, new, (_held_dup(m, old) or _hold(new)) if known.made else None)
    for other in m.procs.values():  # its mappings are the named semaphore's now
        for addr, (mapped, length, offset) in list(other.maps.items()):
            if mapped is known:
                other.maps[addr] = (made, length, offset)
    _declare_sem(m, proc, made, m._exit_ns(t, end - t))


def _munmap(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    if ret == 0:
        _moved(m, proc)
    nums = P.ints(args)
    if ret != 0 or not nums:
        return
    owner = m.procs.get(proc.pid, proc)
    if nums[0] in owner.maps:
        _devshm_unmapped(m, owner, m._exit_ns(t, end - t), [nums[0]])


def _devshm_unmapped(m: Mapper, proc: Proc, at: int, addrs: list[int]) -> None:
    """The process no longer maps these: an unlinked file nobody maps is gone."""
    for known in {proc.maps.pop(a)[0] for a in addrs if a in proc.maps}:
        _devshm_gone(m, proc, known, at)


def _devshm_gone(m: Mapper, proc: Proc, known: DevShm, at: int) -> None:
    """Removed once its name is gone and no live process maps it (POSIX: the memory
    lives on while mapped)."""
    if known.linked or not known.obj:
        return
    for other in m.procs.values():
        if other.ended or other.thread:
            continue
        if any(mapped is known for mapped, _, _ in other.maps.values()):
            return
    for name in (known.obj, *known.sems.values()):
        if name in m.declared and name not in m.removed:
            m.removed.add(name)
            event = {"t": at, "seq": -1, "pid": proc.pid, "kind": "obj.remove", "obj": name}
            m.out.append(("event", proc.pid, at, event))


def _mapped_at(proc: Proc, addr: int) -> tuple[DevShm, int] | None:
    """The /dev/shm file the process maps at ``addr``, and the offset in it."""
    for start, (known, length, offset) in proc.maps.items():
        if start <= addr < start + length:
            return known, addr - start + offset
    return None


def _futex(m: Mapper, proc: Proc, t: int, end: int, args: str, ret: int | None, err: str) -> None:
    """A semaphore's wait that had to sleep: ``futex(ADDR, FUTEX_WAIT_BITSET…, 0, …)``
    on its sem_t. In a segment (not a sem.NAME file), that names an unnamed semaphore at
    ADDR's offset (found from the first contended wait: sem_init makes no system call).
    No operation is recorded: the wait's outcome is not a system call."""
    head, _, rest = args.partition(", ")
    if not rest.startswith("FUTEX_WAIT_BITSET") or not rest.partition(", ")[2].startswith("0,"):
        return
    try:
        addr = int(head, 16)
    except ValueError:
        return
    found = _mapped_at(m.procs.get(proc.pid, proc), addr)
    if found is None:
        return
    known, at = found
    if known.is_sem or at % 8 or at + 8 > known.size or at in known.sems:
        return
    name = m.incarnation(f"{SEM_PREFIX}{known.kernel_name}@{at}")  # (an older segment's?)
    known.sems[at] = name
    m._declare(
        proc, name, POSIX_SEM, m._entry_ns(t), kernel_name=f"{known.kernel_name} @ {at}",
        probed=True, discovered=True,
    )  # fmt: skip


#: system call → its handler (keywords: a call's name is not an object type's)
_CALLS = dict(
    pipe=_pipe,
    pipe2=_pipe,
    read=_read,
    write=_write,
    **dict.fromkeys(_READV, _readv),
    **dict.fromkeys(_WRITEV, _writev),
    close=_close,
    dup=_dup,
    dup2=_dup,
    dup3=_dup,
    fcntl=_fcntl,
    clone=_clone,
    clone3=_clone,
    fork=_clone,
    vfork=_clone,
    execve=_execve,
    msgget=_msgget,
    msgsnd=_msgsnd,
    msgrcv=_msgrcv,
    msgctl=_msgctl,
    semget=_semget,
    mknod=_mknod,
    mknodat=_mknod,
    open=_open_any,
    openat=_open_any,
    unlink=_unlink_any,
    unlinkat=_unlink_any,
    semctl=_semctl,
    semop=_semop,
    semtimedop=_semop,
    mq_open=_mq_open,
    mq_timedsend=_mq_send,
    mq_timedreceive=_mq_receive,
    mq_notify=_mq_notify,
    mq_unlink=_mq_unlink,
    shmget=_shmget,
    shmat=_shmat,
    shmdt=_shmdt,
    shmctl=_shmctl,
    # POSIX shared memory and named semaphores: files in /dev/shm, mapped
    ftruncate=_ftruncate,
    mmap=_mmap,
    munmap=_munmap,
    link=_link,
    rename=_rename,
    renameat=_rename,
    renameat2=_rename,
    linkat=_link,
    futex=_futex,
)

#: The system calls strace is asked to show (``-e trace=``): what the handlers above read.
TRACED = (
    "pipe,pipe2,read,write,readv,writev,preadv,pwritev,preadv2,pwritev2,close,dup,dup2,dup3,fcntl,clone,clone3,fork,vfork,execve,"
    "exit_group,msgget,msgsnd,msgrcv,msgctl,semget,semop,semtimedop,semctl,"
    "mknod,mknodat,open,openat,unlink,unlinkat,"
    "mq_open,mq_timedsend,mq_timedreceive,mq_notify,mq_unlink,"
    "shmget,shmat,shmdt,shmctl,"
    "ftruncate,mmap,munmap,link,linkat,futex,rename,renameat,renameat2"
)


def _signum(name: str) -> int:
    import signal

    try:
        return int(signal.Signals[name])
    except KeyError:
        return 0


__all__ = ["TRACED", "Mapper"]
