"""The engine of ``ipcviz run -- PROG ARGS…``: an unmodified program under strace.

The same engine loop, stream, linearizer, model, trace and shutdown as a scenario's; only
the source of operations differs. Its one worker is strace (its own process group, killed
with everything in it on stop); the traced processes are declared from strace's lines, and
their operations enter the linearizer as the records a ring would give. Objects are the
program's own: ipcviz never registers them. At the end it says which the program left
behind (``program.leftover``); it removes them only when it ended the program itself (a
quit, a signal, a time-out), which never let the program remove what it made.
"""

from __future__ import annotations

import gc
import os
import signal
import time
from pathlib import Path
from typing import Any

from ipcviz import bytefmt
from ipcviz.engine.engine import HOLD_NS, OUTPUT_CAP, Engine
from ipcviz.engine.workers import Worker
from ipcviz.events import phrases, schema
from ipcviz.i18n import LANGS, N_, translate
from ipcviz.mechanisms import fifo as fifo_type
from ipcviz.model.verify import NO_SINCE, began
from ipcviz.scenario.api import Process, Scenario
from ipcviz.session import program
from ipcviz.sources.strace.cscenario import Narrator, ProgramScenario
from ipcviz.sources.strace.feed import (
    Killer,
    StraceFeed,
    held_early,
    kill_traced,
    kill_unseen,
    still_registered,
    thaw_tracer,
)
from ipcviz.sources.strace.probes import ProgramProber
from ipcviz.sources.strace.shmprobe import SegmentProbe
from ipcviz.sources.strace.source import (
    StraceSource,
    mq_names,
    remove_leftover,
    replaced,
    sysv_now,
)

#: Event kind: an object the program made is still there after it ended (named; removed
#: only when ipcviz ended the program: ``removed``).
LEFTOVER = schema.PROGRAM_LEFTOVER
_REMOVE_HINT = {
    "msqid": "ipcrm -q {}",
    "semid": "ipcrm -s {}",
    "shmid": "ipcrm -m {}",
    "FIFO": "rm {}",
    "POSIX queue": "rm /dev/mqueue{}",
    "POSIX shared memory": "rm {}",
    "POSIX semaphore": "rm {}",
}


def program_scenario(
    program: list[str],
    timeout: float = 60.0,
    scenario: Scenario | None = None,
    seen: str = N_("{name} under strace"),
    ran: list[str] | None = None,
) -> Scenario:
    """What the trace header says about a program run (replay needs nothing else): a C
    example's own scenario (``scenarios/c/NAME.py``: steps, checks) or a plain one, titled
    ``seen`` (how it is watched)."""
    name = os.path.basename(program[0]) or program[0]
    if scenario is None:
        scenario = Scenario(
            "program",
            translate(seen, "en").format(name=name),
            # what the user typed: a C file's, not its binary's path in the build cache
            description="ipcviz run "
            + (bytefmt.shell_words(ran) if ran else "-- " + bytefmt.shell_words(program)),
            timeout=timeout,
            title_ko=translate(seen, "ko").format(name=name),
        )

    @scenario.check(
        f"{name} exited with status 0",
        ko=translate("{name} exited with status 0", "ko").format(name=name),
    )
    def exited(run: Any) -> tuple[bool, str, str]:
        # the check's words in both languages: the trace carries both, either replays
        root = next(iter(run.state.procs.values()), None)
        if root is None:
            said = N_("the program never started")
            return False, said, translate(said, "ko")
        if root.exit_signal:
            said = N_("killed by signal {signal}")
            return False, *(translate(said, x).format(signal=root.exit_signal) for x in LANGS)
        said = N_("status {code}")
        return root.exit_code == 0, *(translate(said, x).format(code=root.exit_code) for x in LANGS)

    return scenario


