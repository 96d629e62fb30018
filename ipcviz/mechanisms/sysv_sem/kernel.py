"""System V semaphores as the engine sees them: semctl(GETVAL, GETNCNT...) by id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sysv_ipc

from ipcviz import probe
from ipcviz.mechanisms.base import Found, KernelSide, Key
from ipcviz.mechanisms.posix_sem.kernel import compare
from ipcviz.mechanisms.sysv_sem.wrapper import SysvSemaphore, SysvSetMember
from ipcviz.session.cleanup import sysv_cleanup


def keys(obj: SysvSemaphore) -> Iterable[Key]:
    """The set's id names a lone semaphore. A member of a set of several gives none: a
    process asleep in semop shows only the set's id, not which of its semaphores it
    waits for, and naming one of them would tell the deadlock watcher a wait that was
    not (the watcher asks the model which one its begin named: ``_set_member``)."""
    if not isinstance(obj, SysvSetMember) or len(obj.set) == 1:
        yield ("semid", obj.id)


def probe_sem(prober: Any, obj: SysvSemaphore) -> tuple[dict[str, Any], dict[str, Any]] | None:
    fields = sem_fields(obj.id, obj.num if isinstance(obj, SysvSetMember) else 0)
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
