"""Pipes as the engine sees them: found by inode, peeked through a holder's descriptor.

A pipe has no name: the prober reads its contents through /proc/PID/fdinfo and a peek at a
descriptor some live holder has (``ipcviz.probe.peek_pipe``), remembering which holder
worked. The pipes of an uninstrumented command are discovered here too (``auto-<inode>``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import psutil

from ipcviz import probe
from ipcviz.events import schema
from ipcviz.events.codec import b64
from ipcviz.mechanisms.base import Found, KernelSide, Key
from ipcviz.mechanisms.pipe.state import PipeObj
from ipcviz.mechanisms.pipe.wrapper import Pipe
from ipcviz.model.state import Obj
from ipcviz.probe import _procfs

Candidates = Callable[[Any, Pipe, PipeObj], list[tuple[int, int]]]


def keys(obj: Pipe) -> Iterable[Key]:
    if obj.kernel_name.startswith("pipe:["):
        yield ("inode", int(obj.kernel_name[6:-1]))


def inherited_fds(prober: Any, obj: Pipe, model: PipeObj) -> list[tuple[int, int]]:
    """(pid, fd) pairs that may hold an end of this pipe, readers first: a forked worker
    holds the ends at the numbers the engine made them."""
    procs = prober.engine.model.procs
    out: list[tuple[int, int]] = []
    for pid in sorted(model.readers):
        if pid in procs and procs[pid].alive:
            out.append((pid, obj.read_fd))
    for pid in sorted(model.writers):
        if pid in procs and procs[pid].alive:
            out.append((pid, obj.write_fd))
    return out


def peek(prober: Any, obj: Pipe, candidates: Candidates) -> probe.PipePeek | None:
    """The pipe's contents, through the holder that worked last time or a new one."""
    ino = prober.inodes.get(obj.name)
    model = prober.engine.model.objects.get(obj.name)
    if ino is None or not isinstance(model, PipeObj):
        return None
    cached = prober.holder.get(obj.name)
    tries = [cached] if cached else []
    for pid_fd in [*tries, None]:
        if pid_fd is None:
            found = next(
                (c for c in candidates(prober, obj, model) if probe.pipe_inode(*c) == ino), None
            )
            if found is None:
                prober.holder.pop(obj.name, None)
                return None
            pid_fd = found
        elif probe.pipe_inode(*pid_fd) != ino:
            continue
        seen = probe.peek_pipe(pid_fd[0], pid_fd[1], prober.DATA_CAP)
        if seen is not None:
            prober.holder[obj.name] = pid_fd
            return seen
    return None


def probe_with(candidates: Candidates) -> Callable[[Any, Pipe], Any]:
    def probe_pipe(prober: Any, obj: Pipe) -> tuple[dict[str, Any], dict[str, Any]] | None:
        seen = peek(prober, obj, candidates)
        if seen is None:
            return None
        return {"nbytes": seen.nbytes, "capacity": seen.capacity, "data": b64(seen.data)}, {}

    return probe_pipe


def compare(m: Obj, k: dict[str, Any]) -> tuple[Any, list[tuple[str, Any, Any]]] | None:
    """The fill. A FIFO's bytes that may be gone since its last close (``PipeObj.gone``)
    may or may not be in the kernel's pipe: a reading that matches any world the model
    still holds possible is no drift (the reading does not decide: a read does)."""
    assert isinstance(m, PipeObj)
    held = m.nbytes - m.deficit
    sig = (m.written, m.read, m.nbytes, m.deficit, tuple(m.gone))
    if m.gone and k.get("nbytes") in [held - g for g in m.gone]:
        held = k["nbytes"]
    return sig, [("nbytes", held, k["nbytes"])]


# -- uninstrumented commands -------------------------------------------------------------


def discover(prober: Any, pid: int) -> None:
    """Pipes held by a command's process group: declared once, probed every sweep."""
    try:
        pids = [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
    except psutil.Error:
        return
    engine = prober.engine
    for ino, ends in probe.find_pipes(pids).items():
        if ino in prober.skip_inodes or ("inode", ino) in prober.by_key:
            continue
        name = prober.discovered.get(ino)
        if name is None:
            name = f"auto-{ino}"
            prober.discovered[ino] = name
            engine.emit(
                schema.OBJ_DECLARE,
                obj=name,
                type=Pipe.type,
                kernel_name=f"pipe:[{ino}]" if ends.path is None else ends.path,
                discovered=True,
                readers=[_comm(p) for p, _ in ends.readers],
                writers=[_comm(p) for p, _ in ends.writers],
            )
        holder = (ends.readers or ends.writers)[0]
        seen = probe.peek_pipe(holder[0], holder[1], prober.DATA_CAP)
        if seen is None:
            continue
        holders = {p for p, _ in [*ends.readers, *ends.writers]}
        # a holder that exited since the scan has no name now: left out (shown as "?")
        names = {p: n for p in sorted(holders) if (n := _comm_name(p))}
        fields = pipe_fields(seen, ends.readers, ends.writers, names)
        engine.emit("probe.pipe", obj=name, **fields)


def pipe_fields(
    seen: probe.PipePeek,
    readers: Iterable[tuple[int, int]],
    writers: Iterable[tuple[int, int]],
    names: dict[int, str],
) -> dict[str, Any]:
    """A ``probe.pipe`` of a pipe found outside the scenario: its bytes, and which process
    holds which end (pid, fd), by name."""
    return {
        "nbytes": seen.nbytes,
        "capacity": seen.capacity,
        "data": b64(seen.data),
        "readers": [list(x) for x in readers],
        "writers": [list(x) for x in writers],
        "names": {str(p): n for p, n in names.items()},
    }


def probe_found(found: Found, cap: int) -> dict[str, Any] | None:
    """A program's pipe or FIFO, peeked through the first holder that still has it."""
    for pid, fd, _ in found.holders:
        seen = probe.peek_pipe(pid, fd, cap)
        if seen is not None:
            pids = sorted({p for p, _, _ in found.holders})
            return pipe_fields(
                seen,
                [(p, f) for p, f, end in found.holders if end == 0],
                [(p, f) for p, f, end in found.holders if end == 1],
                {p: found.names[p] for p in pids if p in found.names},
            )
    return None


def _comm_name(pid: int) -> str:
    """The command name of ``pid`` (``seq``, ``grep``), or "" if it is gone."""
    return _procfs.comm(pid) or ""


def _comm(pid: int) -> str:
    name = _procfs.comm(pid)
    return str(pid) if name is None else f"{name}[{pid}]"


KERNEL = KernelSide(
    wrapper=Pipe,
    keys=keys,
    probe=probe_with(inherited_fds),
    compare=compare,
    discover=discover,
    probe_found=probe_found,
)
