"""The engine's deadlock watcher: a deadlock is declared only when the kernel proves it.

A deadlock here means: every live process of the session sleeps in the kernel in an IPC
call that only another process of the session could end (a read of an empty pipe, a
sem_wait at 0, a receive from an empty queue, …) with no timer pending, and none of them
ran between two looks. Then nobody can ever move unless someone outside acts (a kill).

The proof, without trusting the model or any timing:

1. look 1, for each process: its context-switch count, then ``/proc/PID/syscall`` and
   ``wchan`` (asleep: a syscall line, a wait point, state S);
2. look 2, for each: ``syscall`` and ``wchan``, then the count again.

A process asleep at both looks with the same count did not run in between (waking it makes
it runnable, wchan 0; running and sleeping again counts a switch). So at the moment between
the two looks all of them slept at once, and none could wake another. The set of processes
(the engine's descendants, zombies included) is read before and after: a process forked
meanwhile makes the look inconclusive. Any wait it cannot classify (poll, select, sleep, a
futex that is not a scenario semaphore, a timeout, a pipe the engine owns such as a step
gate, a thread) means "cannot decide": nothing is said, nobody is accused. So does a wait
on an object a process outside the session may reach by its name or key: a program's FIFO
(any process may open its path), POSIX queue, or System V object made with a key (not
IPC_PRIVATE). A server waiting for a client is not a deadlock. (A scenario's own objects
have names of ipcviz's making: its processes are the whole world of the run.)

The model then names who could free whom and the cycle (``ipcviz.model.analysis.waitfor``).
A deadlock is resolved when one of its processes exits or performs an operation again, or
the kernel shows it asleep somewhere else.

A lock whose holder died (``holder.died``): once a process that took a semaphore as a lock
is gone without posting it, the proof runs at every check (no waiting for two equal
glances), and when it holds, each stuck waiter's semaphore that is at 0 in the kernel with
a dead holder is reported before the deadlock: who died holding what, who waits on it.
Headless, the run then ends as a failure (exit 1); the TUI offers to post it on the dead
holder's behalf (``recover``) or to end the run.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from ipcviz import probe
from ipcviz.engine.life import signal_groups
from ipcviz.events import schema
from ipcviz.mechanisms import registry
from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.model.analysis import holders, waitfor
from ipcviz.probe import sysvipc
from ipcviz.probe._libc import IS_X86_64
from ipcviz.probe.procs import SYSCALLS_X86_64

#: How often the watcher looks (s).
INTERVAL = 0.1
_READS = frozenset({"read", "readv", "pread64"})
_WRITES = frozenset({"write", "writev", "pwrite64"})
#: Syscall → index of its timeout argument (0 = none, it sleeps until woken).
_TIMEOUT_ARG = {"futex": 3, "semtimedop": 3, "mq_timedreceive": 4, "mq_timedsend": 4}
#: Every syscall in which a process can wait for another one through an IPC object.
_IPC_CALLS = _READS | _WRITES | {"semop", "msgrcv", "msgsnd", "open", "openat", "openat2"}
_IPC_CALLS |= set(_TIMEOUT_ARG) | {"wait4", "waitid"}
#: Events that are not a process moving (the engine's own, the gate, the probes, output
#: read from its stdout pipe).
_NOT_MOVES = ("probe.", "gate.", "control", "deadlock", "drift", "race.", "check", "proc.output")

Event = dict[str, Any]
Look = tuple[int, str, str]  # (context switches, syscall line, wchan)


class DeadlockWatcher:
    """Installed by ``Gate``: checks every ``INTERVAL``, reports, resolves, recovers."""

    def __init__(self, gate: Any) -> None:
        self.gate = gate
        self.engine = gate.engine
        self.current: dict[str, Any] | None = None  # the reported one: pids, looks, t
        self.victims: set[int] = set()  # pids the user killed to break a deadlock
        self.pipes: dict[int, str] = {}  # inode → object name
        self.fifo_paths: dict[str, str] = {}
        self.sems: dict[str, str] = {}  # "/NAME" → object name
        self.queues: dict[str, str] = {}
        self.sysv_sems: dict[int, str] = {}
        self.sysv_queues: dict[int, str] = {}
        #: a System V id → the scenario's objects that have it (a set's members share one)
        self.ids: dict[int, set[str]] = {}
        self.indexed = False
        self.ended = False  # headless: the run was ended at its deadlock
        self.reported: set[tuple[str, int]] = set()  # (semaphore, dead holder) said once
        self._glance: dict[int, Look] = {}  # each worker's look at the previous check
        self.engine.on_events.append(self.on_events)
        self.engine.add_periodic(INTERVAL, self.check)
        self.engine.add_command("recover", self.cmd_recover)

    # -- what the scenario's objects are, in kernel terms --------------------------------

    def _index(self) -> None:
        tables = {
            "inode": self.pipes,
            "path": self.fifo_paths,
            "sem_name": self.sems,
            "mq_name": self.queues,
            "semid": self.sysv_sems,
            "msqid": self.sysv_queues,
        }
        for obj in self.engine.scenario.objects:
            ident = getattr(obj, "id", None)
            if isinstance(ident, int):
                self.ids.setdefault(ident, set()).add(obj.name)
            side = registry.kernel(obj.type)
            for key, value in side.keys(obj) if side is not None else ():
                table = tables.get(key)
                if table is not None:
                    table[value] = obj.name
        self.indexed = True

    def _pipe_name(self, inode: int | None) -> str | None:
        if inode is None:
            return None
        name = self.pipes.get(inode)
        if name is None and f"auto-{inode}" in self.engine.model.objects:
            name = f"auto-{inode}"  # a command's pipe, found by the prober
        return name or self._named(f"pipe:[{inode}]")

    def _named(self, name: str) -> str | None:
        """An object of a program watched through strace, named by its kernel identity
        (``pipe:[INODE]``, ``msqid:ID``, ``mq:/NAME``, a FIFO's path): no scenario object
        has it, the calls declared it. None when the model has no such object alive."""
        obj = self.engine.model.objects.get(name)
        return name if obj is not None and not obj.removed else None

    # -- events ----------------------------------------------------------------------------

    def on_events(self, events: list[Event]) -> None:
        if self.current is None and not self.victims:
            return  # the usual case: nothing to follow (this runs for every event)
        for e in events:
            kind, pid, cur = e["kind"], e.get("pid"), self.current
            if kind == "control":
                user_kill = e.get("action") == "kill" and not e.get("reason")
                if user_kill and cur is not None and e.get("target") in cur["pids"]:
                    self.victims.add(e["target"])  # the user breaks the deadlock (k)
                continue
            if kind == schema.PROC_EXIT:
                if pid in self.victims:
                    self._recover(pid)
                if cur is not None and pid in cur["pids"]:
                    self._resolved()
                continue
            if cur is None or pid not in cur["pids"] or kind.startswith(_NOT_MOVES):
                continue
            if e.get("t", 0) > cur["t"]:
                # a record written after the deadlock was declared: that process ran (a
                # record from before it blocked may be published later: not a move)
                self._resolved()

    def _resolved(self) -> None:
        if self.current is not None:
            self.current = None
            self.engine.emit("deadlock.resolved")

    def _recover(self, pid: int) -> None:
        """A killed victim's lock units are posted back, as SEM_UNDO would do.

        POSIX semaphores are not released when their holder dies: killing a victim alone
        would leave the others blocked forever. So the engine gives back what it held.
        """
        self.victims.discard(pid)
        objects = {o.name: o for o in self.engine.scenario.objects}
        for name, sem in list(self.engine.model.objects.items()):
            n = sem.holders.get(pid, 0) if isinstance(sem, SemObj) and not sem.signal else 0
            obj = objects.get(name)
            if n <= 0 or obj is None or getattr(obj, "sem", None) is None:
                continue
            self.engine.emit("deadlock.recover", obj=name, victim=pid, n=n)
            for _ in range(n):
                obj.sem.release()

    # -- the periodic check ------------------------------------------------------------

    def check(self) -> None:
        gate = self.gate
        if self.ended or self.engine.model.frozen:
            return  # stopped by the user: neither a new deadlock nor a resolved one
        if not self.indexed:
            self._index()
        if self.current is not None:
            if self._moved():
                self._resolved()
            else:
                return
        if gate.at_gate or gate.narrating:
            return  # someone waits for the engine's word: it can move
        if self.engine.lin.pending:
            return  # the model is not up to date (a proc.exit may still be in the pool)
        model = self.engine.model
        orphaned = any(
            holders.dead_holders(model, o) for o in model.objects.values() if isinstance(o, SemObj)
        )
        stuck = self.stuck(eager=orphaned)
        if stuck is None:
            return
        waits, looks = stuck
        died = self._holders_died(waits) if orphaned else []
        for event in died:
            self.engine.emit("holder.died", event["holder"], **event)
        cycle = waitfor.find_cycle(model, waits)
        self.current = {"pids": set(waits), "looks": looks, "t": self.engine.now()}
        self.engine.emit(
            "deadlock",
            cycle=waitfor.describe(model, cycle, waits) if cycle else [],
            stuck=waitfor.describe_stuck(model, waits),
        )
        if gate.end_on_deadlock:
            if died:  # not a program's designed deadlock: a process died holding a lock
                # in English: a trace carries no language (the narrator words ``holder``)
                said = holders.holder_said(died[0]).render("en")
                self.engine._fail(said, "failed", 1, holder=died[0])
            breaker = getattr(self.engine, "break_deadlock", None)
            if not died and cycle and breaker is not None and breaker([e.pid for e in cycle]):
                return  # one victim killed: the program goes on and ends by itself
            self.ended = True
            live = [w for w in self.engine.workers.values() if not w.exited]
            for w in live:  # all stopped first: a victim's death must not free the others
                _killpg(w.pid, signal.SIGSTOP)
                signal_groups(w, signal.SIGSTOP)
            for w in live:
                why = "holder.died" if died else "deadlock"
                target = self.engine._model_pid(w)  # a command: its program, as shown
                self.engine.emit(schema.CONTROL, action="kill", target=target, reason=why)
                _killpg(w.pid, signal.SIGKILL)
                _killpg(w.pid, signal.SIGCONT)
                signal_groups(w, signal.SIGKILL)
                signal_groups(w, signal.SIGCONT)

    def _holders_died(self, waits: dict[int, waitfor.Wait]) -> list[Event]:
        """``holder.died`` for each semaphore a stuck process waits on that the kernel shows
        at 0 and whose holder (the model's: it took it as a lock) is dead; once each."""
        model = self.engine.model
        handles = {o.name: o for o in self.engine.scenario.objects}
        out = []
        for name in sorted({w.obj for w in waits.values() if w.op == "sem"}):
            sem, handle = model.objects.get(name), handles.get(name)
            if not isinstance(sem, SemObj) or getattr(handle, "sem", None) is None:
                continue
            try:
                value = int(handle.value if hasattr(handle, "value") else handle.sem.value)
            except Exception:
                continue  # the kernel did not say: nothing is said
            if value != 0:
                continue
            stranded = [
                {"pid": pid, "proc": model.proc_name(pid)}
                for pid, w in sorted(waits.items())
                if w.op == "sem" and w.obj == name
            ]
            for pid, n in holders.dead_holders(model, sem):
                if (name, pid) in self.reported:
                    continue
                self.reported.add((name, pid))
                out.append(
                    {
                        "obj": name,
                        "holder": pid,
                        "proc": model.proc_name(pid),
                        "n": n,
                        "value": value,
                        "waiters": stranded,
                    }
                )
        return out

    def cmd_recover(self, cmd: dict[str, Any]) -> None:
        """The TUI's recovery: post each reported dead holder's units on its behalf."""
        objects = {o.name: o for o in self.engine.scenario.objects}
        for rep in holders.current(self.engine.model):
            name, pid = rep["obj"], rep["holder"]
            sem, obj = self.engine.model.objects.get(name), objects.get(name)
            n = sem.holders.get(pid, 0) if isinstance(sem, SemObj) else 0
            if n <= 0 or obj is None or getattr(obj, "sem", None) is None:
                continue
            self.engine.emit("deadlock.recover", obj=name, victim=pid, n=n)
            for _ in range(n):
                obj.sem.release()

    def _moved(self) -> bool:
        """Has a process of the reported deadlock visibly moved (the kernel's view)?"""
        cur = self.current
        assert cur is not None
        for pid, (_, line, _) in cur["looks"].items():
            now = _second(pid)
            if now is None:
                if pid not in self.engine.workers and not os.path.exists(f"/proc/{pid}"):
                    return True  # gone (a worker's end comes as its proc.exit event)
                continue  # running for a moment (a resumed syscall): not proof of a move
            if now[1] != line:
                return True  # asleep somewhere else
        return False

    def stuck(self, eager: bool = False) -> tuple[dict[int, waitfor.Wait], dict[int, Look]] | None:
        """Every live process of the session and its IPC wait, if the kernel proves that
        none of them can move; None when one can, or when it cannot be decided.
        ``eager``: run the proof now, without first seeing the same glance twice."""
        workers = [w for w in self.engine.workers.values() if not w.exited]
        if not workers:
            return None
        # Cheap first: a look at each worker, stopping at the first one awake; and only if
        # each still sleeps exactly as at the previous check (same switch count) does the
        # whole proof run. A busy program never pays for more than the first few reads.
        glance: dict[int, Look] = {}
        for w in workers:
            look = _first(w.pid)
            if look is None or not _may_be_ipc(look[1]):
                self._glance = {}
                return None
            glance[w.pid] = look
        previous, self._glance = self._glance, glance
        if previous != glance and not eager:
            return None
        pids = self._session()
        if not pids:  # unreadable, or nobody of the run in it (``ipcviz attach``: the
            return None  # watched tree is no descendant of the engine): nothing is proven
        first = {}
        for pid in pids:
            look = _first(pid)
            if look is None:
                return None
            first[pid] = look
        for pid in pids:
            if _second(pid) != first[pid]:
                return None
        if self._session() != pids:
            return None
        waits = {}
        for pid in pids:
            wait = self._classify(pid, first[pid][1], pids)
            if wait is None:
                return None
            waits[pid] = wait
        self._pipe_peers(waits, pids)
        return waits, first

    def _session(self) -> list[int] | None:
        """Every descendant of the engine (workers, what they forked, orphans), zombies too,
        but for those that are no party to the run's IPC (``Engine._unseen_pids``)."""
        children: dict[int, list[int]] = {}
        try:
            entries = os.listdir("/proc")
        except OSError:
            return None
        for name in entries:
            if name.isdigit():
                ppid = _ppid(int(name))
                if ppid is not None:
                    children.setdefault(ppid, []).append(int(name))
        found, todo = [], [os.getpid()]
        while todo:
            for kid in children.get(todo.pop(), ()):
                found.append(kid)
                todo.append(kid)
        unseen = self.engine._unseen_pids()
        return sorted(p for p in found if p not in unseen)

    def _classify(self, pid: int, line: str, pids: list[int]) -> waitfor.Wait | None:
        """The IPC wait that ``line`` (/proc/PID/syscall) shows; None if it is not one."""
        info = probe.blocked_on(pid)
        if info is None or info.syscall is None or info.stopped:
            return None
        fields = line.split()
        if int(fields[0]) != info.nr or tuple(int(a, 16) for a in fields[1:7]) != info.args:
            return None  # it moved after all
        name, target, args = info.syscall, info.target, info.args
        arg = _TIMEOUT_ARG.get(name)
        if arg is not None and args[arg] != 0:
            return None  # a timeout is pending: it will wake by itself
        if target is None:
            return None
        kind = target.kind
        if name in _READS or name in _WRITES:
            obj = self._pipe_name(target.inode) if kind == "fd" else None
            op = "read" if name in _READS else "write"
            return waitfor.Wait(pid, op, obj, ()) if obj else None
        if kind == "futex":
            obj = self.sems.get(target.name or "")
            return waitfor.Wait(pid, "sem", obj) if obj else None
        if kind == "semop":
            obj = self.sysv_sems.get(target.ipc_id)  # type: ignore[arg-type]
            obj = obj or self._set_member(pid, target.ipc_id)
            if obj is None and not _keyed("sem", target.ipc_id):
                obj = self._traced_sem(pid, target.ipc_id)
            return waitfor.Wait(pid, "sem", obj) if obj else None
        if kind == "msgq":
            obj = self.sysv_queues.get(target.ipc_id)  # type: ignore[arg-type]
            if obj is None and not _keyed("msg", target.ipc_id):
                obj = self._named(f"msqid:{target.ipc_id}")
            return waitfor.Wait(pid, "recv" if name == "msgrcv" else "send", obj) if obj else None
        if kind == "fd" and name in ("mq_timedreceive", "mq_timedsend"):
            obj = self.queues.get(target.name or "")  # (a program's: anyone may open it)
            op = "recv" if name == "mq_timedreceive" else "send"
            return waitfor.Wait(pid, op, obj) if obj else None
        if kind == "fifo_open":
            obj = self.fifo_paths.get(target.path or "")  # (a program's: anyone may open it)
            return waitfor.Wait(pid, "open", obj) if obj else None
        if kind == "child":
            kids = _children(pid, pids)
            return waitfor.Wait(pid, "child", "", tuple(kids)) if kids else None
        return None

    def _set_member(self, pid: int, ipc_id: int | None) -> str | None:
        """A semaphore of a scenario's set (``sysv_semaphore_set``): its members share the
        set's id, all the kernel shows of a sleeper, so their ``keys`` give none. Which one
        it waits for is the model's ``on``: for a semop on several (its begin's ``sems``),
        the first too low, as the kernel counts it (semncnt), followed as values change;
        and only if at 0: a member with a unit to give is no obstacle (an edge to its
        holders could close a cycle that is not one)."""
        p = self.engine.model.procs.get(pid)
        on = p.on if p is not None and p.op == "sem.wait" else None
        if on is None or on not in self.ids.get(ipc_id, ()):  # type: ignore[arg-type]
            return None
        sem = self.engine.model.objects.get(on)
        return on if isinstance(sem, SemObj) and sem.value <= 0 else None

    def _traced_sem(self, pid: int, ipc_id: int | None) -> str | None:
        """A semaphore of a program watched through strace (``semid:ID``, ``semid:ID[n]``:
        no scenario object has its id). The kernel shows the process asleep in semop on
        set ``ipc_id``; which semaphore of the set it asked for is its begin record's
        (``sem.wait.begin``), the one the model says it waits on."""
        p = self.engine.model.procs.get(pid)
        on = p.on if p is not None and p.op == "sem.wait" else None
        if on is None or ipc_id is None:
            return None
        return on if on == f"semid:{ipc_id}" or on.startswith(f"semid:{ipc_id}[") else None

    def _pipe_peers(self, waits: dict[int, waitfor.Wait], pids: list[int]) -> None:
        """For each pipe wait, the processes holding the other end (the kernel's fd tables)."""
        wanted = {w.obj for w in waits.values() if w.op in ("read", "write")}
        if not wanted:
            return
        ends: dict[str, tuple[set[int], set[int]]] = {name: (set(), set()) for name in wanted}
        for pid in pids:
            for ino, mode in _pipe_fds(pid):
                name = self._pipe_name(ino)
                if name in ends:
                    if mode in (os.O_RDONLY, os.O_RDWR):
                        ends[name][0].add(pid)
                    if mode in (os.O_WRONLY, os.O_RDWR):
                        ends[name][1].add(pid)
        for pid, w in list(waits.items()):
            if w.op in ("read", "write"):
                readers, writers = ends[w.obj]
                peers = writers if w.op == "read" else readers
                waits[pid] = waitfor.Wait(pid, w.op, w.obj, tuple(sorted(peers)))


def _keyed(table: str, ipc_id: int | None) -> bool:
    """Whether System V object ``ipc_id`` (``table``: msg or sem) was made with a key: any
    process that knows the key may use it. True when the kernel does not say (unknown:
    nothing may be proven on it)."""
    rows = [r for r in sysvipc.read(table) if r["id"] == ipc_id]
    return not rows or rows[0]["key"] != 0


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _read(path: str) -> str | None:
    try:
        with open(path, "rb", buffering=0) as f:
            return f.read().decode("ascii", "replace")
    except OSError:
        return None


def _switches(pid: int) -> int | None:
    """Context switches of a single-threaded process asleep (state S), else None."""
    text = _read(f"/proc/{pid}/status")
    if text is None:
        return None
    state = threads = None
    total = 0
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key == "State":
            state = value.split()[0] if value.split() else None
        elif key == "Threads":
            threads = value.strip()
        elif key.endswith("ctxt_switches"):
            total += int(value)
    return total if state == "S" and threads == "1" else None


def _asleep(pid: int) -> tuple[str, str] | None:
    line = _read(f"/proc/{pid}/syscall")
    wchan = _read(f"/proc/{pid}/wchan")
    if not line or not wchan or wchan.strip() in ("", "0"):
        return None
    fields = line.split()
    if len(fields) < 9 or fields[0] in ("running", "-1"):
        return None
    return line.strip(), wchan.strip()


def _first(pid: int) -> Look | None:
    """Look 1: the switch count first, then where it sleeps."""
    n = _switches(pid)
    where = _asleep(pid) if n is not None else None
    return None if where is None or n is None else (n, *where)


def _second(pid: int) -> Look | None:
    """Look 2: where it sleeps first, then the switch count."""
    where = _asleep(pid)
    n = _switches(pid) if where is not None else None
    return None if where is None or n is None else (n, *where)


def _may_be_ipc(line: str) -> bool:
    """Cheap filter on a /proc/PID/syscall line: an IPC wait, with no timeout pending."""
    fields = line.split()
    name = SYSCALLS_X86_64.get(int(fields[0])) if IS_X86_64 else None
    if name not in _IPC_CALLS:
        return False
    arg = _TIMEOUT_ARG.get(name)
    return arg is None or int(fields[1 + arg], 16) == 0


def _ppid(pid: int) -> int | None:
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    rest = text[text.rfind(")") + 2 :].split()
    return int(rest[1]) if len(rest) > 1 else None


def _children(pid: int, pids: list[int]) -> list[int]:
    return [p for p in pids if _ppid(p) == pid]


def _pipe_fds(pid: int) -> list[tuple[int, int]]:
    """(inode, access mode) of every pipe or FIFO ``pid`` holds open."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return []
    out = []
    for name in fds:
        try:
            st = os.stat(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if (st.st_mode & 0o170000) != 0o010000:  # not a FIFO or pipe
            continue
        info = _read(f"/proc/{pid}/fdinfo/{name}") or ""
        flags = next((ln.split()[1] for ln in info.splitlines() if ln.startswith("flags:")), "")
        if flags:
            out.append((st.st_ino, int(flags, 8) & os.O_ACCMODE))
    return out
