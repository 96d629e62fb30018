"""POSIX shared memory as the engine sees it: /dev/shm/NAME, read with pread, never mapped.

The probe reads the segment's first bytes and where each live process maps it (T28: the
addresses differ); drift compares the cells the model wrote with the kernel's bytes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import posix_ipc

from ipcviz import probe
from ipcviz.events.codec import b64
from ipcviz.mechanisms.base import KernelSide
from ipcviz.mechanisms.posix_shm.state import ShmObj
from ipcviz.mechanisms.posix_shm.wrapper import SharedMemory
from ipcviz.model.state import Obj

#: The longest a process's mapping addresses are kept before they are read again (seconds).
MAPS_EVERY = 1.0


@dataclass(slots=True)
class _Maps:
    read_at: float  # time.monotonic() of the reading
    #: the process's start time and address-space size then (probe.address_space: a
    #: reused pid is another process), and its mappings and unmappings a trace showed
    #: (``Prober.map_moves``)
    pages: tuple[tuple[int, int] | None, int]
    found: dict[Any, int]  # what ``read`` returned: a segment → its lowest address
    seen: dict[Any, Any]  # a segment → its attachment stamp then (System V only)


def fresh_maps(
    prober: Any,
    cache_name: str,
    pid: int,
    read: Callable[[int], dict[Any, int] | None],
    stamp: tuple[Any, Any] | None = None,
) -> dict[Any, int]:
    """Where ``pid`` maps its segments, as ``read`` finds them in /proc/PID/maps.

    Parsing /proc/PID/maps is the dearest probe, so a process's reading is kept, but only
    while it can still be true: for at most ``MAPS_EVERY`` seconds, while ``pid`` is the
    same process (its start time) and its address space keeps its size (any mmap, munmap,
    shmat or shmdt changes it), while no call a trace showed mapped or unmapped memory
    (``Prober.map_moves``), and, given
    ``stamp`` (a segment and what the kernel says of its attachments), while that stamp
    is unchanged. Otherwise a probe would name where a segment was mapped a moment ago as
    where it is mapped now."""
    cache = prober.cache.setdefault(cache_name, {})
    now = time.monotonic()
    pages = (probe.address_space(pid), prober.map_moves(pid))
    kept = cache.get(pid)
    if (
        kept is None
        or now - kept.read_at > MAPS_EVERY
        or kept.pages != pages
        or (stamp is not None and kept.seen.get(stamp[0]) != stamp[1])
    ):
        kept = cache[pid] = _Maps(now, pages, read(pid) or {}, {} if kept is None else kept.seen)
        if stamp is not None:
            kept.seen[stamp[0]] = stamp[1]
    return kept.found


def shm_maps(prober: Any, pid: int) -> dict[str, int]:
    """The /dev/shm segments ``pid`` maps → their addresses (``fresh_maps``)."""
    return fresh_maps(prober, "dev_shm_maps", pid, probe.shm_addresses)


def probe_shm(prober: Any, obj: SharedMemory) -> tuple[dict[str, Any], dict[str, Any]] | None:
    # (a program's segment under strace: only the file it opened, not one put at its name)
    same = getattr(obj, "same", None)
    data = probe.read_shm(obj.kernel_name, 0, min(obj.size, prober.DATA_CAP), same)
    if data is None:
        return None
    bare = obj.kernel_name.lstrip("/")
    addresses = {
        str(pid): segments[bare]
        for pid, proc in prober.engine.model.procs.items()
        if proc.alive and bare in (segments := shm_maps(prober, pid))
    }
    return {"data": b64(data), "size": obj.size, "addresses": addresses}, {"raw": data}


def compare(m: Obj, k: dict[str, Any]) -> tuple[Any, list[tuple[str, Any, Any]]] | None:
    """The first cell whose bytes differ (one pair: a lost cell is enough to say drift)."""
    assert isinstance(m, ShmObj)
    raw = k["raw"]
    for i in range(min(len(raw), len(m.data)) // m.cell_size):
        a, b = i * m.cell_size, (i + 1) * m.cell_size
        if raw[a:b] != bytes(m.data[a:b]):
            model = int.from_bytes(m.data[a:b], "little", signed=True)
            kernel = int.from_bytes(raw[a:b], "little", signed=True)
            return (m.writes,), [(f"cell[{i}]", model, kernel)]
    return (m.writes,), []


def owned(entry: dict[str, Any]) -> bool:
    name = str(entry.get("name", "")).lstrip("/")
    return os.lstat(f"/dev/shm/{name}").st_uid == os.getuid()


def remove(entry: dict[str, Any]) -> bool:
    posix_ipc.unlink_shared_memory(entry["name"])
    return True


KERNEL = KernelSide(
    wrapper=SharedMemory, probe=probe_shm, compare=compare, owned=owned, remove=remove
)
