"""POSIX semaphores as the engine sees them: the value and waiters in /dev/shm/sem.NAME."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import posix_ipc

from ipcviz import probe
from ipcviz.mechanisms.base import KernelSide, Key
from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.mechanisms.posix_sem.wrapper import Semaphore
from ipcviz.model.state import Obj


def keys(obj: Semaphore) -> Iterable[Key]:
    yield ("sem_name", obj.kernel_name)  # a futex wait in the mapping of /dev/shm/sem.NAME


def probe_sem(prober: Any, obj: Semaphore) -> tuple[dict[str, Any], dict[str, Any]] | None:
    # (a program's semaphore under strace: only the file it opened, not one put at its name)
    st = probe.posix_sem_stat(obj.kernel_name, getattr(obj, "same", None))
    if st is None:
        return None
    return {"value": st.value, "waiters": st.waiters}, {}


def compare(m: Obj, k: dict[str, Any]) -> tuple[Any, list[tuple[str, Any, Any]]] | None:
    """Value and waiters; shared with System V semaphores (their probe says the same)."""
    assert isinstance(m, SemObj)
    sig = (m.waits, m.posts, m.value, len(m.waiters))
    return sig, [("value", m.value, k["value"]), ("waiters", len(m.waiters), k["waiters"])]


def owned(entry: dict[str, Any]) -> bool:
    name = str(entry.get("name", "")).lstrip("/")
    return os.lstat(f"/dev/shm/sem.{name}").st_uid == os.getuid()


def remove(entry: dict[str, Any]) -> bool:
    posix_ipc.unlink_semaphore(entry["name"])
    return True


KERNEL = KernelSide(
    wrapper=Semaphore, keys=keys, probe=probe_sem, compare=compare, owned=owned, remove=remove
)
