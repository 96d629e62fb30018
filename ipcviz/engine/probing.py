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

import psutil

from ipcviz import probe
from ipcviz.engine.drift import DriftDetector
from ipcviz.events import schema
from ipcviz.events.codec import b64
from ipcviz.ipc.base import KernelObject
from ipcviz.ipc.fifo import Fifo
from ipcviz.ipc.pipe import Pipe
from ipcviz.ipc.posix_mq import PosixQueue
from ipcviz.ipc.posix_sem import Semaphore
from ipcviz.ipc.shm import SharedMemory
from ipcviz.ipc.sysv_mq import SysvQueue
from ipcviz.ipc.sysv_sem import SysvSemaphore
from ipcviz.model.state import PipeObj, QueueObj, SemObj, ShmObj

#: Seconds between two sweeps (several times a second).
INTERVAL = 0.2
#: How often a process's shared-memory mapping addresses are re-read (seconds).
MAPS_EVERY = 1.0
#: Largest number of payload bytes one probe event carries (pipe contents, queue messages).
DATA_CAP = 4096
#: After a user's step in step mode, how long to wait for the world to settle (seconds):
#: a process that neither reaches its gate nor blocks is probed as it is after this.
SETTLE_LIMIT = 1.0
#: Operations that, when the kernel shows the process asleep in them, leave the object quiet.
_QUIET_WAITS = {
    "pipe": {"pipe.read", "pipe.open"},
    "fifo": {"pipe.read", "pipe.open"},
    "posix_mq": {"mq.send", "mq.recv"},
    "sysv_mq": {"mq.send", "mq.recv"},
    "posix_sem": {"sem.wait"},
    "sysv_sem": {"sem.wait"},
}


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
    """Install with ``Prober(engine).install()`` once the workers are forked."""

    def __init__(self, engine: Any, interval: float | None = None) -> None:
        self.engine = engine
        self.interval = sweep_interval() if interval is None else interval
        self.sampler = probe.ProcSampler()
        self.drift = DriftDetector(lambda kind, **f: engine.emit(kind, **f))
        self.objects: list[KernelObject] = list(engine.scenario.objects)
        self.by_inode: dict[int, str] = {}
        self.by_path: dict[str, str] = {}
        self.by_mq_name: dict[str, str] = {}
        self.by_sem_name: dict[str, str] = {}
        self.by_sysv_mq: dict[int, str] = {}
        self.by_sysv_sem: dict[int, str] = {}
        self.inodes: dict[str, int] = {}
        self._maps: dict[int, tuple[float, dict[str, int]]] = {}  # pid → (when, segments)
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

    def _index(self, obj: KernelObject) -> None:
        if isinstance(obj, Fifo):
            self.inodes[obj.name] = obj.inode
            self.by_inode[obj.inode] = obj.name
            self.by_path[obj.path] = obj.name
        elif isinstance(obj, Pipe) and obj.kernel_name.startswith("pipe:["):
            ino = int(obj.kernel_name[6:-1])
            self.inodes[obj.name] = ino
            self.by_inode[ino] = obj.name
        elif isinstance(obj, PosixQueue):
            self.by_mq_name[obj.kernel_name] = obj.name
        elif isinstance(obj, Semaphore):
            self.by_sem_name[obj.kernel_name] = obj.name
        elif isinstance(obj, SysvQueue):
            self.by_sysv_mq[obj.id] = obj.name
        elif isinstance(obj, SysvSemaphore):
            self.by_sysv_sem[obj.id] = obj.name

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
        for w in live:
            blocked[w.pid] = self._probe_proc(w.pid)
        for w in live:
            if w.proc.argv is not None:
                self._discover(w.pid)
        for obj in self.objects:
            kernel = self._probe_object(obj)
            if kernel is not None and compare:
                self._compare(obj, kernel, blocked)

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
        kind = target.kind
        if kind == "fd":
            if target.inode is not None and target.inode in self.by_inode:
                return self.by_inode[target.inode]
            if target.inode is not None and target.inode in self.discovered:
                return self.discovered[target.inode]
            return self.by_mq_name.get(target.name or "")
        if kind == "futex":
            return self.by_sem_name.get(target.name or "")
        if kind == "sysv_sem":
            return self.by_sysv_sem.get(target.ipc_id)  # type: ignore[arg-type]
        if kind == "sysv_mq":
            return self.by_sysv_mq.get(target.ipc_id)  # type: ignore[arg-type]
        if kind == "fifo_open":
            return self.by_path.get(target.path or "")
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
        name = obj.name
        if isinstance(obj, Pipe):
            peek = self._peek(obj)
            if peek is None:
                return None
            fields = {
                "nbytes": peek.nbytes,
                "capacity": peek.capacity,
                "data": b64(peek.data),
            }
        elif isinstance(obj, PosixQueue):
            if obj.mq is None:
                return None
            try:
                cur = obj.current_messages()
            except Exception:
                return None
            fields = {
                "current_messages": cur,
                "max_messages": obj.max_messages,
                "max_message_size": obj.max_message_size,
            }
        elif isinstance(obj, SysvQueue):
            st = probe.sysv_mq_stat(obj.id)
            if st is None:
                return None
            msgs = probe.sysv_mq_peek(obj.id, limit=64) or []
            budget, shown = DATA_CAP, []
            for mtype, data in msgs:
                shown.append([mtype, b64(data[:budget])])
                budget = max(0, budget - len(data))
            fields = {
                "qnum": st.qnum,
                "cbytes": st.cbytes,
                "qbytes": st.qbytes,
                "lspid": st.lspid,
                "lrpid": st.lrpid,
                "stime": st.stime,
                "rtime": st.rtime,
                "messages": shown,
            }
        elif isinstance(obj, Semaphore):
            st = probe.posix_sem_stat(obj.kernel_name)
            if st is None:
                return None
            fields = {"value": st.value, "waiters": st.waiters}
        elif isinstance(obj, SysvSemaphore):
            st = probe.sysv_sem_stat(obj.id)
            if st is None:
                return None
            fields = {
                "value": st.value,
                "waiters": st.ncnt,
                "zcnt": st.zcnt,
                "last_pid": st.last_pid,
            }
        elif isinstance(obj, SharedMemory):
            data = probe.read_shm(obj.kernel_name, 0, min(obj.size, DATA_CAP))
            if data is None:
                return None
            # Where each live process maps the segment (T28: the addresses differ).
            bare = obj.kernel_name.lstrip("/")
            addresses = {
                str(pid): segments[bare]
                for pid, proc in self.engine.model.procs.items()
                if proc.alive and bare in (segments := self._shm_maps(pid))
            }
            fields = {"data": b64(data), "size": obj.size, "addresses": addresses}
        else:
            return None
        kind = {
            "pipe": "probe.pipe",
            "fifo": "probe.pipe",
            "posix_mq": "probe.posix_mq",
            "sysv_mq": "probe.sysv_mq",
            "posix_sem": "probe.sem",
            "sysv_sem": "probe.sem",
            "posix_shm": "probe.shm",
        }[obj.type]
        self.engine.emit(kind, obj=name, **fields)
        if isinstance(obj, SharedMemory):
            fields["raw"] = data
        return fields

    def _shm_maps(self, pid: int) -> dict[str, int]:
        """The /dev/shm segments ``pid`` maps, re-read at most every ``MAPS_EVERY`` seconds:
        parsing /proc/PID/maps is the dearest probe, and a mapping rarely moves."""
        now = time.monotonic()
        cached = self._maps.get(pid)
        if cached is None or now - cached[0] > MAPS_EVERY:
            cached = self._maps[pid] = (now, probe.shm_addresses(pid) or {})
        return cached[1]

    def _candidates(self, obj: Pipe) -> list[tuple[int, int]]:
        """(pid, fd) pairs that may hold an end of this pipe, readers first."""
        model = self.engine.model.objects.get(obj.name)
        if not isinstance(model, PipeObj):
            return []
        procs = self.engine.model.procs
        out: list[tuple[int, int]] = []
        if isinstance(obj, Fifo):  # opened by path: fd numbers differ per process
            for pid in [*sorted(model.readers), *sorted(model.writers)]:
                if pid in procs and procs[pid].alive:
                    out.extend((pid, fd) for fd in _fds_with_inode(pid, self.inodes[obj.name]))
            return out
        for pid in sorted(model.readers):
            if pid in procs and procs[pid].alive:
                out.append((pid, obj.read_fd))
        for pid in sorted(model.writers):
            if pid in procs and procs[pid].alive:
                out.append((pid, obj.write_fd))
        return out

    def _peek(self, obj: Pipe) -> probe.PipePeek | None:
        ino = self.inodes.get(obj.name)
        if ino is None:
            return None
        cached = self.holder.get(obj.name)
        tries = [cached] if cached else []
        for pid_fd in [*tries, None]:
            if pid_fd is None:
                found = next(
                    (c for c in self._candidates(obj) if probe.pipe_inode(*c) == ino), None
                )
                if found is None:
                    self.holder.pop(obj.name, None)
                    return None
                pid_fd = found
            elif probe.pipe_inode(*pid_fd) != ino:
                continue
            peek = probe.peek_pipe(pid_fd[0], pid_fd[1], DATA_CAP)
            if peek is not None:
                self.holder[obj.name] = pid_fd
                return peek
        return None

    # -- uninstrumented commands -------------------------------------------------------------

    def _discover(self, pid: int) -> None:
        """Pipes held by a command's process group: declared once, probed every sweep."""
        try:
            pids = [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
        except psutil.Error:
            return
        for ino, ends in probe.find_pipes(pids).items():
            if ino in self.skip_inodes or ino in self.by_inode:
                continue
            name = self.discovered.get(ino)
            if name is None:
                name = f"auto-{ino}"
                self.discovered[ino] = name
                self.engine.emit(
                    schema.OBJ_DECLARE,
                    obj=name,
                    type="pipe",
                    kernel_name=f"pipe:[{ino}]" if ends.path is None else ends.path,
                    discovered=True,
                    readers=[_comm(p) for p, _ in ends.readers],
                    writers=[_comm(p) for p, _ in ends.writers],
                )
            holder = (ends.readers or ends.writers)[0]
            peek = probe.peek_pipe(holder[0], holder[1], DATA_CAP)
            if peek is None:
                continue
            holders = {p for p, _ in [*ends.readers, *ends.writers]}
            self.engine.emit(
                "probe.pipe",
                obj=name,
                nbytes=peek.nbytes,
                capacity=peek.capacity,
                data=b64(peek.data),
                readers=[list(x) for x in ends.readers],
                writers=[list(x) for x in ends.writers],
                names={str(p): _comm_name(p) for p in sorted(holders)},
            )

    # -- drift -------------------------------------------------------------------------------

    def _compare(
        self, obj: KernelObject, k: dict[str, Any], blocked: dict[int, str | None]
    ) -> None:
        model = self.engine.model
        m = model.objects.get(obj.name)
        if m is None or not getattr(obj, "traced", True):
            return  # ``obj.traced = False``: used raw on purpose (speed runs), the model is blind
        waits = _QUIET_WAITS.get(obj.type, set())
        in_flight = []
        quiet = True
        for p in model.procs.values():
            if p.alive and p.on == obj.name:
                in_flight.append((p.pid, p.op))
                if p.op not in waits or blocked.get(p.pid) != obj.name:
                    quiet = False
        pairs: list[tuple[str, Any, Any]]
        if isinstance(m, PipeObj):
            sig: tuple[Any, ...] = (m.written, m.read, m.nbytes, m.deficit)
            pairs = [("nbytes", m.nbytes - m.deficit, k["nbytes"])]
        elif isinstance(m, QueueObj):
            count = len(m.messages) - len(m.early)
            nbytes = m.nbytes - sum(len(x[1]) for x in m.early)
            sig = (m.sent, m.received, count, nbytes)
            if obj.type == "posix_mq":
                pairs = [("current_messages", count, k["current_messages"])]
            else:
                pairs = [("qnum", count, k["qnum"]), ("cbytes", nbytes, k["cbytes"])]
        elif isinstance(m, SemObj):
            sig = (m.waits, m.posts, m.value, len(m.waiters))
            pairs = [("value", m.value, k["value"]), ("waiters", len(m.waiters), k["waiters"])]
        elif isinstance(m, ShmObj):
            sig = (m.writes,)
            raw = k["raw"]
            pairs = []
            for i in range(min(len(raw), len(m.data)) // m.cell_size):
                a, b = i * m.cell_size, (i + 1) * m.cell_size
                if raw[a:b] != bytes(m.data[a:b]):
                    pairs = [
                        (
                            f"cell[{i}]",
                            int.from_bytes(m.data[a:b], "little", signed=True),
                            int.from_bytes(raw[a:b], "little", signed=True),
                        )
                    ]
                    break
        else:
            return
        self.drift.observe(obj.name, quiet, (sig, tuple(in_flight)), pairs)


def _fds_with_inode(pid: int, ino: int) -> list[int]:
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return []
    return [int(n) for n in names if probe.pipe_inode(pid, int(n)) == ino]


def _comm_name(pid: int) -> str:
    """The command name of ``pid`` (``seq``, ``grep``), or "" if it is gone."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f"{f.read().strip()}[{pid}]"
    except OSError:
        return str(pid)
