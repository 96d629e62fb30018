"""The engine's periodic kernel prober: the kernel's own view of every object and process.

Several times a second, while workers run, it asks the kernel (read-only, see
``ipcviz.probe``) what each object holds and what each worker is doing, records that as
``probe.*`` events (so replay shows them), compares the kernel with the model
(``ipcviz.engine.drift``), and finds the pipes of uninstrumented commands (``auto-<inode>``).
It runs inside the single-threaded engine loop, so every step is cheap: no subprocess, no
process_iter, fds found once and re-verified by inode.

Besides the periodic sweep, a *snapshot* (a ``probe.snapshot`` event saying why, then the
same probes) is taken at the moments a viewer looks closely: each narration step, a freeze,
step mode pausing the run for the user and each step the user makes there (once the world
has settled again), and the end of the run before the objects are removed. A narration
step is probed when its event is published (the process may have moved on a little), or,
in presenter mode and for steps declared with ``probe=True``, while its process waits at
its gate: exactly where the narration speaks.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ipcviz import probe
from ipcviz.engine.drift import DriftDetector
from ipcviz.ipc.base import KernelObject
from ipcviz.mechanisms import registry
from ipcviz.mechanisms.base import Key

#: Seconds between two sweeps (several times a second).
INTERVAL = 0.2
#: Largest number of payload bytes one probe event carries (pipe contents, queue messages).
DATA_CAP = 4096
#: After a user's step in step mode, how long to wait for the world to settle (seconds):
#: a process that neither reaches its gate nor blocks is probed as it is after this.
SETTLE_LIMIT = 1.0


def sweep_interval() -> float:
    """Seconds between sweeps: ``INTERVAL``, or ``$IPCVIZ_PROBE_INTERVAL`` (0 = no periodic
    sweep, only the snapshots: a trace whose probes are all at known moments)."""
    text = os.environ.get("IPCVIZ_PROBE_INTERVAL", "")
    try:
        value = float(text) if text else INTERVAL
    except ValueError:
        return INTERVAL
    return value if value >= 0 and value == value else INTERVAL


class Prober:
    """Install with ``Prober(engine).install()`` once the workers are forked.

    What to probe and how to compare it is each mechanism's (``registry.kernel(type)``);
    the prober keeps the moments, the per-run caches and the kernel keys of every object.
    """

    DATA_CAP = DATA_CAP

    def __init__(self, engine: Any, interval: float | None = None) -> None:
        self.engine = engine
        self.interval = sweep_interval() if interval is None else interval
        self.sampler = probe.ProcSampler()
        self.drift = DriftDetector(lambda kind, **f: engine.emit(kind, **f))
        self.objects: list[KernelObject] = list(engine.scenario.objects)
        #: kernel key (as a blocked syscall names it) → object name
        self.by_key: dict[Key, str] = {}
        self.inodes: dict[str, int] = {}  # pipe or FIFO name → its inode
        #: mechanisms' own per-run caches (e.g. where each process maps a segment)
        self.cache: dict[str, Any] = {}
        self.holder: dict[str, tuple[int, int]] = {}  # obj → (pid, fd) last used to peek
        self.discovered: dict[int, str] = {}  # inode → auto object name
        self.skip_inodes: set[int] = set()  # the workers' own stdout pipes to the engine
        self.sweeps = 0
        self.snapshots = 0
        self._step_of: dict[int, str] = {}  # pid → the narration step it announced last
        #: (why, fields, when): snapshots to take once the world has settled (a user's
        #: step, step mode turned on, a narration held for the presenter)
        self._pending: list[tuple[str, dict[str, Any], float]] = []
        for obj in self.objects:
            self._index(obj)

    def map_moves(self, pid: int) -> int:
        """How many times ``pid`` is known to have mapped or unmapped memory (0: nothing
        tells; a scenario's workers map their segments once). A mechanism's cached
        reading of /proc/PID/maps is read again when this changes."""
        return 0

    def _index(self, obj: KernelObject) -> None:
        side = registry.kernel(obj.type)
        for key in side.keys(obj) if side is not None else ():
            self.by_key[key] = obj.name
            if key[0] == "inode":
                self.inodes[obj.name] = key[1]

    def install(self) -> Prober:
        for w in self.engine.workers.values():
            if w.out_fd >= 0:
                try:
                    self.skip_inodes.add(os.fstat(w.out_fd).st_ino)
                except OSError:
                    pass
        if self.interval > 0:
            self.engine.add_periodic(self.interval, self.sweep)
        self.engine.add_periodic(0.0, self._settled_after_step)
        # First in line: a narrate event is seen before the Gate handles the gate.wait
        # that follows it (possibly in the same batch).
        self.engine.on_events.insert(0, self._on_events)
        self.engine.on_end.append(self._at_end)
        self.engine.gate.on_narration.append(self._at_narration)
        if self.engine.gate.step_mode:  # --step: paused before this prober was installed
            self._paused()
        return self

    # -- one sweep -----------------------------------------------------------------------

    def sweep(self) -> None:
        """Probe every live worker, then every object; then compare with the model."""
        live = [w for w in self.engine.workers.values() if not w.exited]
        if not live:
            return
        self.sweeps += 1
        self._probe_all(live)

    def snapshot(self, why: str, **info: Any) -> None:
        """A probe of everything now, announced by ``probe.snapshot`` (why, and where)."""
        live = [w for w in self.engine.workers.values() if not w.exited]
        self.snapshots += 1
        self.engine.emit("probe.snapshot", why=why, **info)
        # Not compared with the model: drift needs two quiet probes an interval apart, so an
        # operation whose record is still in flight is never taken for drift (a snapshot
        # often follows a periodic sweep by a few ms, right after that operation).
        self._probe_all(live, compare=False)

    def _probe_all(self, live: list[Any], compare: bool = True) -> None:
        blocked: dict[int, str | None] = {}
        started = self.engine.model.procs
        for w in live:
            if w.pid not in started:
                # a child adopted before its ring was read: its ``proc.start`` (that ring's
                # first record) is not published yet, and a reading published at once, with
                # nothing else in the pool, named a process the trace never started
                # (``verify``: 1 of 40 seeded forking runs beside a busy loop)
                continue
            blocked[w.pid] = self._probe_proc(w.pid)
        for w in live:
            if w.proc.argv is not None:
                for discover in self._discoverers():
                    discover(self, w.pid)
        for obj in self.objects:
            kernel = self._probe_object(obj)
            if kernel is not None and compare:
                self._compare(obj, kernel, blocked)

    def _discoverers(self) -> list[Any]:
        found = self.cache.get("discoverers")
        if found is None:
            sides = (registry.kernel(t) for t in registry.TYPES)
            found = self.cache["discoverers"] = [s.discover for s in sides if s and s.discover]
        return found

    # -- the moments that matter ------------------------------------------------------------

    def _on_events(self, events: list[dict[str, Any]]) -> None:
        for e in events:
            kind = e["kind"]
            if kind == "narrate":
                pid = e["pid"]
                self._step_of[pid] = str(e.get("step"))
                if not self._will_wait(pid, e.get("step")):  # else: at its gate.wait
                    self.snapshot("narrate", step=e.get("step"), by=pid)
            elif kind == "control" and e.get("action") == "freeze":
                self.snapshot("freeze")
            elif kind == "gate.step" and e.get("by") in ("user", "random"):
                self._pending.append(("step", {"by": e["pid"]}, time.monotonic()))
            elif kind == "control" and e.get("action") == "step_mode" and e.get("on"):
                self._paused()

    def _will_wait(self, pid: int, step: Any) -> bool:
        """True when this narration's process waits at its gate for the probe."""
        w = self.engine.workers.get(pid)
        if w is None or w.ring is None or w.gate_w < 0:
            return False
        declared = next((s for s in self.engine.scenario.steps if s.id == step), None)
        return self.engine.gate.present or (declared is not None and declared.probe)

    def _paused(self) -> None:
        """Step mode paused the run for the user: probe once the world stands still."""
        if not self.engine.gate.auto:
            self._pending.append(("pause", {}, time.monotonic()))

    def _at_narration(self, gate_wait: dict[str, Any]) -> None:
        """A narration step's process waits at its gate: the kernel as the narration speaks.

        Held for the presenter, every gate is closed: the others stop before their next
        operation, so the snapshot waits until they did (the narrator waits anyway)."""
        pid = gate_wait["pid"]
        fields = {"step": self._step_of.get(pid), "by": pid}
        if self.engine.gate.present:
            self._pending.append(("narrate", fields, time.monotonic()))
        else:
            self.snapshot("narrate", **fields)

    def _settled_after_step(self) -> None:
        """After a user's step, or once step mode paused the run: probe when the world has
        settled (every process at its gate, asleep in the kernel, or gone)."""
        if not self._pending:
            return
        since = self._pending[0][2]
        if self.engine.gate._settled() == "soon" and time.monotonic() - since < SETTLE_LIMIT:
            return
        pending, self._pending = self._pending, []
        gate = self.engine.gate
        if gate.step_mode or gate.present:
            # Nothing is held back in these modes: publish what the rings hold now, so the
            # model has every record the settled kernel state already reflects.
            self.engine._drain()
        for why, fields, _ in pending:  # (the same moment: one snapshot each, as announced)
            self.snapshot(why, **fields)

    def _at_end(self) -> None:
        """Every process is gone, the objects not yet removed: their final state."""
        self.snapshot("end")

    def blocked_name(self, target: probe.BlockTarget | None) -> str | None:
        """The scenario object a BlockTarget designates, or None."""
        if target is None:
            return None
        keys = target_keys(target)
        if target.kind == "fd" and target.inode is not None and target.inode in self.discovered:
            keys.insert(1, ("discovered", target.inode))
        for key in keys:
            name = self.discovered.get(key[1]) if key[0] == "discovered" else self.by_key.get(key)
            if name is not None:
                return name
        return None

    def _probe_proc(self, pid: int) -> str | None:
        stats = self.sampler.sample(pid)
        info = probe.blocked_on(pid)
        if stats is None and info is None:
            return None
        name = None if info is None else self.blocked_name(info.target)
        if info is not None and info.stopped:
            name = None
        self.engine.emit(
            "probe.proc",
            pid,
            state=stats.status if stats else "gone",
            cpu_percent=round(stats.cpu_percent, 1) if stats else 0.0,
            cpu_num=stats.cpu_num if stats else -1,
            rss=stats.rss if stats else 0,
            wchan=info.wchan if info else "",
            syscall=info.syscall if info else None,
            blocked_on=name,
        )
        return name

    # -- objects ---------------------------------------------------------------------------

    def _probe_object(self, obj: KernelObject) -> dict[str, Any] | None:
        mech, side = registry.get(obj.type), registry.kernel(obj.type)
        if mech is None or side is None:
            return None
        found = side.probe(self, obj)
        if found is None:
            return None
        fields, private = found
        self.engine.emit(mech.probe_kind, obj=obj.name, **fields)
        return {**fields, **private} if private else fields

    # -- drift -------------------------------------------------------------------------------

    def _compare(
        self, obj: KernelObject, k: dict[str, Any], blocked: dict[int, str | None]
    ) -> None:
        model = self.engine.model
        m = model.objects.get(obj.name)
        if m is None or not getattr(obj, "traced", True):
            return  # ``obj.traced = False``: used raw on purpose (speed runs), the model is blind
        mech, side = registry.get(obj.type), registry.kernel(obj.type)
        if mech is None or side is None:
            return
        waits = mech.family.quiet_waits
        in_flight = []
        quiet = True
        for p in model.procs.values():
            if p.alive and p.on == obj.name:
                in_flight.append((p.pid, p.op))
                if p.op not in waits or blocked.get(p.pid) != obj.name:
                    quiet = False
        compared = side.compare(m, k) if isinstance(m, mech.state) else None
        if compared is None:
            return
        sig, pairs = compared
        self.drift.observe(obj.name, quiet, (sig, tuple(in_flight)), pairs)


def target_keys(target: probe.BlockTarget) -> list[Key]:
    """The kernel keys (``KernelSide.keys``) a blocked syscall's target may match."""
    kind = target.kind
    if kind == "fd":
        return [("inode", target.inode), ("mq_name", target.name or "")]
    if kind == "futex":
        return [("sem_name", target.name or "")]
    if kind == "semop":
        return [("semid", target.ipc_id)]
    if kind == "msgq":
        return [("msqid", target.ipc_id)]
    if kind == "fifo_open":
        return [("path", target.path or "")]
    return []