class ProgramEngine(Engine):
    """An engine whose operations come from strace instead of the workers' rings."""

    #: The traced processes are the run's own (registered: ``clean`` kills them if the
    #: engine dies). False for ``ipcviz attach``: those are never ipcviz's to kill.
    owns_processes = True
    #: ipcviz ended the program (it still ran at shutdown, or a broken deadlock killed its
    #: last process): what it made and left is removed, not only named. Set at the end;
    #: ``ipcviz attach`` (which skips this class's ``__init__``) never does.
    _ended_by_us = False
    #: ``_register_made``: what was last registered (``Mapper.made_signature``); "done":
    #: never again (the program's objects were dealt with)
    _made_seen: tuple[int, ...] | str | None = None
    #: ``_register_made`` is asked once a turn, right after strace's lines are read (never
    #: under ``ipcviz attach``)
    _registers = False

    def __init__(
        self,
        program: list[str],
        trace_path: Path,
        scenario: Scenario | None = None,
        ran: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        timeout = kwargs.pop("timeout", 0.0)
        scenario_ = program_scenario(program, timeout if timeout > 0 else 60.0, scenario, ran=ran)
        extra = {**kwargs.pop("header_extra", {}), "program": list(program), "source": "strace"}
        super().__init__(scenario_, trace_path, timeout=timeout, header_extra=extra, **kwargs)
        self.program = program
        self.source: StraceSource | None = None
        self.feed: StraceFeed | None = None
        self.strace: Worker | None = None
        self.killer = Killer(self.registry)  # ``k``: each process stopped, then killed
        self._early_output = b""  # what strace said before the program ran (its errors)
        #: bytes read from the output pipe that no write strace showed accounts for yet
        self._unsaid = bytearray()
        if isinstance(scenario, ProgramScenario):
            self._narrate_steps(Narrator(scenario))

    def _narrate_steps(self, narrator: Narrator) -> None:
        """A C example's steps, each published right after the event that makes it true
        (the linearizer's order: in the trace, the log and on screen next to its event)."""
        publish = self.publisher.publish_event
        # Where each lane's operation began, as ``ipcviz verify`` reads a trace (one shared
        # function): a step said after an event spans that event's time, ``since`` its
        # begin. Stamped at the event's end alone, it would claim an instant after
        # operations that overlap the event and come after it in the trace (a receive
        # that ended sooner): illegal.
        begun: dict[tuple[int, int], int] = {}
        last: dict[tuple[int, int], int] = {}

        def said(event: dict[str, Any]) -> None:
            lane = (event.get("pid", 0), event.get("thread", 0))
            t = event["t"]
            since = event.get("since", NO_SINCE)
            begin = began(begun, lane, event["kind"], t, since, last.get(lane))
            last[lane] = t
            for index in narrator.feed(event):
                step = narrator.scenario.steps[index]
                narrate = {
                    "t": t,
                    "seq": -1,
                    "pid": lane[0],
                    "kind": schema.NARRATE,
                    "step": step.id,
                    "step_index": index,
                    "since": min(begin, t),
                }
                if lane[1]:
                    narrate["thread"] = lane[1]
                publish(narrate)

        self.lin.after_publish = said

    # -- set-up ---------------------------------------------------------------------------

    def _create_objects(self) -> None:
        """The program makes its own objects; they are declared as its calls show them."""

    def _start_workers(self) -> None:
        fifo = os.path.join(self.session.fifo_dir, "strace")
        # registered before it exists (a FIFO: removed like a scenario's)
        self.session.register({"type": fifo_type.MECHANISM.type, "path": fifo})
        self.source = source = StraceSource(self.program, self.obj_names, fifo, own_group=True)
        register = self.registry.add_proc if self.owns_processes else None
        self.feed = StraceFeed(source.mapper, self.lin, self.t0, register, self._tracer_pid)
        start_r, start_w = os.pipe()
        private = [self.out.stream_fd, self._wake_r, self._wake_w, self.out.trace.fd, start_w]
        private += [source.fd, *self.adopter.private_fds(), *self.gate.private_fds()]
        # named after the program: "still running after N s: a.out" names what ran
        name = source.mapper.root_name
        proc = Process(name, None, 0, tuple(source.argv()))
        w = self._fork(name, self.scenario, proc, 0, self.params, [], private, start_r)
        self.workers[w.pid] = self.strace = w
        if w.out_fd >= 0:  # the program's writes to it are its processes' output
            source.mapper.output_pipe = f"pipe:[{os.fstat(w.out_fd).st_ino}]"
        self.registry.add_proc(w.pid)
        os.close(start_r)
        os.close(start_w)

    def _tracer_pid(self) -> int | None:
        return self.strace.pid if self.strace is not None else None

    def _unseen_pids(self) -> set[int]:
        """strace is no party to the program's IPC: asleep in wait4 for the program's first
        process, it was named in a deadlock cycle as one that could post its semaphore."""
        return {self.strace.pid} if self.strace is not None else set()

    def _install_watchers(self) -> None:
        # the cells of the program's System V segments: read, then let go, before the
        # objects it left are listed
        SegmentProbe(self, self.probe_interval).install()
        self.on_end.append(self._left_behind)
        self.cleanup_at_end.append(self._left_behind)
        self._registers = self.owns_processes  # (``ipcviz attach``: never ipcviz's to remove)
        if self.source is not None:  # what the calls cannot show: read from the kernel
            ProgramProber(self, self.source.mapper, self.probe_interval).install()

    # -- the loop -------------------------------------------------------------------------

    def _drain(self, only: Worker | None = None, flush: bool = False) -> bool:
        """strace's new lines into the pool; publish what is ready (see ``Engine._drain``)."""
        source = self.source
        if source is None:
            return False
        gc.disable()
        try:
            more = source.read() if source.fd >= 0 else False
            self._hand_over()
            if self._registers:
                # here, as soon as the lines are read: a periodic task runs after the
                # turn, and a turn that orders a flood's backlog took a second or more,
                # while the registry did not list what the program had made
                self._register_made()
            self.killer.due()
            if source.setsid and source.mapper.root is not None and self.strace is not None:
                # the program's own group (``setsid``: its first pid's), signalled with
                # strace's by a freeze, a resume and the end (``signal_groups``). Never an
                # attached process's (no ``setsid``): its group is the user's, not ours.
                self.strace.extra.setdefault("groups", [source.mapper.root])
            if self._early_output and source.mapper.root is not None:
                self._output(self.strace, b"")  # type: ignore[arg-type]
            if only is not None:
                return more
            if flush:
                self.lin.flush()
            elif not self._holding():
                self.lin.emit_ready(source.horizon - HOLD_NS)
            self._run_hooks()
            return more
        finally:
            gc.enable()

    def _holding(self) -> bool:
        """Whether the pool is held back (nothing published): never, for a program run."""
        return False

    def _hand_over(self) -> None:
        """The mapper's actions → the linearizer (``StraceFeed``)."""
        if self.feed is not None:
            self.feed.hand_over()

    def _register_made(self) -> None:
        """The registry lists what the program made and has not removed (``made_now``), so
        ``ipcviz clean`` removes it if the engine is killed, as the engine would have when
        it ended the program. Asked once a turn, as soon as strace's lines are read, and
        written when that changed: a program making thousands of segments rewrites it once
        a turn, not per segment (one made in the last moment before a SIGKILL, whose line
        ipcviz had not read, may be missed)."""
        if self.source is None or self._made_seen == "done":
            return
        mapper = self.source.mapper
        seen = mapper.made_signature()
        if seen == self._made_seen:
            return
        self._made_seen = seen
        self.registry.set_program_objects(program.entries(mapper.made_now()))

    def _finish_worker(self, w: Worker, status: int | None, poller: Any) -> None:
        """strace ended (after every traced process): read the rest of what it wrote."""
        if w is not self.strace:
            super()._finish_worker(w, status, poller)
            return
        self._read_output(w.out_fd, poller, final=True)
        w.exited = True
        w.exit_status = status
        assert self.source is not None
        self.source.finish()
        self._hand_over()
        if not self._ended_by_us:  # it ended by itself: what it left is its own
            self._forget_made()
        self._ended_with_strace(status)
        if self._early_output and self.source.mapper.root is not None:
            self._output(w, b"")
        self._account_output(final=True)
        if self.source.mapper.root is None and self.stop_reason is None:
            said = self._early_output.decode("utf-8", "replace").strip().splitlines()
            why = said[-1] if said else f"strace ended with status {status}"
            self._fail(f"cannot watch {self.program[0]}: {why}")

    def control(self, cmd: dict[str, Any]) -> None:
        """``kill`` names one of the program's processes (strace is the only worker)."""
        if cmd.get("cmd") == "pace":  # no ring, no step gate: nothing could be paced
            self.emit(
                schema.CONTROL,
                action="pace",
                ok=False,
                reason="a program's processes do not pass ipcviz's step gate: no pace",
            )
            return
        if cmd.get("cmd") != "kill" or self.source is None:
            super().control(cmd)
            return
        pid = cmd.get("pid")
        if isinstance(pid, int):
            known = kill_traced(self.emit, self.registry, self.source.mapper, pid, self.killer)
            if known and self.frozen:
                thaw_tracer(self._tracer_pid())

    def break_deadlock(self, cycle: list[int]) -> bool:
        """Headless, a program's proven deadlock ends as a user's ``k`` would end it: one
        victim of the cycle (the one started last) gets SIGKILL, and the program goes on
        by itself. Its own code decides what follows (a lock taken with SEM_UNDO goes back
        to the kernel, a parent reaps the victim and removes its objects). Killing the
        whole tree instead would leave the program's objects behind, which ipcviz never
        removes. False when no process of the cycle can be signalled (then the run ends
        as any deadlocked run does). A victim that was the program's last process leaves
        nobody to remove what it made: then ipcviz ended the program."""
        if self.source is None:
            return False
        order = [pid for pid in self.model.procs if pid in set(cycle)]
        procs = self.source.mapper.procs
        for victim in reversed(order):
            proc = procs.get(victim)
            if proc is None or proc.thread or proc.ended or not self._ours(victim):
                continue
            # its last process: nothing of the program is left to remove what it made,
            # so ipcviz ended it (``_left_behind`` removes its leftovers)
            if not any(p.pid != victim and not p.ended for p in procs.values()):
                self._ended_by_us = True
            self.emit(schema.CONTROL, action="kill", target=victim, reason="deadlock")
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                continue
            return True
        return False

    def _ours(self, pid: int) -> bool:
        """``pid`` is still the process registered under it (same start time)."""
        return still_registered(self.registry, pid)

    def _ended_with_strace(self, status: int | None) -> None:
        """Processes strace never saw end ended with it (``StraceFeed.unended``); if it
        died under them, they are killed now (``kill_unseen``)."""
        assert self.feed is not None and self.source is not None
        killed = self.stop_reason is not None or self.outcome is not None
        unseen = killed or kill_unseen(self.emit, self.registry, self.source.mapper, status)
        self.feed.unended(time.monotonic_ns(), unseen)

    def _output(self, w: Worker, data: bytes) -> None:
        """The program's stdout and stderr (strace shares them). A write strace showed is
        already ``proc.output`` of the process that made it, at its moment
        (``Mapper.program_output``): those bytes are taken out here. What is left (strace's
        own messages, a ``sendfile``) is the first process's, said when no write accounts
        for it (``_account_output``)."""
        root = self.source.mapper.root if self.source is not None else None
        if root is None:  # held from its first byte; past the cap, ``output`` says the cut
            self._early_output = held_early(self._early_output, data)
            return
        if self._early_output:  # read before strace named the program's first process
            data, self._early_output = self._early_output + data, b""
        if not data:
            return
        if self.source is None or self.source.mapper.output_pipe is None:  # not known
            super()._output(Worker(w.proc, root, w.color, None, -1), data)
            return
        self._unsaid += data
        self._account_output()

    def _account_output(self, final: bool = False) -> None:
        """Take the bytes each write strace showed put in the pipe out of what was read
        there (each where it is found: two processes' writes may reach the pipe in another
        order than strace prints them). At the end, or past ``OUTPUT_CAP`` waiting, the
        rest is output no write showed: the first process's."""
        source = self.source
        if source is None or source.mapper.root is None or source.mapper.output_pipe is None:
            return
        said, unsaid = source.mapper.output_said, self._unsaid
        waiting = []  # writes whose bytes were not read from the pipe yet
        while said and unsaid:
            shown, size = said.popleft()
            at = unsaid.find(shown) if shown else 0
            if at < 0 or len(unsaid) - at < size:
                waiting.append((shown, size))
                continue
            del unsaid[at : at + size]
        said.extendleft(reversed(waiting))
        if unsaid and (final or len(unsaid) > OUTPUT_CAP):
            keep = 0 if final else len(unsaid) - OUTPUT_CAP // 2
            rest = bytes(unsaid[: len(unsaid) - keep])
            del unsaid[: len(unsaid) - keep]
            strace = self.strace
            if strace is not None:
                super()._output(
                    Worker(strace.proc, source.mapper.root, strace.color, None, -1), rest
                )

    def _run_checks(self) -> None:
        if self.outcome is None:
            super()._run_checks()

    # -- the end --------------------------------------------------------------------------

    def _end_program_first(self) -> None:
        """ipcviz ends the program: each of its processes gets SIGKILL while strace still
        watches, so every call they made is read, and strace then ends by itself (at most
        ``END_FIRST_S``; then it is killed as before). Killed after strace (its process
        group), a process that left the group (setsid) ran on unwatched until killed,
        making objects nobody named.

        Each is stopped first, as ``k`` stops one (``Killer``): a process killed as its
        call returned had done it, and strace printed ``= ?``, nothing to show that it had;
        the message its send put in a queue then came out of nowhere, and the trace of a
        correct program ended in ``order.conflict`` (a POSIX queue flood, 1 stop in 5).
        Stopped, every call returns first and strace prints it whole; a call it was
        blocked in ends as not done (``ERESTARTSYS``)."""
        source, strace = self.source, self.strace
        assert source is not None and strace is not None
        deadline = time.monotonic() + END_FIRST_S
        asked: set[int] = set()
        while not _exited(strace.pid) and time.monotonic() < deadline:
            for pid in source.mapper.unended():
                if pid not in asked and self._ours(pid):
                    asked.add(pid)
                    self.killer.request(source.mapper, pid)
            # strace's lines only, and the kills they allow (``Killer.due``; a child strace
            # just named is stopped on the next turn): the backlog is put in order after,
            # or a long turn outlasted every stop's wait
            self._drain(only=strace)
            time.sleep(0.005)

    def _left_behind(self) -> None:
        """Name (and, ipcviz having ended the program, remove) what the program left; the
        registry then forgets its objects: dealt with here, never ``clean``'s to remove."""
        try:
            if self.source is not None:
                say_left_behind(self.emit, self.source, remove=self._ended_by_us)
        finally:
            self._forget_made()

    def _forget_made(self) -> None:
        """The registry lists none of the program's objects, now or later."""
        self._made_seen = "done"
        self.registry.set_program_objects([])

    def _shutdown(self) -> None:
        strace = self.strace
        running = strace is not None and not strace.exited
        self._ended_by_us = self._ended_by_us or running
        if running and self.owns_processes:
            try:
                self._thaw()  # (frozen: strace could never show them stopped)
                self._end_program_first()
            except Exception:
                import traceback

                traceback.print_exc()
        super()._shutdown()
        if self.source is not None:
            self.source.close()
            self.source.mapper.let_go()


#: How long ipcviz lets strace see the program's processes die before it kills strace.
END_FIRST_S = 2.0


def _exited(pid: int) -> bool:
    """``pid`` (a child of ours) has ended; it stays to be reaped (WNOWAIT)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def say_left_behind(
    emit: Any,
    source: StraceSource,
    said: set[tuple[str, str, int | str]] | None = None,
    remove: bool = False,
) -> set[tuple[str, str, int | str]]:
    """Name every object a traced program made and left, with the command that would
    remove it; ``said``: already named (not again). ``remove``: ipcviz ended the program,
    so it removes those its own calls made (``made_here``) that are still those very
    objects (``remove_leftover``) and says so. Returns all named. Each event carries its
    ``reason`` and values, worded in the viewer's language (``phrases.LEFTOVERS``), and
    the sentence in English (``message``)."""
    named = set(said or ())
    # the kernel's System V tables read once, for every object and every question (not
    # per object: thousands of them cost seconds, past the viewer's patience)
    now = sysv_now()
    leftovers = source.leftovers(now)
    made = source.made_sysv(now) if remove and leftovers else set()
    for name, kind, ident in leftovers:
        if (name, kind, ident) in named:
            continue
        named.add((name, kind, ident))
        obj = {"obj": name} if name else {}  # made and never used: no object declared
        own = source.mapper.own.get(str(ident))
        shown = bytefmt.shell_word(str(ident))
        template = _REMOVE_HINT[kind]
        if kind == "POSIX queue" and mq_names() is None:  # no /dev/mqueue to rm it from
            template = "mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue && " + template
        hint = template.format(shown)
        if (
            remove
            and source.made_here(kind, ident, made)
            and remove_leftover(kind, ident, own, now)
        ):
            reason = "removed"
        elif replaced(kind, ident, own):  # never a command that would remove another's
            reason = "replaced"
        elif remove:  # ended by ipcviz, but nothing shows this is the object its call made
            reason = "unproven"
        elif kind == "POSIX queue" and str(ident) in source.mapper.mq_maybe_made:
            reason = "maybe"  # O_CREAT alone, and no /dev/mqueue said if it was there before
        else:
            reason = "kept"
        values = {"what": kind, "name": shown, "hint": hint}
        message = phrases.LEFTOVERS[reason].format(kind=kind, name=shown, hint=hint)
        emit(LEFTOVER, **obj, removed=reason == "removed", reason=reason, message=message, **values)
    return named
