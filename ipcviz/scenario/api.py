"""A scenario: kernel objects, processes (plain functions), narration steps and checks.

Small on purpose, so a lecturer can write one in a few minutes::

    scenario = Scenario("pipe-basic", "Parent writes, child reads", teaches=["T4", "T7", "T8"])
    p = scenario.pipe("p", writer="parent", reader="child")

    @scenario.process("parent")
    def parent(ctx):
        p.write(b"hello")

    @scenario.check("the child got the message")
    def got_it(run):
        return run.reports["child"]["got"] == "hello"
"""

from __future__ import annotations

import json
import mmap
import struct
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ipcviz.bytefmt import safe_text
from ipcviz.errors import ScenarioError
from ipcviz.i18n import _
from ipcviz.ipc.base import KernelObject
from ipcviz.mechanisms.fifo.wrapper import Fifo
from ipcviz.mechanisms.mmap_file.wrapper import MappedFile
from ipcviz.mechanisms.pipe.wrapper import Pipe
from ipcviz.mechanisms.posix_mq.wrapper import PosixQueue
from ipcviz.mechanisms.posix_sem.wrapper import Semaphore
from ipcviz.mechanisms.posix_shm.wrapper import SharedMemory
from ipcviz.mechanisms.sysv_mq.wrapper import SysvQueue
from ipcviz.mechanisms.sysv_sem.wrapper import SysvSemaphore, SysvSemaphoreSet
from ipcviz.mechanisms.sysv_shm.wrapper import SysvSharedMemory
from ipcviz.session.registry import NAME_RE
from ipcviz.tracer import codes as C
from ipcviz.tracer import current
from ipcviz.tracer.current import tracer
from ipcviz.tracer.ring import MAX_PAYLOAD

#: A shared memory's cells: how many, or named cells and ranges in order
#: (``{"slots": 5, "in": 1}``: cells 0-4 are ``slots``, cell 5 is ``in``).
Cells = int | Mapping[str, int]
T_IDS = tuple(f"T{i}" for i in range(1, 36))
ObjT = TypeVar("ObjT", bound=KernelObject)


@dataclass(frozen=True)
class Step:
    """A narration step: what a lecturer would say at this point, in English and Korean."""

    id: str
    en: str
    ko: str = ""
    teaches: tuple[str, ...] = ()
    #: The narration states what the kernel holds right then (T22's "5 messages on the
    #: queue"): its process waits at its gate, a few ms, while the engine probes the kernel.
    probe: bool = False

    def text(self, lang: str = "en") -> str:
        return (self.ko if lang == "ko" and self.ko else self.en).strip()


@dataclass(frozen=True)
class Process:
    """A worker: a function run in a forked process, or an ordinary command (``argv``)."""

    name: str
    fn: Callable[[Context], Any] | None
    index: int = 0
    argv: tuple[str, ...] | None = None
    #: A command seen through strace (its calls: operations, bytes, waits), not the
    #: kernel probes alone (``Scenario.command``).
    trace: bool = True
    #: A command's narration step, said for it as it starts (it cannot call ``ctx.step``).
    step: str | None = None


@dataclass(frozen=True)
class Check:
    """A claim checked after the processes end; a failed check makes ``ipcviz run`` exit 1."""

    description: str
    fn: Callable[[Run], bool | tuple[bool, str] | None]
    ko: str = ""  # the description in Korean (the author's; English when empty)

    def text(self, lang: str = "en") -> str:
        return self.ko if lang == "ko" and self.ko else self.description


class PidTable:
    """Every worker's pid, by position in the scenario: filled by the engine as it forks,
    read by workers after the start barrier (an anonymous shared mapping, named nowhere)."""

    def __init__(self, size: int) -> None:
        self._mm = mmap.mmap(-1, max(8 * size, 8))

    def set(self, index: int, pid: int) -> None:
        struct.pack_into("<q", self._mm, 8 * index, pid)

    def get(self, index: int) -> int:
        return struct.unpack_from("<q", self._mm, 8 * index)[0]


