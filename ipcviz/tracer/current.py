"""The tracer of *this* process. Wrappers call ``current.tracer.emit``.

Outside a worker (or with tracing off, for baselines) it is a no-op, so scenario code runs
the same with or without ipcviz watching.

Inside a worker, three things may happen after start that a ring of its own cannot show
by itself, and each is handled here so that nothing is lost silently:

- the worker forks (``os.fork``, ``ctx.fork``, multiprocessing with fork): the child gets
  a ring of its own (made before fork, so both sides share it) and announces it to the
  engine over the link socket, with a pidfd of itself, before the parent's ``fork()``
  returns; the engine drains it like a worker's (``Engine.adopt_ring``);
- the worker runs threads: each ring's writer takes a lock (``Ring.writer``);
- the worker makes a kernel object (``ctx.pipe()``, ``scenario.pipe()`` called in a worker):
  it takes an index in the shared object table and is declared through the ring.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ipcviz.errors import ScenarioError
from ipcviz.session.registry import NAME_RE, files_dir_name, runtime_dir
from ipcviz.tracer import codes as C
from ipcviz.tracer.ring import AWAITS_OFFSET


def _noop(
    code: int, obj: int, a: int = 0, b: int = 0, payload: bytes = b"", t: int = 0, more: Any = ()
) -> None:
    return None


class Tracer:
    """What a wrapper needs: ``emit`` a record, and pass the step ``gate`` before an operation."""

    __slots__ = ("_flag", "emit", "gate_hook")

    def __init__(self) -> None:
        self.emit: Callable[..., None] = _noop
        self._flag = bytearray(64)  # replaced by the ring's mmap; byte 24 is the gate flag
        self.gate_hook: Callable[[int, int], None] | None = None

    def gate(self, code: int, obj: int) -> None:
        """Free-running this is one byte read; in step mode the engine decides who moves."""
        if self._flag[24] and self.gate_hook is not None:
            self.gate_hook(code, obj)

    def hold(self, code: int, always: bool = False) -> None:
        """Presenter mode: wait at the gate (after a narration step) until the presenter
        continues. The same gate as step mode; the engine keeps it closed until → .
        ``always``: wait in any mode (the engine probes the kernel, then lets it go)."""
        if (always or self._flag[32]) and self.gate_hook is not None:
            self.gate_hook(code, -1)

    def awaiting(self, pid: int) -> None:
        """This process now waits to see ``pid`` asleep in the kernel (0: no more): told
        to the step gate in the ring's header (``ring.AWAITS_OFFSET``), read by no one
        free-running. Without it a seeded run waited for this process to reach its gate
        while it waited for a step of ``pid`` that the gate held back (10 s, then on)."""
        self._flag[AWAITS_OFFSET : AWAITS_OFFSET + 8] = pid.to_bytes(8, "little")

    def attach(self, ring) -> None:  # ring: ipcviz.tracer.ring.Ring
        self.emit = ring.writer()
        self._flag = ring.mm

    def detach(self) -> None:
        self.emit = _noop
        self._flag = bytearray(64)
        self.gate_hook = None


tracer = Tracer()


class _Link:
    """This worker's ties to the engine beyond ``tracer`` (set by ``become_worker``)."""

    def __init__(self) -> None:
        self.pid = 0  # the process these ties belong to (0: not a worker)
        self.name = ""  # its name in the trace: ``w``, ``w/1``, ``w/1/child``…
        self.ring: Any = None  # ipcviz.tracer.ring.Ring, or None (untraced)
        self.sock: socket.socket | None = None  # announces forked children to the engine
        self.sock_ino = 0  # its inode: a descriptor number the scenario reused is not it
        self.table: Any = None  # ipcviz.tracer.objtable.ObjectTable
        self.sid = ""
        self.static: tuple[str, ...] = ()  # the scenario's own object names
        self.gate: tuple[int, int] | None = None  # (gate_r, bell_w) in step-gate mode
        self.children = 0  # forks so far: the default name of the next child
        self.child_name = ""  # set by ctx.fork(name) for the next fork
        self.prepared: Any = None  # made before fork for the child: ring, pipes, name
        self.fork_error = ""
        self.kids_before: str | None = None  # this thread's children before a fork
        #: thread ident → the stamp of its fork under way (``ring.fork_began()`` said,
        #: ``fork_ended()`` not yet): threads may fork at once
        self.holding: dict[int, int] = {}


_me = _Link()


def in_worker() -> bool:
    """True in a worker (or a process a worker forked), false in the engine and elsewhere."""
    return _me.pid != 0 and _me.pid == os.getpid()


