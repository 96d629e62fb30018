"""System V semaphores as the engine sees them: semctl(GETVAL, GETNCNT...) by id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sysv_ipc

from ipcviz import probe
from ipcviz.mechanisms.base import Found, KernelSide, Key
from ipcviz.mechanisms.posix_sem.kernel import compare
from ipcviz.mechanisms.sysv_sem.wrapper import SysvSemaphore
from ipcviz.session.cleanup import sysv_cleanup


def keys(obj: SysvSemaphore) -> Iterable[Key]:
    yield ("semid", obj.id)


def probe_sem(prober: Any, obj: SysvSemaphore) -> tuple[dict[str, Any], dict[str, Any]] | None:
    fields = sem_fields(obj.id)
    return (fields, {}) if fields is not None else None


def probe_found(found: Found, cap: int) -> dict[str, Any] | None:
    return sem_fields(found.ident, found.num) if isinstance(found.ident, int) else None


def sem_fields(semid: int, num: int = 0) -> dict[str, Any] | None:
    """Semaphore ``num`` of set ``semid``: its value, who waits for it, who last moved it."""
    st = probe.sysv_sem_stat(semid, num)
    if st is None:
        return None
    return {"value": st.value, "waiters": st.ncnt, "zcnt": st.zcnt, "last_pid": st.last_pid}


owned, remove = sysv_cleanup("sem", sysv_ipc.remove_semaphore)


KERNEL = KernelSide(
    wrapper=SysvSemaphore,
    keys=keys,
    probe=probe_sem,
    compare=compare,
    owned=owned,
    remove=remove,
    probe_found=probe_found,
)