class Context:
    """What a process function receives: its name, the run's parameters, narration, reports."""

    def __init__(
        self,
        scenario: Scenario,
        name: str,
        index: int,
        params: dict[str, Any],
        declared_schedule: bool = False,
    ) -> None:
        self.scenario = scenario
        self.name = name
        self.index = index
        self.params = params
        #: True when the run follows the scenario's own declared schedule (no --schedule,
        #: --seed, --step, --challenge, not ``explore``). Narration that tells what that
        #: schedule makes happen is true only then: otherwise narrate what holds anyway.
        self.declared_schedule = declared_schedule

    def step(self, step_id: str) -> None:
        """Announce a narration step (shown on screen and in the headless log).

        In presenter mode (``--present``) the process then waits until the presenter continues.
        """
        index = self.scenario.step_index(step_id)
        tracer.emit(C.NARRATE, -1, index)
        tracer.hold(C.NARRATE, always=self.scenario.steps[index].probe)

    def report(self, key: str, value: Any) -> None:
        """Hand a JSON-able value to the checks (``run.reports[name][key]``).

        A report is one record: one whose JSON is longer than a record holds is refused
        here, in the process that made it, since the tracer would cut it and the check
        would then read a value the process never reported.
        """
        payload = json.dumps({"key": key, "value": value}).encode()
        if len(payload) > MAX_PAYLOAD:
            raise ValueError(
                _(
                    "report {key}: {size} bytes of JSON, more than a report holds"
                    " ({limit}); report a count or a digest instead"
                ).format(key=safe_text(key), size=len(payload), limit=MAX_PAYLOAD)
            )
        tracer.emit(C.REPORT, -1, 0, 0, payload)

    def fork(self, name: str = "") -> int:
        """``os.fork()`` with a name: the child shows as ``parent/name`` (plain ``os.fork()``
        works too and numbers the children). Returns 0 in the child, its pid in the parent."""
        return current.fork(name)

    # Objects made by this process, now (see Scenario.add): e.g. ``p = ctx.pipe("p")``.
    def pipe(self, name: str) -> Pipe:
        return self.scenario.pipe(name)

    def fifo(self, name: str) -> Fifo:
        return self.scenario.fifo(name)

    def shared_memory(self, name: str, cells: Cells = 16) -> SharedMemory:
        return self.scenario.shared_memory(name, cells)

    def semaphore(self, name: str, value: int = 1) -> Semaphore:
        return self.scenario.semaphore(name, value)

    def posix_queue(
        self, name: str, max_messages: int = 10, max_message_size: int = 1024
    ) -> PosixQueue:
        return self.scenario.posix_queue(name, max_messages, max_message_size)

    def sysv_queue(self, name: str, max_message_size: int = 8192) -> SysvQueue:
        return self.scenario.sysv_queue(name, max_message_size)

    def sysv_semaphore(self, name: str, value: int = 1, undo: bool = False) -> SysvSemaphore:
        return self.scenario.sysv_semaphore(name, value, undo)

    def sysv_semaphore_set(
        self,
        name: str,
        values: Sequence[int],
        undo: bool = False,
        names: Sequence[str] | None = None,
    ) -> SysvSemaphoreSet:
        return self.scenario.sysv_semaphore_set(name, values, undo, names)

    def sysv_shared_memory(self, name: str, cells: Cells = 16) -> SysvSharedMemory:
        return self.scenario.sysv_shared_memory(name, cells)

    def mapped_file(self, name: str, cells: Cells = 16) -> MappedFile:
        return self.scenario.mapped_file(name, cells)

    def sleep(self, seconds: float) -> None:
        """Pause this process, so a human can follow."""
        time.sleep(seconds)

    def pid_of(self, name: str) -> int:
        """The pid of another process of this run, by its scenario name (a traced
        command's: the strace running it; its program is that process's child)."""
        names = [p.name for p in self.scenario.processes]
        if name not in names or self.scenario.pids is None:
            raise ScenarioError(
                _("no process named {name!r} in scenario {id}").format(
                    name=name, id=self.scenario.id
                )
            )
        return self.scenario.pids.get(names.index(name))

    def wait_for_wchan(self, pid: int, want: str | tuple[str, ...], seconds: float = 10.0) -> str:
        """Wait until the kernel has ``pid`` asleep at a wait point containing ``want`` (or
        any of several: kernels name some waits differently) (``/proc/PID/wchan``, e.g.
        ``pipe_write``); returns the last wait point seen."""
        wants = (want,) if isinstance(want, str) else want
        deadline = time.monotonic() + seconds
        wchan = ""
        tracer.awaiting(pid)  # step mode: the gate goes on without this process meanwhile
        try:
            while time.monotonic() < deadline:
                try:
                    with open(f"/proc/{pid}/wchan", "rb") as f:
                        wchan = f.read().decode("ascii", "replace").strip()
                except OSError:
                    return wchan
                if any(w in wchan for w in wants):
                    return wchan
                time.sleep(0.005)
            return wchan
        finally:
            tracer.awaiting(0)


