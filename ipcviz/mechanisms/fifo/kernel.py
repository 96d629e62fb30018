"""FIFOs as the engine sees them: a pipe found by its inode and by its path.

Opened by path, a FIFO's descriptor numbers differ per process: the prober looks for the
holder's descriptors by inode. ``ipcviz clean`` removes a killed session's FIFO files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from ipcviz import probe
from ipcviz.mechanisms.base import KernelSide, Key
from ipcviz.mechanisms.fifo.wrapper import Fifo
from ipcviz.mechanisms.pipe import kernel as pipe_kernel
from ipcviz.mechanisms.pipe.state import PipeObj
from ipcviz.session.registry import in_session_files_dir


def keys(obj: Fifo) -> Iterable[Key]:
    yield ("inode", obj.inode)
    yield ("path", obj.path)


def opened_fds(prober: Any, obj: Fifo, model: PipeObj) -> list[tuple[int, int]]:
    """(pid, fd) pairs of the processes that opened it, readers first."""
    procs = prober.engine.model.procs
    out: list[tuple[int, int]] = []
    ino = prober.inodes[obj.name]
    for pid in [*sorted(model.readers), *sorted(model.writers)]:
        if pid in procs and procs[pid].alive:
            out.extend((pid, fd) for fd in _fds_with_inode(pid, ino))
    return out


def _fds_with_inode(pid: int, ino: int) -> list[int]:
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return []
    return [int(n) for n in names if probe.pipe_inode(pid, int(n)) == ino]


def owned(entry: dict[str, Any]) -> bool:
    """Ours: in a session's private files directory (either name), and of our uid."""
    if not in_session_files_dir(entry["path"]):
        return False
    return os.lstat(entry["path"]).st_uid == os.getuid()


def remove(entry: dict[str, Any]) -> bool:
    os.unlink(entry["path"])
    return True


KERNEL = KernelSide(
    wrapper=Fifo,
    keys=keys,
    probe=pipe_kernel.probe_with(opened_fds),  # type: ignore[arg-type]
    compare=pipe_kernel.compare,
    owned=owned,
    remove=remove,
    probe_found=pipe_kernel.probe_found,
)
