"""A shared file mapping as the engine sees it: the file, read with plain pread.

The probe never maps the file: it reads it like any program would, and sees what the
workers stored through their mappings (one page cache). Where each live process maps it
comes from /proc/PID/maps. ``ipcviz clean`` removes a killed session's file.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from ipcviz.events.codec import b64
from ipcviz.mechanisms.base import KernelSide
from ipcviz.mechanisms.mmap_file.wrapper import MappedFile
from ipcviz.mechanisms.posix_shm.kernel import compare as compare_cells
from ipcviz.mechanisms.posix_shm.kernel import fresh_maps
from ipcviz.probe._procfs import read_text, strip_deleted
from ipcviz.session.registry import in_session_files_dir


def _file_addresses(pid: int) -> dict[str, int]:
    """Every file PID maps → the lowest address (one pass over /proc/PID/maps)."""
    text = read_text(f"/proc/{pid}/maps")
    found: dict[str, int] = {}
    for line in (text or "").splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or not fields[5].startswith("/"):
            continue
        path, start = strip_deleted(fields[5].strip()), int(fields[0].split("-")[0], 16)
        if path not in found or start < found[path]:
            found[path] = start
    return found


def mapped_at(prober: Any, pid: int) -> dict[str, int]:
    """path → address, per process (``fresh_maps``)."""
    return fresh_maps(prober, "file_maps", pid, _file_addresses)


def _pread(path: str, n: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return os.pread(fd, n, 0)
    except OSError:
        return None
    finally:
        os.close(fd)


def probe_file(prober: Any, obj: MappedFile) -> tuple[dict[str, Any], dict[str, Any]] | None:
    data = _pread(obj.path, min(obj.size, prober.DATA_CAP))
    if data is None:
        return None
    addresses = {
        str(pid): at[obj.path]
        for pid, proc in prober.engine.model.procs.items()
        if proc.alive and obj.path in (at := mapped_at(prober, pid))
    }
    return {"data": b64(data), "size": obj.size, "addresses": addresses}, {"raw": data}


def owned(entry: dict[str, Any]) -> bool:
    """Ours: in a session's private files directory (either name), and of our uid."""
    if not in_session_files_dir(entry["path"]):
        return False
    st = os.lstat(entry["path"])
    return stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid()


def remove(entry: dict[str, Any]) -> bool:
    os.unlink(entry["path"])
    return True


KERNEL = KernelSide(
    wrapper=MappedFile, probe=probe_file, compare=compare_cells, owned=owned, remove=remove
)