@dataclass(frozen=True)
class Undecided:
    """What a check returns when this run cannot show whether its claim holds (a worker
    it counts on was killed before it finished): a ✗ there would accuse a correct program.

    The engine says so itself for a check that fails after a kill; a check returns this to
    say why in its own words."""

    detail: str
    detail_ko: str = ""


@dataclass
class Run:
    """What checks see once every process has ended."""

    params: dict[str, Any]
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    exits: dict[str, dict[str, Any]] = field(default_factory=dict)
    state: Any = None  # ipcviz.model.state.State: the model after the last event
    counts: dict[str, int] = field(default_factory=dict)  # events per kind
    #: workers the user killed (``k``) before they ended by themselves, in kill order:
    #: what they did not do, the run cannot show. (Not those the deadlock watcher killed:
    #: only a program that deadlocked is killed so, and its checks may say it failed.)
    killed: list[str] = field(default_factory=list)

    def report(self, proc: str, key: str, default: Any = None) -> Any:
        return self.reports.get(proc, {}).get(key, default)


class Scenario:
    """Declare objects, processes, steps and checks; the engine does the rest."""

    def __init__(
        self,
        id: str,
        title: str,
        teaches: Sequence[str] = (),
        description: str = "",
        params: dict[str, Any] | None = None,
        quick: dict[str, Any] | None = None,
        timeout: float = 60.0,
        schedule: str | Callable[[dict[str, Any]], str] | None = None,
        limits: dict[str, tuple[float, float]] | None = None,
        title_ko: str = "",
        description_ko: str = "",
    ) -> None:
        bad = [t for t in teaches if t not in T_IDS]
        if bad:
            raise ScenarioError(
                _("scenario {id}: unknown teaching points {bad} (T1..T35)").format(id=id, bad=bad)
            )
        self.id = id
        self.title = title
        self.teaches = tuple(teaches)
        self.description = description
        #: the title and description in Korean, the author's as steps are (empty: English)
        self.title_ko = title_ko
        self.description_ko = description_ko
        self.params = dict(params or {})
        self.quick = dict(quick or {})
        #: ``--set`` range of a numeric setting, ``(lowest, highest)`` inclusive; its type
        #: is its default's (``ipcviz.scenario.settings``). ``(v, v)``: read when the
        #: scenario is declared, so it cannot change for one run.
        self.limits = dict(limits or {})
        undeclared = sorted(set(self.limits) - set(self.params) - set(self.quick))
        if undeclared:
            raise ScenarioError(
                _("scenario {id}: limits for unknown settings {undeclared}").format(
                    id=id, undeclared=undeclared
                )
            )
        self.timeout = timeout
        #: The interleaving that makes the scenario's race or deadlock happen on every run
        #: (``--schedule`` syntax; a function of the settings if it depends on them). Used
        #: when the run is given neither ``--schedule`` nor ``--seed``.
        self.schedule = schedule
        self.objects: list[KernelObject] = []
        self.processes: list[Process] = []
        self.steps: list[Step] = []
        self.checks: list[Check] = []
        self.source = ""  # file the scenario was loaded from
        self.pids: PidTable | None = None  # set by the engine before it forks the workers

    # -- objects -----------------------------------------------------------------------

    def add(self, obj: ObjT) -> ObjT:
        """Declare any kernel object (the helpers below call this).

        Called inside a running process (the lecture's ``pipe(); fork();``), the object is
        made there and then, declared to the engine through the ring, and removed at the
        end of the run like the others.
        """
        if current.in_worker():
            return current.make_object(obj)
        if any(o.name == obj.name for o in self.objects):
            raise ScenarioError(
                _("scenario {id}: two objects named {name!r}").format(id=self.id, name=obj.name)
            )
        obj.index = len(self.objects)
        self.objects.append(obj)
        self._one_variable_each()
        return obj

    def pipe(
        self,
        name: str,
        writer: str | list[str] | None = None,
        reader: str | list[str] | None = None,
    ) -> Pipe:
        return self.add(Pipe(name, writer=writer, reader=reader))

    def shared_memory(self, name: str, cells: Cells = 16) -> SharedMemory:
        return self.add(SharedMemory(name, cells=cells))

    def semaphore(self, name: str, value: int = 1) -> Semaphore:
        return self.add(Semaphore(name, value=value))

    def fifo(self, name: str) -> Fifo:
        """A named pipe in the session's private directory; workers open it by path."""
        return self.add(Fifo(name))

    def posix_queue(
        self, name: str, max_messages: int = 10, max_message_size: int = 1024
    ) -> PosixQueue:
        return self.add(PosixQueue(name, max_messages, max_message_size))

    def sysv_queue(self, name: str, max_message_size: int = 8192) -> SysvQueue:
        return self.add(SysvQueue(name, max_message_size))

    def sysv_semaphore(self, name: str, value: int = 1, undo: bool = False) -> SysvSemaphore:
        """``undo``: SEM_UNDO, the kernel gives back what a dying process still holds."""
        return self.add(SysvSemaphore(name, value=value, undo=undo))

    def sysv_semaphore_set(
        self,
        name: str,
        values: Sequence[int],
        undo: bool = False,
        names: Sequence[str] | None = None,
    ) -> SysvSemaphoreSet:
        """Several System V semaphores of one semget (``values``: one each); a worker takes
        several in one semop, all or none at one instant: ``with forks.take(i, j):``,
        ``forks.op({i: -1, j: -1})``. Each is an object of its own, ``names[i]`` (default
        ``NAME-i``), used alone like ``sysv_semaphore`` (``forks[i].wait()``)."""
        group = SysvSemaphoreSet(name, values, undo=undo, names=names)
        for member in group.members:
            self.add(member)
        return group

    def sysv_shared_memory(self, name: str, cells: Cells = 16) -> SysvSharedMemory:
        """System V shared memory (shmget + shmat): the same cells as ``shared_memory``."""
        return self.add(SysvSharedMemory(name, cells=cells))

    def mapped_file(self, name: str, cells: Cells = 16) -> MappedFile:
        """A file in the session's private directory, mapped with MAP_SHARED: the same
        cells as ``shared_memory``, backed by a regular file."""
        return self.add(MappedFile(name, cells=cells))

    # -- processes, steps, checks -----------------------------------------------------

    def process(self, name: str, count: int = 1) -> Callable[[Callable], Callable]:
        """Decorator: run the function in its own process (``count`` copies: name1, name2…)."""

        def register(fn: Callable[[Context], Any]) -> Callable[[Context], Any]:
            names = [name] if count == 1 else [f"{name}{i}" for i in range(1, count + 1)]
            for i, n in enumerate(names):
                self._add_process(Process(n, fn, i))
            return fn

        return register

    def command(
        self, name: str, argv: Sequence[str], trace: bool = True, step: str | None = None
    ) -> None:
        """Run an ordinary program, seen through strace: its system calls on pipes it makes
        and on the scenario's FIFOs and System V queues are operations like the Python
        workers' (``$IPCVIZ_<NAME>`` gives it an object's path or id). ``trace=False``, or
        where strace cannot run: the kernel probes alone see it (its pipes' fill level).
        ``step``: a narration step (declared before) said for it as it starts: a program
        cannot call ``ctx.step``. Presenter mode cannot hold a program there."""
        ok = isinstance(argv, (list, tuple)) and all(isinstance(a, str) for a in argv)
        if not ok or not argv or not argv[0] or any("\0" in a for a in argv):
            raise ScenarioError(
                _(
                    "command {name!r}: argv must be a list of strings, the program first "
                    "(no NUL character): {argv}"
                ).format(name=name, argv=safe_text(repr(argv), 80))
            )
        if step is not None:
            self.step_index(step)  # a step not declared (yet) is an error here, not later
        self._add_process(Process(name, None, 0, tuple(argv), trace, step))
        self._one_variable_each()

    def _one_variable_each(self) -> None:
        """A command finds each object in ``$IPCVIZ_<NAME>`` (``_KEY`` too, System V):
        two objects one variable would name (``to-wc`` and ``to_wc``, ``log`` and ``LOG``)
        would leave it the last one, silently. Refused once a command may read them."""
        if not any(p.argv is not None for p in self.processes):
            return
        seen: dict[str, str] = {}
        for obj in self.objects:
            for variable in obj.environment():
                other = seen.setdefault(variable, obj.name)
                if other != obj.name:
                    raise ScenarioError(
                        _(
                            "scenario {id}: objects {a!r} and {b!r} are both ${variable} "
                            "for its commands: rename one"
                        ).format(id=self.id, a=other, b=obj.name, variable=variable)
                    )

    def _add_process(self, proc: Process) -> None:
        if not NAME_RE.match(proc.name):
            raise ScenarioError(
                _("process name {name!r}: letters, digits, - or _ (max 32)").format(name=proc.name)
            )
        if any(p.name == proc.name for p in self.processes):
            raise ScenarioError(
                _("scenario {id}: two processes named {name!r}").format(id=self.id, name=proc.name)
            )
        self.processes.append(proc)

    def step(
        self, id: str, en: str, ko: str = "", teaches: Iterable[str] = (), probe: bool = False
    ) -> Step:
        """``probe``: the kernel is probed exactly when this step is narrated (see Step)."""
        step = Step(id, en, ko, tuple(teaches), probe)
        self.steps.append(step)
        return step

    def step_index(self, step_id: str) -> int:
        for i, s in enumerate(self.steps):
            if s.id == step_id:
                return i
        raise ScenarioError(
            _("scenario {id}: no narration step {step_id!r}").format(id=self.id, step_id=step_id)
        )

    def check(self, description: str, ko: str = "") -> Callable[[Callable], Callable]:
        """Decorator: a claim checked at the end; ``ko``: its description in Korean."""

        def register(fn: Callable[[Run], Any]) -> Callable[[Run], Any]:
            self.checks.append(Check(description, fn, ko))
            return fn

        return register

    # -- description -------------------------------------------------------------------

    def settings(self, quick: bool = False) -> dict[str, Any]:
        return {**self.params, **(self.quick if quick else {})}

    def schedule_for(self, params: dict[str, Any]) -> str | None:
        """The declared schedule for these settings (None: the run is free from the start)."""
        if callable(self.schedule):
            return self.schedule(params)
        return self.schedule

    def title_in(self, lang: str = "en") -> str:
        return self.title_ko if lang == "ko" and self.title_ko else self.title

    def description_in(self, lang: str = "en") -> str:
        return self.description_ko if lang == "ko" and self.description_ko else self.description

    def metadata(self) -> dict[str, Any]:
        """Everything a viewer needs without importing the scenario (goes into the trace header)."""
        return {
            "id": self.id,
            "title": self.title,
            "title_ko": self.title_ko,
            "teaches": list(self.teaches),
            "description": self.description,
            "description_ko": self.description_ko,
            "steps": [
                {"id": s.id, "en": s.en, "ko": s.ko, "teaches": list(s.teaches)} for s in self.steps
            ],
            "processes": [p.name for p in self.processes],
            "checks": [c.description for c in self.checks],
            "checks_ko": [c.ko for c in self.checks],  # parallel to "checks"; "" : none
            "source": self.source,
        }
