"""System V semaphores as the engine sees them: semctl(GETVAL, GETNCNT...) by id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sysv_ipc

from ipcviz import probe
from ipcviz.mechanisms.base import KernelSide, Key
from ipcviz.mechanisms.posix_sem.kernel import compare
from ipcviz.mechanisms.sysv_sem.wrapper import SysvSemaphore
from ipcviz.session.cleanup import sysv_id


def keys(obj: SysvSemaphore) -> Iterable[Key]:
    yield ("semid", obj.id)


def probe_sem(prober: Any, obj: SysvSemaphore) -> tuple[dict[str, Any], dict[str, Any]] | None:
    st = probe.sysv_sem_stat(obj.id)
    if st is None:
        return None
    return {"value": st.value, "waiters": st.ncnt, "zcnt": st.zcnt, "last_pid": st.last_pid}, {}


def owned(entry: dict[str, Any]) -> bool:
    return sysv_id(entry, "sem") is not None


def remove(entry: dict[str, Any]) -> bool:
    ident = sysv_id(entry, "sem")
    if ident is None:
        return False
    sysv_ipc.remove_semaphore(ident)
    return True


KERNEL = KernelSide(
    wrapper=SysvSemaphore, keys=keys, probe=probe_sem, compare=compare, owned=owned, remove=remove
)
