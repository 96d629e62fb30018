"""Kernel/glibc truth about semaphores: value and how many processes wait on it.

POSIX named semaphore (glibc >= 2.21 on 64-bit, verified with glibc 2.36 on x86_64):
``/dev/shm/sem.NAME`` is a 32-byte ``struct new_sem``: bytes 0..7 are one little-endian
uint64 ``data`` whose low 32 bits are the value and whose high 32 bits are ``nwaiters``
(a waiter adds 1<<32 before its futex wait and removes it after), then a 32-bit ``private``
word (128 = FUTEX_SHARED for named semaphores) and padding. Waiters sleep in
``futex(FUTEX_WAIT_BITSET)`` on the address of the value word (offset 0).
Both counters are read from one pread of those 8 bytes (read-only, no sem_open), so they
are a consistent snapshot; tests cross-check the value against posix_ipc's sem_getvalue.

System V: semctl(GETVAL/GETNCNT/GETZCNT/GETPID) by id through ctypes (no key needed).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from . import _libc
from ._procfs import Identity, open_regular, shm_name

_SEM_T_SIZE = 32


@dataclass(frozen=True, slots=True)
class PosixSemStat:
    """Value and number of waiters of a POSIX named semaphore."""

    value: int
    waiters: int


@dataclass(frozen=True, slots=True)
class SysvSemStat:
    """One semaphore of a System V set."""

    value: int
    ncnt: int  # processes waiting for the value to increase (the kernel's waiter count)
    zcnt: int  # processes waiting for the value to become zero
    last_pid: int  # pid of the last semop on this semaphore


def posix_sem_stat(name: str, same: Identity | None = None) -> PosixSemStat | None:
    """Value and waiter count of named semaphore `name` ('/x' or 'x'), None if it is gone
    (or, ``same``, if its file is not the one of that identity: the name names another)."""
    fd = open_regular("/dev/shm/sem." + shm_name(name), same)
    if fd is None:
        return None
    try:
        raw = os.pread(fd, 8, 0)
        if os.fstat(fd).st_size < _SEM_T_SIZE or len(raw) != 8:
            return None
    except OSError:
        return None
    finally:
        os.close(fd)
    value, waiters = struct.unpack("<II", raw)
    return PosixSemStat(value, waiters)


def sysv_sem_stat(semid: int, semnum: int = 0) -> SysvSemStat | None:
    """value/ncnt/zcnt/last_pid of semaphore `semnum` of set `semid`, None if set is gone."""
    out: list[int] = []
    for cmd in (_libc.GETVAL, _libc.GETNCNT, _libc.GETZCNT, _libc.GETPID):
        ret = _libc.libc.semctl(semid, semnum, cmd, 0)
        if ret == -1:
            return None  # EINVAL (removed or semnum out of range), EIDRM, EACCES
        out.append(ret)
    return SysvSemStat(*out)