def become_worker(
    ring,
    name: str = "",
    link: int = -1,
    table=None,
    sid: str = "",
    static: Sequence[str] = (),
) -> None:
    """Called once in a freshly forked worker: records from here on go to ``ring``."""
    if ring is not None:
        tracer.attach(ring)
    _me.pid = os.getpid()
    _me.name = name
    _me.ring = ring
    _me.sock = socket.socket(fileno=link) if link >= 0 else None
    _me.sock_ino = os.fstat(link).st_ino if link >= 0 else 0
    _me.table = table
    _me.sid = sid
    _me.static = tuple(static)
    _hook_exec()


def set_gate(gate_r: int, bell_w: int) -> None:
    """The step gate of this process (ipcviz/tracer/gate.py), handed on to forked children."""
    _me.gate = (gate_r, bell_w)


# -- exec ----------------------------------------------------------------------------------

#: Called in a worker (or a child it forked) right before it runs another program: exec
#: closes every close-on-exec descriptor, and no record would say so (the new program is
#: not traced). A wrapper registers what it then records (``Pipe``: its ends as closed).
before_exec: list[Callable[[], None]] = []


def _exec_hooked(real: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        if in_worker():
            for hook in before_exec:
                hook()
        return real(*args, **kwargs)

    run.__wrapped__ = real  # type: ignore[attr-defined]
    return run


def _hook_exec() -> None:
    """``os.execv``/``os.execve`` (every ``os.exec*`` ends in one of them) tell the hooks
    first; a worker's children inherit this."""
    for name in ("execv", "execve"):
        fn = getattr(os, name)
        if not hasattr(fn, "__wrapped__"):
            setattr(os, name, _exec_hooked(fn))


# -- fork ----------------------------------------------------------------------------------


def fork(name: str = "") -> int:
    """``os.fork()``, naming the child ``parent/name`` in the trace (default: a number)."""
    if name and not NAME_RE.match(name):
        raise ScenarioError(f"child name {name!r}: letters, digits, - or _ (max 32)")
    _me.child_name = name
    try:
        return os.fork()
    except BlockingIOError as exc:  # EAGAIN: the process limit, most likely
        raise BlockingIOError(
            exc.errno, f"cannot fork: {exc.strerror} (the process limit, ulimit -u?)"
        ) from None
    finally:
        _me.child_name = ""


def _before_fork() -> None:
    """In the parent: make the child's ring (and gate pipe) now, so both sides share it."""
    _me.prepared, _me.fork_error = None, ""
    if not in_worker() or _me.ring is None:
        return
    # until the child is announced (``_after_fork_in_parent``)
    _me.holding[threading.get_ident()] = _me.ring.fork_began()
    from ipcviz.tracer.ring import Ring

    _me.children += 1
    label = _me.child_name or str(_me.children)
    _me.kids_before = _kids()
    made: list[int] = []
    try:
        ring = Ring()
        ring.set_gate_flag(_me.ring.gate_flag())
        ring.set_present_flag(_me.ring.mm[32])
        gate = os.pipe() if _me.gate is not None else None
        made += gate or ()
        sync = os.pipe()
    except OSError as exc:
        for fd in made:
            os.close(fd)
        _me.fork_error = f"cannot make the trace ring of child {label}: {exc.strerror}"
        return
    _me.prepared = (ring, gate, sync, label)


#: Exit code of a child whose tracing could not be set up (EX_SOFTWARE): it never runs.
REFUSED = 70


def _after_fork_in_parent() -> None:
    """Wait until the child has announced its ring: a worker that exits right after fork
    cannot end the run before the engine knows its child (the run waits for every ring)."""
    try:
        _wait_for_announcement()
    finally:
        began = _me.holding.pop(threading.get_ident(), None)
        if began is not None:
            _me.ring.fork_ended(began)


def _wait_for_announcement() -> None:
    prepared, _me.prepared = _me.prepared, None
    if _me.fork_error:
        _refused(_me.fork_error)
        return
    if prepared is None:
        return
    ring, gate, (sync_r, sync_w), label = prepared
    os.close(sync_w)
    try:
        answer = os.read(sync_r, 512)
    except OSError:
        answer = b""
    for fd in (sync_r, *(gate or ())):
        os.close(fd)
    ring.close()
    if answer == b"" and _kids() == _me.kids_before:
        _me.children -= 1
        return  # fork() itself failed (EAGAIN, ENOMEM): no child, and os.fork raises
    if answer != b"k":
        why = answer[1:].decode("utf-8", "replace") if answer else "it ended before it could"
        _refused(f"child {label} was not announced to the engine: {why}")


def _kids() -> str | None:
    """This thread's children (the kernel's list, zombies too): tells a failed fork() from
    a child that died before it could say anything. None if the kernel does not say."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/children", "rb") as f:
            return f.read().decode()
    except OSError:
        return None


def _refused(why: str) -> None:
    """The child exits at once, before any of its own code: nothing it does goes unseen."""
    tracer.emit(
        C.PROC_ERROR,
        -1,
        0,
        0,
        f"ForkNotTraced: {why}; the child exited at once with code {REFUSED}\n".encode(),
    )


def _after_fork_in_child() -> None:
    """In the child: trace into its own ring, tell the engine, then let the parent go on.

    Any failure refuses the fork: the child exits at once (``REFUSED``) and its parent
    records why, so no process ever runs untraced in a traced run."""
    if not _me.pid:
        return
    forked_at = time.monotonic_ns()
    _me.holding = {}  # (the parent's holds, in the parent's ring: the parent ends them)
    prepared, _me.prepared = _me.prepared, None
    if prepared is None and not _me.fork_error:  # an untraced run (benchmark baseline)
        _me.pid, _me.children, _me.child_name = os.getpid(), 0, ""
        return
    if prepared is None:
        os._exit(REFUSED)
    sync_w = prepared[2][1]
    try:
        _start_child(prepared, forked_at)
        answer = b"k"
    except BaseException as exc:  # a fork hook must let nothing out
        text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        answer = b"!" + f"{type(exc).__name__}: {text}".encode("utf-8", "replace")[:400]
    try:
        os.write(sync_w, answer)
        os.close(sync_w)
    except OSError:
        pass
    if answer != b"k":
        os._exit(REFUSED)


def _start_child(prepared, forked_at: int) -> None:
    ring, gate, (sync_r, _sync_w), label = prepared
    if _me.table is not None:
        _me.table.after_fork_in_child()
    parent_ring, old_gate = _me.ring, _me.gate
    _me.pid, _me.children, _me.child_name = os.getpid(), 0, ""
    _me.name = f"{_me.name}/{label}"
    _me.ring, _me.gate = ring, None
    _close(sync_r)
    tracer.detach()
    if parent_ring is not None:
        try:
            parent_ring.close()  # the child must never write its parent's ring
        except (OSError, BufferError):
            pass
    tracer.attach(ring)
    # Its first record: ordered by time with everyone's, after what its parent did before.
    start = {"name": _me.name, "parent": os.getppid()}
    tracer.emit(C.PROC_START, -1, 0, 0, json.dumps(start).encode(), forked_at)
    if gate is not None and old_gate is not None:
        _close(old_gate[0])
        from ipcviz.tracer.gate import install

        install(gate[0], old_gate[1])
    _announce(ring, gate, _me.name, forked_at)
    if gate is not None:
        _close(gate[1])  # the engine holds the write end now


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:  # the scenario closed it already (e.g. a closerange)
        pass


def _announce(ring, gate, name: str, forked_at: int) -> None:
    sock = _me.sock
    if sock is None:
        raise OSError(0, "no link to the engine")
    try:
        same = os.fstat(sock.fileno()).st_ino == _me.sock_ino
    except OSError:
        same = False
    if not same:  # closed by the scenario (its number may even be reused): never write there
        raise OSError(0, "the link to the engine was closed by the process")
    pidfd = os.pidfd_open(os.getpid())
    try:
        fds = [ring.fd, pidfd] + ([gate[1]] if gate is not None else [])
        what = {"pid": os.getpid(), "ppid": os.getppid(), "name": name, "t": forked_at}
        socket.send_fds(sock, [json.dumps(what).encode()], fds)
    finally:
        os.close(pidfd)


os.register_at_fork(
    before=_before_fork,
    after_in_parent=_after_fork_in_parent,
    after_in_child=_after_fork_in_child,
)


# -- objects made after start ----------------------------------------------------------------


class WorkerSession:
    """What ``KernelObject.create`` needs, in a worker: registry entries go to the engine
    through the object table before the object exists (so every exit path removes it)."""

    def __init__(self, sid: str, table) -> None:
        self.sid = sid
        self.table = table

    @property
    def files_dir(self) -> str:
        """The session's private 0700 directory of files (FIFOs, mapped files)."""
        path = runtime_dir() / files_dir_name(self.sid)
        if not path.is_dir():
            self.register({"type": "dir", "path": str(path)})
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
        return str(path)

    fifo_dir = files_dir  # the name before mapped files lived there too

    def register(self, entry: dict[str, Any]) -> dict[str, Any]:
        self.table.append({"reg": entry})
        return entry

    def update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.table.append({"upd": [old, new]})


def make_object(obj):
    """Create ``obj`` now, in this worker, and declare it through the ring."""
    if _me.table is None:
        raise ScenarioError(f"cannot make {obj.name!r} here: no object table (not a worker)")
    obj.index = _me.table.allocate(obj.name, _me.static)
    obj.create(WorkerSession(_me.sid, _me.table))
    tracer.emit(C.OBJ_DECLARE, obj.index, 0, 0, json.dumps(obj.declare()).encode())
    return obj
