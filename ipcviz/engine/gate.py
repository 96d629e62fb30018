"""Step mode in the engine: who passes the gate next, deadlocks named, lost updates shown.

Every instrumented operation passes ``tracer.gate`` first. Free-running that is one byte
read in the worker. In step mode the engine sets that byte in every ring; a worker then
records ``gate.wait`` (the operation it is about to perform), rings the doorbell and blocks
on its own gate pipe until the engine writes one byte there: exactly one operation.

Who goes next: the user (``step`` / ``step_random`` commands), or the engine itself with
``--seed N`` (a ``random.Random(N)`` choice) or ``--schedule A,B*3,C*`` (by process name;
``NAME*K`` = K operations in a row, ``NAME*`` = until it exits or blocks in the kernel).
After the schedule the run goes on seeded if a seed was given, else free-running.

A pace (``--pace OPS``, or the viewer's ``{"cmd": "pace", "ops": X}``) is the same gate
opened by a clock instead of a key: the gates stay closed and the engine releases one
operation at a time, at most ``OPS`` per second (each ``gate.step`` is stamped at least
``1/OPS`` s after the one before). Who goes is still chosen by the seed or the schedule if
there is one (pace decides *when*, they decide *who*), else the process that has waited
longest. A paced release waits until the operation released before it is done: its process is
back at its gate, asleep, or gone (or still running a full interval, and at least 50 ms,
after its release: it computes between operations, its operation is done). So operations
do not overlap and each is seen on its own. With a seed or a schedule it waits, as they
do, for the whole world to settle.

A choice is only made once the world has *settled*: every live worker is at its gate,
asleep in the kernel on an IPC object (/proc/PID/syscall), or gone. A worker that sleeps
(time.sleep), runs, or is being woken is waited for. So the choice depends only on the
seed or schedule, not on timing, and the same seed gives the same order of operations.
One sleeper is not waited for: a worker in ``ctx.wait_for_wchan`` for a process that has
not slept yet (the ring's ``awaits`` word), which only a step of that process can end.

Threads: each thread of a worker waits at a gate of its own, so a gate wait is keyed by
``(pid, thread)`` (``thread``: the n-th thread of the process to record, as in its events;
0 for the first). The first thread waits on the process's gate pipe; any other thread
makes a pipe of its own and names its descriptor in its ``gate.wait`` (``gate_fd``,
tracer/gate.py). The engine then opens ``/proc/PID/fd/N`` for writing: opening a pipe's
/proc link gives a new end of that same pipe, so the engine can write to it although the
worker made it after fork and never sent it. That link is checked to be a pipe before and
after the open (``O_NONBLOCK``: a lying worker gets no more than a byte in a pipe of its
own). One gate per thread is what makes a step release exactly the thread chosen: with one
pipe per process, whichever thread reads first would go. A process settles when every one
of its threads (/proc/PID/task) is at its gate, asleep in the kernel, or gone. The seed
and the schedule (which names processes) choose among a process's waiting threads in the
order they were made (their kernel thread ids, seen at the gate), not by thread number:
thread numbers follow the order in which threads first record, a race. A user's step of
a process lets its lowest-numbered waiting thread go: the one the model shows.
"""

from __future__ import annotations

import os
import random
import re
import select
import stat
import time
from collections.abc import Callable
from typing import Any

from ipcviz import probe
from ipcviz.engine.deadlock import DeadlockWatcher
from ipcviz.errors import IpcvizError
from ipcviz.events import phrases, schema
from ipcviz.i18n import N_
from ipcviz.model.analysis.races import LostUpdates
from ipcviz.probe._libc import IS_X86_64
from ipcviz.probe.procs import SYSCALLS_X86_64

#: Pause before looking again at a worker that is about to reach its gate or block (s).
SETTLE_PAUSE = 0.0005
#: Kernel waits that end by themselves: a worker in one of them has not settled.
_SELF_WAKING = frozenset({"sleep", "child"})
_SELF_WAKING_CALLS = frozenset({"nanosleep", "clock_nanosleep", "pause", "wait4", "waitid"})
_WAIT_CALLS = frozenset({"wait4", "waitid"})
_WATCHED = frozenset({"gate.wait", "proc.exit", "shm.read", "shm.write", "control"})
#: Bounds of a pace (operations per second): slower is a frozen run, faster is no pace.
PACE_MIN, PACE_MAX = 0.1, 10_000.0
#: Free pacing: a released process still running this long after its release (and at least
#: one pace interval) is computing between operations, not in one (ns).
PACE_BUSY_NS = 50_000_000
#: The engine's idle poll (engine.IDLE_POLL_MS): a release due sooner is waited for here.
_IDLE_S = 0.005
_SCHEDULE_ITEM = re.compile(r"^([A-Za-z0-9_-]{1,32})(?:\*(\d*))?$")

