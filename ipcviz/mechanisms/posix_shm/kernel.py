"""POSIX shared memory as the engine sees it: /dev/shm/NAME, read with pread, never mapped.

The probe reads the segment's first bytes and where each live process maps it (T28: the
addresses differ); drift compares the cells the model wrote with the kernel's bytes.
"""

from __future__ import annotations

import os
import time
from typing import Any

import posix_ipc

from ipcviz import probe
from ipcviz.events.codec import b64
from ipcviz.mechanisms.base import KernelSide
from ipcviz.mechanisms.posix_shm.state import ShmObj
from ipcviz.mechanisms.posix_shm.wrapper import SharedMemory
from ipcviz.model.state import Obj

#: How often a process's shared-memory mapping addresses are re-read (seconds).
MAPS_EVERY = 1.0


def shm_maps(prober: Any, pid: int) -> dict[str, int]:
    """The /dev/shm segments ``pid`` maps, re-read at most every ``MAPS_EVERY`` seconds:
    parsing /proc/PID/maps is the dearest probe, and a mapping rarely moves."""
    cache = prober.cache.setdefault("dev_shm_maps", {})
    now = time.monotonic()
    cached = cache.get(pid)
    if cached is None or now - cached[0] > MAPS_EVERY:
        cached = cache[pid] = (now, probe.shm_addresses(pid) or {})
    return cached[1]


def probe_shm(prober: Any, obj: SharedMemory) -> tuple[dict[str, Any], dict[str, Any]] | None:
    data = probe.read_shm(obj.kernel_name, 0, min(obj.size, prober.DATA_CAP))
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
