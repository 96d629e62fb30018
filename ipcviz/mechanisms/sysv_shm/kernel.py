"""System V shared memory as the engine sees it: /proc/sysvipc/shm and a read-only attach.

The probe reads the segment's first bytes through the engine's read-only attachment, the
kernel's attachment count and last attacher from /proc/sysvipc/shm, and where each live
process has it attached (T28: the addresses differ). Drift compares cells like POSIX
shared memory. ``ipcviz clean`` finds a killed session's segment by its key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sysv_ipc

from ipcviz import probe
from ipcviz.events.codec import b64
from ipcviz.mechanisms.base import KernelSide, Key
from ipcviz.mechanisms.posix_shm.kernel import compare as compare_cells
from ipcviz.mechanisms.posix_shm.kernel import fresh_maps
from ipcviz.mechanisms.sysv_shm.wrapper import SysvSharedMemory
from ipcviz.session.cleanup import sysv_cleanup


def keys(obj: SysvSharedMemory) -> Iterable[Key]:
    yield ("shmid", obj.id)


def attached_at(prober: Any, pid: int, st: probe.SysvShmStat) -> dict[int, int]:
    """shmid → address, per process (``fresh_maps``; kept only while segment ``st`` shows
    no attach or detach since: its ``attachments``)."""
    stamp = (st.shmid, st.attachments)
    return fresh_maps(prober, "sysv_shm_maps", pid, probe.sysv_shm_addresses, stamp)


def probe_shm(prober: Any, obj: SysvSharedMemory) -> tuple[dict[str, Any], dict[str, Any]] | None:
    st = probe.sysv_shm_stat(obj.id)
    if st is None:
        return None
    data = obj.peek(prober.DATA_CAP)
    if data is None:
        return None
    addresses = {
        str(pid): at[obj.id]
        for pid, proc in prober.engine.model.procs.items()
        if proc.alive and obj.id in (at := attached_at(prober, pid, st))
    }
    fields = {
        "data": b64(data),
        "size": st.size,
        "addresses": addresses,
        "nattch": st.nattch,
        "cpid": st.cpid,
        **st.last_user(),
    }
    return fields, {"raw": data}


owned, remove = sysv_cleanup("shm", sysv_ipc.remove_shared_memory)


KERNEL = KernelSide(
    wrapper=SysvSharedMemory,
    keys=keys,
    probe=probe_shm,
    compare=compare_cells,
    owned=owned,
    remove=remove,
)