Event = dict[str, Any]
#: A gate wait: (pid, thread), thread 0 for the first thread of the process.
Key = tuple[int, int]


def parse_schedule(text: str) -> list[list[Any]]:
    """``"A,B*3,C*"`` → ``[["A", 1], ["B", 3], ["C", None]]`` (None: until it stops)."""
    items: list[list[Any]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        m = _SCHEDULE_ITEM.match(part)
        if m is None or m.group(2) == "0":
            raise IpcvizError(
                f"--schedule: bad item {part!r} (want NAME, NAME*COUNT or NAME*, comma-separated)"
            )
        count = None if m.group(2) == "" else int(m.group(2) or 1)
        items.append([m.group(1), count])
    if not items:
        raise IpcvizError("--schedule is empty: give process names, e.g. inc1,inc2,inc1")
    return items


def check_schedule(scenario: Any, text: str) -> list[list[Any]]:
    """Parse ``--schedule`` and check its names against the scenario's processes."""
    items = parse_schedule(text)
    names = {p.name for p in scenario.processes}
    unknown = sorted({n for n, _ in items} - names)
    if unknown:
        raise IpcvizError(
            f"--schedule: no process named {', '.join(unknown)} in scenario {scenario.id} "
            f"(its processes: {', '.join(p.name for p in scenario.processes)})"
        )
    return items


def check_pace(value: Any) -> float:
    """``--pace`` / the pace command: operations per second, within the bounds."""
    try:
        ops = float(value)
    except (TypeError, ValueError):
        ops = float("nan")
    if not PACE_MIN <= ops <= PACE_MAX:  # (also refuses nan and inf)
        raise IpcvizError(
            f"--pace: {str(value)[:40]!r} is not a number of operations per second "
            f"from {PACE_MIN:g} to {PACE_MAX:g}"
        )
    return ops


class Gate:
    """The engine's side of the step gate, plus the deadlock and lost-update watchers."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.bell_r, self.bell_w = os.pipe()
        os.set_blocking(self.bell_r, False)
        os.set_blocking(self.bell_w, False)
        self.step_mode = False
        #: The run stops: every gate stays closed (``close_all``).
        self.closing = False
        #: Workers the user is killing (``Commands.kill``): their gates stay closed.
        self.doomed: set[int] = set()
        #: what every live ring's gate flag says now (``_set_flags``)
        self.gate_flag = 0
        self.seed: int | None = None
        self.rng: random.Random | None = None
        self.schedule: list[list[Any]] = []
        #: A schedule was given and the run has not gone free since: once it is used up and
        #: the world has settled, the run goes on seeded or free (not held for a user).
        self.scheduled = False
        self.user_rng = random.Random()
        #: Operations per second released by the clock (None: not paced).
        self.pace: float | None = None
        self._released_at: int | None = None  # stamp (ns) of the last gate.step
        self._pace_wait_since: float | None = None  # the clock holds a ready world
        self._paced_pid: int | None = None  # free pacing: the process released last
        self.end_on_deadlock = False
        # Presenter mode (--present): a worker that announced a narration step waits at its
        # gate (tracer.hold) until {"cmd": "continue"}; meanwhile every gate is closed, so
        # the others stop before their next operation too: the world waits for the presenter.
        self.present = False
        self.narrating: dict[Key, Event] = {}  # (pid, thread) → its gate.wait ("narrate")
        #: Called with a narration step's gate.wait while its process waits at the gate
        #: (presenter mode, or a step declared with ``probe=True``): the kernel prober
        #: takes its snapshot there (engine/probing.py).
        self.on_narration: list[Callable[[Event], None]] = []
        #: (pid, thread) → its gate.wait event, in the order they arrived
        self.at_gate: dict[Key, Event] = {}
        self._gate_ino: dict[int, int] = {}  # pid → inode of its process gate pipe
        #: (pid, thread) → (our write end, inode, its descriptor number in the worker) of a
        #: thread's own gate pipe (tracer/gate.py), opened through /proc on its gate.wait
        self._thread_gates: dict[Key, tuple[int, int, int]] = {}
        #: (pid, thread) → its kernel thread id, last seen waiting at its gate
        self._tids: dict[Key, int] = {}
        self._held_since: float | None = None
        self._held_total = 0.0
        self.races = LostUpdates(engine.model.proc_name)
        engine.on_events.append(self._on_events)
        engine.add_periodic(0.0, self._tick)
        self.deadlocks = DeadlockWatcher(self)  # engine/deadlock.py: proven by the kernel
        engine.add_command("step_mode", self.cmd_step_mode)
        engine.add_command("step", self.cmd_step)
        engine.add_command("step_random", self.cmd_step_random)
        engine.add_command("continue", self.cmd_continue)
        engine.add_command("pace", self.cmd_pace)

    # -- configuration -----------------------------------------------------------------

    def configure(
        self,
        seed: int | None = None,
        schedule: str | None = None,
        end_on_deadlock: bool = False,
        step: bool = False,
        present: bool = False,
        pace: float | None = None,
    ) -> None:
        """Called before the workers start. A seed, a schedule or ``step`` start in step mode."""
        if schedule:
            self.schedule = check_schedule(self.engine.scenario, schedule)
            self.scheduled = True
        if seed is not None:
            self.seed = seed
            self.rng = random.Random(seed)
        self.step_mode = step or bool(self.schedule) or self.rng is not None
        self.end_on_deadlock = end_on_deadlock
        self.present = present
        self.pace = pace

    @property
    def auto(self) -> bool:
        """True while the engine itself chooses who goes next."""
        return bool(self.schedule) or self.rng is not None

    def private_fds(self) -> list[int]:
        """Engine-only descriptors a worker must close (the doorbell's read end, and write
        ends of threads' gates)."""
        return [self.bell_r, *(g[0] for g in self._thread_gates.values())]

    def armed(self) -> None:
        """After every worker is forked, before they start: close the gates if stepping."""
        for w in self.engine.workers.values():
            if w.gate_w >= 0:
                self._gate_ino[w.pid] = os.fstat(w.gate_w).st_ino
            if self.present and w.ring is not None and w.gate_w >= 0:
                w.ring.set_present_flag(1)
        if self.present:
            # Every operation passes the engine (released "free" at once): when a narration
            # step arrives, nobody is let through any more, so the world stops right there.
            self._set_flags(1)
            self.engine.emit(schema.CONTROL, action="present", on=True)
        if self.pace is not None:
            self._set_flags(1)
            self.engine.emit(schema.CONTROL, action="pace", ops=self.pace)
        if self.step_mode:
            self._set_flags(1)
            how = {}
            if self.seed is not None:
                how["seed"] = self.seed
            if self.schedule:
                how["schedule"] = ",".join(
                    n if c == 1 else f"{n}*{'' if c is None else c}" for n, c in self.schedule
                )
            self.engine.emit(schema.CONTROL, action="step_mode", on=True, **how)
            self._hold()

    def held_seconds(self) -> float:
        """Time spent waiting for the user in step mode: the run's timeout does not count it."""
        now = time.monotonic()
        extra = now - self._held_since if self._held_since is not None else 0.0
        if self._pace_wait_since is not None:  # the pace's clock, not the run, is slow
            extra += now - self._pace_wait_since
        return self._held_total + extra

    def _hold(self) -> None:
        holding = (self.step_mode and not (self.auto or self.scheduled)) or bool(self.narrating)
        if holding and self._held_since is None:
            self._held_since = time.monotonic()
        elif not holding and self._held_since is not None:
            self._held_total += time.monotonic() - self._held_since
            self._held_since = None

    # -- control commands ------------------------------------------------------------

    def cmd_continue(self, cmd: dict[str, Any]) -> None:
        """``{"cmd": "continue"}`` (presenter mode, →): the narrating worker shown goes on
        (the one that narrated first); once none is held, the others too unless step mode
        holds them."""
        if not self.narrating:
            why = N_("not in presenter mode") if not self.present else N_("no narration step waits")
            self.engine.emit(schema.CONTROL, action="continue", ok=False, reason=why)
            return
        # one narration per continue, the oldest first: two processes that narrate at once
        # are shown one after the other, in the stream's order, each while the world waits.
        # ``pid``: the process whose step the screen shows: only its step goes (a → pressed
        # twice must not let a step go that was never on the screen)
        pid = cmd.get("pid")
        key = next((k for k in self.narrating if pid is None or k[0] == pid), None)
        if key is None:
            why = N_("the step on the screen is not the one waiting")
            self.engine.emit(schema.CONTROL, action="continue", ok=False, reason=why)
            return
        self.at_gate[key] = self.narrating.pop(key)
        self.release(key, "presenter")
        self._after_narration()

    def _after_narration(self) -> None:
        """No narration holds the world any more: free-running workers go on (paced: as
        the clock lets them)."""
        if not self.narrating and not self.step_mode:
            self._set_flags(1 if self.present or self.pace is not None else 0)
            self._release_free()
        self._hold()

    def _release_free(self) -> None:
        """Everyone waiting at a gate goes, unless a pace releases them one by one."""
        if self.pace is None:
            for key in list(self.at_gate):
                self.release(key, "free")

    def cmd_pace(self, cmd: dict[str, Any]) -> None:
        """``{"cmd": "pace", "ops": X}``: at most X operations per second; ``"ops": null``:
        no pace (full speed)."""
        ops = cmd.get("ops")
        try:
            pace = None if ops is None else check_pace(ops)
        except IpcvizError as exc:
            self.engine.emit(schema.CONTROL, action="pace", ok=False, reason=str(exc))
            return
        if pace == self.pace:
            return
        self.pace = pace
        self._pace_wait_since = None
        self.engine.emit(schema.CONTROL, action="pace", ops=pace)
        if pace is not None:
            self._set_flags(1)
        elif not self.step_mode and not self.narrating:
            self._set_flags(1 if self.present else 0)
            self._release_free()

    def cmd_step_mode(self, cmd: dict[str, Any]) -> None:
        """``{"cmd": "step_mode", "on": true|false}``; without ``on`` it toggles."""
        on = cmd.get("on")
        self.set_step_mode(not self.step_mode if on is None else bool(on))

    def cmd_step(self, cmd: dict[str, Any]) -> None:
        """``{"cmd": "step", "pid": N}``: let N perform exactly one operation (its
        lowest-numbered thread waiting at its gate); ``"thread": T``: that thread of N."""
        pid, thread = cmd.get("pid"), cmd.get("thread")
        if not isinstance(pid, int) or not isinstance(thread, (int, type(None))):
            pid, thread, key = None, None, None  # (a viewer's JSON: refused, never raised)
        elif thread is None:
            key = self._first_waiting(pid)
        else:
            key = (pid, thread) if (pid, thread) in self.at_gate else None
        if not self.step_mode or key is None:
            why = N_("not in step mode") if not self.step_mode else N_("not waiting at its gate")
            fields = {} if thread is None else {"thread": thread}
            self.engine.emit(
                schema.CONTROL, action="step", target=pid, ok=False, reason=why, **fields
            )
            return
        self.release(key, "user")

    def _first_waiting(self, pid: Any) -> Key | None:
        """The lowest-numbered thread of ``pid`` waiting at its gate: the one the model
        shows (``Proc.gated_op``), which a user's step of the process lets go."""
        mine = [k for k in self.at_gate if k[0] == pid]
        return min(mine) if mine else None

    def cmd_step_random(self, cmd: dict[str, Any]) -> None:
        """``{"cmd": "step_random"}``: let a random process (thread) waiting at its gate go."""
        keys = self._candidates()
        if self.step_mode and keys:
            self.release(self.user_rng.choice(keys), "random")
        else:
            why = N_("not in step mode") if not self.step_mode else N_("nobody waits at a gate")
            self.engine.emit(schema.CONTROL, action="step", ok=False, reason=why)

    def set_step_mode(self, on: bool) -> None:
        if on == self.step_mode:
            return
        self.step_mode = on
        self._set_flags(1 if on or self.present or self.pace is not None else 0)
        self.engine.emit(schema.CONTROL, action="step_mode", on=on)
        if not on:
            self.rng = None
            self.schedule = []
            self.scheduled = False
            if not self.narrating:  # a narration on the screen still holds the world
                self._release_free()
        self._hold()

    def close_all(self) -> None:
        """The run stops: close every gate for good, so a worker still running stops before
        its next operation, the last one recorded (``Engine._quiesce``)."""
        self.closing = True
        self._set_flags(1)

    def _set_flags(self, value: int) -> None:
        self.gate_flag = value  # (a child adopted later starts with it: ``WorkerLife.adopt``)
        for w in self.engine.workers.values():
            if w.ring is not None and not w.exited:
                w.ring.set_gate_flag(value)

    # -- the gate itself ---------------------------------------------------------------

    def on_bell(self) -> None:
        """A worker reached its gate: the loop woke up; its record is drained next turn."""
        try:
            while os.read(self.bell_r, 4096):
                pass
        except BlockingIOError:
            pass

    def _wake(self) -> None:
        """Make the engine's next poll return at once (a byte on our own doorbell)."""
        try:
            os.write(self.bell_w, b"s")
        except OSError:
            pass

    def release(self, key: Key, by: str) -> None:
        """Let thread ``key`` = (pid, thread) perform exactly one operation."""
        if key[0] in self.doomed:
            return  # (being killed: its SIGKILL comes, not another operation)
        waiting = self.at_gate.pop(key, None)
        fd = self._gate_fd(key, waiting) if waiting is not None else -1
        if waiting is None or fd < 0:
            return
        pid, thread = key
        fields = {"op": waiting.get("op"), "by": by}
        if "obj" in waiting:
            fields["obj"] = waiting["obj"]
        if thread:
            fields["thread"] = thread  # (as in the thread's own events)
        self._released_at = self.engine.emit(schema.GATE_STEP, pid, **fields)["t"]
        self._open(fd)

    def _open(self, fd: int) -> None:
        """One byte through a gate: one operation."""
        try:
            os.write(fd, b"\x01")
        except OSError:  # it died meanwhile: its exit is reaped as usual
            pass

    def _gate_fd(self, key: Key, waiting: Event) -> int:
        """Our write end of the gate ``key`` waits on (-1: none)."""
        if "gate_fd" in waiting:
            gate = self._thread_gates.get(key)
            return gate[0] if gate is not None else -1
        w = self.engine.workers.get(key[0])
        return w.gate_w if w is not None else -1

    def _candidates(self) -> list[Key]:
        """Threads waiting at their gate, processes in the scenario's order (not pid
        order), the threads of one in the order they were made (their kernel thread id,
        seen at the gate by :meth:`_settled`): thread numbers follow the order in which
        threads first record, which is timing when two race to their first gate, so a
        seed's choice would not be the same from run to run."""
        order = {pid: i for i, pid in enumerate(self.engine.workers)}
        tids = self._tids
        return sorted(
            self.at_gate, key=lambda k: (order.get(k[0], len(order)), tids.get(k, 0), k[1])
        )

    def _thread_gate(self, key: Key, e: Event) -> bool:
        """Open (once) our write end of the thread's own gate pipe its ``gate.wait`` names.

        Opened through ``/proc/PID/fd/N``: that gives a new write end of the pipe the
        thread made. The link must name a pipe, and what we opened must be that pipe
        (same inode), or nothing is written: the descriptor number comes from the worker.
        """
        n = e.get("gate_fd")
        pid = key[0]
        try:
            link = os.readlink(f"/proc/{pid}/fd/{int(n)}")
        except (OSError, TypeError, ValueError):
            link = ""
        ino = int(link[6:-1]) if link.startswith("pipe:[") and link[6:-1].isdigit() else -1
        gate = self._thread_gates.get(key)
        if gate is not None and gate[1:] == (ino, n):
            return True
        self._close_thread_gate(key)
        fd = -1
        if ino >= 0:
            flags = os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC
            try:
                fd = os.open(f"/proc/{pid}/fd/{int(n)}", flags)
                st = os.fstat(fd)
                if not stat.S_ISFIFO(st.st_mode) or st.st_ino != ino:
                    os.close(fd)
                    fd = -1
            except OSError:
                fd = -1
        if fd < 0:
            self.engine.emit(
                schema.ERROR,
                pid,
                message=phrases.THREAD_GATE.format(thread=key[1], pid=pid, fd=str(n)[:12]),
            )
            return False
        self._thread_gates[key] = (fd, ino, n)
        return True

    def _close_thread_gate(self, key: Key) -> None:
        gate = self._thread_gates.pop(key, None)
        if gate is not None:
            try:
                os.close(gate[0])
            except OSError:
                pass

    def _on_events(self, events: list[Event]) -> None:
        for e in events:
            kind = e["kind"]
            if kind not in _WATCHED:
                continue
            if kind == "gate.wait":
                key = (e["pid"], e.get("thread", 0))
                if "gate_fd" in e and not self._thread_gate(key, e):
                    continue  # no way to let it go: not counted as waiting (error said)
                if e.get("op") == "narrate":
                    self._narration(key, e)
                    continue
                self.at_gate[key] = e
                if (
                    not self.step_mode
                    and not self.narrating
                    and self.pace is None
                    and not self.closing
                    and key[0] not in self.doomed
                ):
                    self.release(key, "free")
            elif kind == "proc.exit":
                pid = e["pid"]
                held = False
                for key in [k for k in (*self.at_gate, *self.narrating) if k[0] == pid]:
                    self.at_gate.pop(key, None)
                    held = self.narrating.pop(key, None) is not None or held
                for key in [k for k in self._thread_gates if k[0] == pid]:
                    self._close_thread_gate(key)
                for key in [k for k in self._tids if k[0] == pid]:
                    del self._tids[key]
                if held:
                    self._after_narration()
            else:
                for found in self.races.feed(e):
                    self.engine.emit(found.pop("kind"), **found)

    def _narration(self, key: Key, e: Event) -> None:
        """A narration step waits at its gate: probe, then hold it (presenter) or let it go."""
        for hook in self.on_narration:
            hook(e)
        if self.present:
            self.narrating[key] = e  # held until the presenter continues
            self._set_flags(1)
            self._hold()
            return
        fd = self._gate_fd(key, e)
        if fd >= 0:  # released without a gate.step: not an operation, nobody chose it
            self._open(fd)

    def _settled(self) -> str:
        """``"yes"``: every live worker is at its gate, asleep on an IPC object, or gone;
        ``"soon"``: one is running (about to reach a gate or to block); ``"later"``: one
        sleeps by itself (time.sleep) or waits for a child.

        Cheap on purpose (it runs before every step): /proc/PID/syscall alone, plus one
        readlink for a read(), instead of the full ``probe.blocked_on`` classification.
        """
        parents = self._parents()
        for w in self.engine.workers.values():
            how = self._worker_settled(w, parents)
            if how != "yes":
                return how
        return "yes"

    def _parents(self) -> set[Any]:
        """Workers with a traced child: that child's gate decides when they wake."""
        return {w.extra.get("parent") for w in self.engine.workers.values() if not w.exited}

    def _worker_settled(self, w: Any, parents: set[Any]) -> str:
        """:meth:`_settled` for one worker: the least settled of its threads."""
        if w.exited or w.ring is None:
            return "yes"  # (an uninstrumented command has no gate: it is not waited for)
        pid = w.pid
        waiting = [k for k in (*self.at_gate, *self.narrating) if k[0] == pid]
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return "yes"  # gone, not reaped yet
        if len(tids) <= 1 and waiting:
            return "yes"  # one thread, at its gate: nothing to read in /proc
        # In ``ctx.wait_for_wchan`` for a process that has not slept yet: only a step can
        # make it sleep, so this one's own sleeps are not waited for (once it has slept,
        # this one is about to go on: it is, as any sleeper)
        awaits = w.ring.awaits()
        parked = bool(awaits) and not self._asleep_away(awaits)
        # the gate pipes of this process: those a published gate.wait waits on, and all
        known = {self._gate_ino.get(pid)} | {
            g[1] for k, g in self._thread_gates.items() if k[0] == pid
        }
        at: dict[Any, Key] = {}  # inode of a gate → the thread waiting on it
        for k in waiting:
            e = self.at_gate.get(k) or self.narrating.get(k) or {}
            gate = self._thread_gates.get(k) if "gate_fd" in e else None
            at[gate[1] if gate is not None else self._gate_ino.get(pid)] = k
        how = "yes"
        for tid in tids:
            t = self._task_settled(w, tid, parents, at, known, parked)
            if t == "soon":
                return t
            if t == "later":
                how = t
        return how

    def _task_settled(
        self,
        w: Any,
        tid: str,
        parents: set[Any],
        at: dict[Any, Key],
        known: set[Any],
        parked: bool = False,
    ) -> str:
        """One thread of a worker: ``at``: inodes of the gates whose wait was published
        (→ whose wait), ``known``: of all its gates; ``parked``: the worker waits for
        another to sleep, which no sleep of its own ends (``_worker_settled``)."""
        pid = w.pid
        text = _read(f"/proc/{pid}/task/{tid}/syscall")
        if text is None:
            return "yes"  # gone
        fields = text.split()
        if not fields or fields[0] in ("running", "-1") or len(fields) < 2:
            return "soon"
        if _runnable(f"{pid}/task/{tid}"):
            # Woken (a post, a send) but not on a CPU yet: the syscall file still names
            # the call it sleeps no more in. Read after it, so a wake-up is never missed.
            return "soon"
        name = SYSCALLS_X86_64.get(int(fields[0])) if IS_X86_64 else None
        if name is None:  # another architecture: ask the full probe
            info = probe.blocked_on(pid)
            target = info.target if info is not None else None
            if target is None or target.kind in _SELF_WAKING:
                return "later" if target is not None else "soon"
            return "yes"
        if name in _WAIT_CALLS and pid in parents:
            return "yes"  # waits for a traced child, which the engine steps
        if name in _SELF_WAKING_CALLS:
            return "yes" if parked else "later"
        if name == "read":
            try:
                link = os.readlink(f"/proc/{pid}/fd/{int(fields[1], 16)}")
            except (OSError, ValueError):
                link = ""
            ino = int(link[6:-1]) if link.startswith("pipe:[") and link[6:-1].isdigit() else -1
            if ino in at:
                if tid.isdigit():
                    self._tids[at[ino]] = int(tid)
                return "yes"  # at its gate, its gate.wait known
            if ino in known:
                return "soon"  # at its gate, but its gate.wait is not drained yet
            if ino >= 0 and self._unseen(w):
                # a pipe not known as a gate yet: a thread's first wait on its own gate
                # whose gate.wait is still in the ring (or a pipe of the scenario's)
                return "soon"
        return "yes"

    def _asleep_away(self, pid: int) -> bool:
        """``pid`` sleeps in the kernel, and not at a gate of its own (or is gone): what
        a process waiting to see it asleep (``ctx.wait_for_wchan``) may see now."""
        text = _read(f"/proc/{pid}/stat")
        if text is None:
            return True  # gone: the wait ends
        if text.rsplit(")", 1)[-1].split()[:1] not in (["S"], ["D"]):
            return False
        return not any(k[0] == pid for k in (*self.at_gate, *self.narrating))

    def resting(self, w: Any) -> bool:
        """``w`` is in no call it has not recorded: settled (``_worker_settled``), or, one
        thread alone, asleep at its own gate before the engine read its ``gate.wait``."""
        if self._worker_settled(w, self._parents()) != "soon":
            return True
        pid = w.pid
        text = _read(f"/proc/{pid}/syscall")
        fields = text.split() if text else []
        if len(fields) < 2 or not IS_X86_64 or SYSCALLS_X86_64.get(int(fields[0])) != "read":
            return False
        try:
            if len(os.listdir(f"/proc/{pid}/task")) != 1:
                return False
            link = os.readlink(f"/proc/{pid}/fd/{int(fields[1], 16)}")
        except (OSError, ValueError):
            return False
        return link == f"pipe:[{self._gate_ino.get(pid)}]"

    def _unseen(self, w: Any) -> bool:
        """The worker recorded something the model has not seen yet (in its ring, or
        held by the linearizer)."""
        if w.ring.unread():
            return True
        return any(q for lane, q in self.engine.lin.queues.items() if lane & 0xFFFFFFFF == w.pid)

    def _paced_done(self) -> str:
        """Free pacing: is the operation released last done? Its process is back at its
        gate, asleep (in the kernel, or in time.sleep), or gone. The others are not waited
        for: a process computing between its operations (mq-async's receiver spins) must
        not hold the clock."""
        w = self.engine.workers.get(self._paced_pid) if self._paced_pid is not None else None
        if w is None:
            return "yes"
        how = self._worker_settled(w, self._parents())
        return "yes" if how == "later" else how

    def _due(self) -> bool:
        """Paced: the clock allows the next release (stamps: never sooner than 1/pace)."""
        if self.pace is None or self._released_at is None:
            return True
        return self.engine.now() >= self._released_at + int(1e9 / self.pace)

    def _busy(self) -> bool:
        """Free pacing: the released process has been running long past its release."""
        if self._released_at is None or self.pace is None:
            return False
        since = self.engine.now() - self._released_at
        return since >= max(PACE_BUSY_NS, int(1e9 / self.pace))

    def _tick(self) -> None:
        """Every loop turn: in seeded or scheduled step mode, choose who goes next; paced,
        release the next operation when the clock says so."""
        auto = self.auto or self.scheduled  # (a used-up schedule: go free once settled)
        paced_free = self.pace is not None and not self.step_mode
        if not self.at_gate or self.engine.model.frozen or self.closing:
            return
        if not (self.step_mode and auto) and not paced_free:
            return
        if self.present and self.narrating:
            return  # the presenter holds the world: not even the schedule moves it
        if paced_free:
            settled = self._paced_done()
            if settled == "soon" and self._busy():
                settled = "yes"  # it computes (mq-async's receiver spins): its op is done
            elif settled == "soon":
                return  # look again after the engine's idle poll, not in a busy loop
        else:
            settled = self._settled()
        if settled == "yes" and not self._due():
            if self._pace_wait_since is None:
                self._pace_wait_since = time.monotonic()
            if self._released_at is not None and self.pace is not None:
                left = (self._released_at + int(1e9 / self.pace) - self.engine.now()) / 1e9
                if left < _IDLE_S:  # due before the idle poll would look again: wait here
                    select.select([self.bell_r], [], [], max(0.0, left))
                    self._wake()
            return
        if settled == "yes" and self._pace_wait_since is not None:
            self._held_total += time.monotonic() - self._pace_wait_since
            self._pace_wait_since = None
        if settled != "yes":
            if settled == "soon":  # look again in a moment, not after a whole idle poll
                ready, _, _ = select.select([self.bell_r], [], [], SETTLE_PAUSE)
                if not ready:  # no gate reached: it may have blocked in the kernel
                    self._wake()
            return
        if paced_free:  # the longest waiting goes (at_gate keeps the order of arrival)
            key = next(iter(self.at_gate))
            self._paced_pid = key[0]
            self.release(key, "pace")
            self._wake()
            return
        while self.schedule:
            name, count = self.schedule[0]
            w = next((x for x in self.engine.workers.values() if x.name == name), None)
            pid = w.pid if w is not None else None
            key = next((k for k in self._candidates() if k[0] == pid), None)
            if w is None or w.exited or key is None:
                # gone, or asleep in the kernel: it cannot take this turn
                self.schedule.pop(0)
                if w is not None and not w.exited and count is not None:
                    self.engine.emit(
                        schema.CONTROL,
                        action="schedule",
                        skipped=name,
                        reason=N_("blocked in the kernel, not at its gate"),
                    )
                continue
            if count is not None:
                if count <= 1:
                    self.schedule.pop(0)
                else:
                    self.schedule[0][1] = count - 1
            self.release(key, "schedule")
            self._wake()  # it may block in the kernel (no doorbell then): look again soon
            return
        if self.rng is not None:
            by = getattr(self.rng, "label", None) or f"seed {self.seed}"  # explore: "explore"
            self.release(self.rng.choice(self._candidates()), by)
            self._wake()
        else:  # the schedule is used up: run free from here
            self.set_step_mode(False)


def _read(path: str) -> str | None:
    """A small /proc file, or None if it cannot be read now. Read as bytes: a process's
    ``stat`` holds its name (comm), any bytes it chose (``prctl(PR_SET_NAME)``, or a UTF-8
    name cut at 15 bytes inside a character); a strict decode raised UnicodeDecodeError,
    not OSError, and the step gate's engine died of it. Bytes that are not UTF-8 are kept
    as surrogates (``surrogateescape``, as ``probe._procfs.comm`` does): nothing lost."""
    try:
        with open(path, "rb", buffering=0) as f:
            return f.read().decode("utf-8", "surrogateescape")
    except OSError:
        return None


def _runnable(task: int | str) -> bool:
    """The process (``PID``) or thread (``PID/task/TID``) is running or waiting for a CPU
    (state R in its /proc stat)."""
    text = _read(f"/proc/{task}/stat")
    return text is not None and text.rsplit(")", 1)[-1].split()[:1] == ["R"]
