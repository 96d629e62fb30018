"""System V semaphore (T32-T33): value, P (wait) and V (post), and the kernel's waiter count."""

from __future__ import annotations

import ctypes
import errno
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import sysv_ipc

from ipcviz.errors import KernelLimitError
from ipcviz.ipc.base import Session, env_name
from ipcviz.ipc.semaphore import CountingSemaphore
from ipcviz.ipc.sysv import sysv_key
from ipcviz.mechanisms.posix_sem import codes as C
from ipcviz.tracer.current import tracer


class SysvSemaphore(CountingSemaphore):
    """One System V semaphore (a set of one); ``with sem:`` is P then V.

    ``undo``: every P and V is made with SEM_UNDO, so the kernel reverses what a process
    still holds when it dies (semop(2)); the engine records that as ``sem.undo``.
    """

    type = "sysv_sem"

    def __init__(self, name: str, value: int = 1, undo: bool = False) -> None:
        super().__init__(name, value)
        self.undo = undo
        self.key = 0
        self.id = -1
        self.sem: sysv_ipc.Semaphore | None = None

    def create(self, session: Session) -> None:
        self.key = sysv_key(session.sid, self.name)
        entry = session.register({"type": self.type, "key": self.key})
        try:
            self.sem = sysv_ipc.Semaphore(
                self.key, sysv_ipc.IPC_CREX, mode=0o600, initial_value=self.initial
            )
        except (sysv_ipc.Error, ValueError, OSError) as exc:
            raise KernelLimitError(
                f"cannot create System V semaphore {self.name}: {exc} (see /proc/sys/kernel/sem)"
            ) from None
        self.sem.undo = self.undo  # inherited by every worker with the handle
        self.id = self.sem.id
        self.kernel_name = f"semid {self.id} (key {self.key:#x})"
        session.update(entry, {**entry, "id": self.id})

    def address(self) -> str:
        return str(self.id)  # what msgget/semget/shmget returned: the calls take the id

    def environment(self) -> dict[str, str]:
        """The id, and the key (``$IPCVIZ_<NAME>_KEY``) for a program that asks the
        kernel for the id itself."""
        return {**super().environment(), env_name(self.name) + "_KEY": str(self.key)}

    def declare(self) -> dict[str, Any]:
        undo = {"undo": True} if self.undo else {}
        return {**super().declare(), "key": self.key, "id": self.id, **undo}

    def destroy(self) -> None:
        if self.sem is not None:
            try:
                self.sem.remove()
            except sysv_ipc.ExistentialError:
                pass
            self.sem = None

    def _acquire(self) -> None:
        self.sem.acquire()  # type: ignore[union-attr]

    def _try_acquire(self) -> bool:
        sem = self.sem
        sem.block = False  # type: ignore[union-attr]
        try:
            sem.acquire()  # type: ignore[union-attr]
        except sysv_ipc.BusyError:
            return False
        finally:
            sem.block = True  # type: ignore[union-attr]
        return True

    def _release(self) -> None:
        self.sem.release()  # type: ignore[union-attr]

    @property
    def value(self) -> int:
        return self.sem.value  # type: ignore[union-attr]


# -- a set: several semaphores of one semget, taken together in one semop ------------------

_libc = ctypes.CDLL(None, use_errno=True)
_libc.semget.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
_libc.semget.restype = ctypes.c_int
_libc.semop.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
_libc.semop.restype = ctypes.c_int
# semctl is variadic: its 4th argument (union semun) is an int or a pointer, in a register
_libc.semctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
_libc.semctl.restype = ctypes.c_int

_IPC_CREAT, _IPC_EXCL, _IPC_NOWAIT, _SEM_UNDO = 0o1000, 0o2000, 0o4000, 0x1000
_IPC_RMID, _GETVAL, _SETALL = 0, 12, 17
#: what the kernel allows in one semop (SEMOPM, /proc/sys/kernel/sem) on every Linux
_MAX_OPS = 32


class _Sembuf(ctypes.Structure):
    """struct sembuf: which semaphore of the set, by how much, and how (semop(2))."""

    _fields_ = [
        ("sem_num", ctypes.c_ushort),
        ("sem_op", ctypes.c_short),
        ("sem_flg", ctypes.c_short),
    ]


class SysvSetMember(SysvSemaphore):
    """Semaphore ``num`` of a :class:`SysvSemaphoreSet`: an object of its own in the model
    and on screen (as the strace path shows a C program's ``semid:ID[n]``), a ``sysv_sem``
    like any other, so every view, rule and word knows it. Alone, ``wait()`` and ``post()``
    are a semop on this one semaphore; the set's ``op`` takes several at once."""

    def __init__(self, owner: SysvSemaphoreSet, num: int, name: str, value: int) -> None:
        super().__init__(name, value, owner.undo)
        self.set = owner
        self.num = num

    def create(self, session: Session) -> None:
        """The first member made makes the whole set (one semget); the others take its id."""
        if self.set.id < 0:
            self.set.create(session)
        self.key, self.id = self.set.key, self.set.id
        self.kernel_name = f"semid {self.id} #{self.num} (key {self.key:#x})"

    def destroy(self) -> None:
        self.set.destroy()

    def _acquire(self) -> None:
        self.set.semop(((self.num, -1),), False)

    def _try_acquire(self) -> bool:
        return self.set.semop(((self.num, -1),), True)

    def _release(self) -> None:
        self.set.semop(((self.num, 1),), False)

    @property
    def value(self) -> int:
        """The kernel's value of this semaphore now (semctl GETVAL)."""
        return self.set.kernel_value(self.num)


class SysvSemaphoreSet:
    """Several System V semaphores made by one semget (T34, T35).

    Its point is ``op``: one semop on several of them, which the kernel applies whole or
    not at all, at one instant; a process that asks for two forks never holds one while it
    waits for the other, so no cycle of waits can form (compare ``deadlock``). Each part is
    recorded as the strace path records a C program's semop: the first part plain, the
    others ``joined`` to it (one stamp), so the engine keeps them together.

    Each semaphore is a :class:`SysvSetMember` (``forks[2]``), named ``names[i]`` (default
    ``NAME-i``); the set itself is not one object of the model.
    """

    def __init__(
        self,
        name: str,
        values: Sequence[int],
        undo: bool = False,
        names: Sequence[str] | None = None,
    ) -> None:
        values = list(values)
        if not 1 <= len(values) <= 250:  # SEMMSL on every Linux
            raise ValueError("a semaphore set holds 1 to 250 semaphores")
        if names is None:
            names = [f"{name}-{i}" for i in range(len(values))]
        if len(names) != len(values):
            raise ValueError("a semaphore set needs one name per value")
        self.name = name
        self.undo = undo
        self.key = 0
        self.id = -1
        self.members = [
            SysvSetMember(self, i, n, v) for i, (n, v) in enumerate(zip(names, values, strict=True))
        ]

    def __len__(self) -> int:
        return len(self.members)

    def __getitem__(self, num: int) -> SysvSetMember:
        return self.members[num]

    # -- engine ------------------------------------------------------------------------

    def create(self, session: Session) -> None:
        """semget the set and give every semaphore its value (SETALL); registered by its
        key first, so ``ipcviz clean`` finds it even if the engine dies in between."""
        # keyed by its first member's name: an object's name is unique in a run, the set's not
        self.key = sysv_key(session.sid, self.members[0].name)
        entry = session.register({"type": SysvSemaphore.type, "key": self.key})
        ident = _libc.semget(self.key, len(self.members), _IPC_CREAT | _IPC_EXCL | 0o600)
        if ident < 0:
            err = ctypes.get_errno()
            raise KernelLimitError(
                f"cannot create System V semaphore set {self.name}: {os.strerror(err)}"
                " (see /proc/sys/kernel/sem)"
            )
        self.id = ident
        session.update(entry, {**entry, "id": ident})
        values = (ctypes.c_ushort * len(self.members))(*(m.initial for m in self.members))
        if _libc.semctl(ident, 0, _SETALL, ctypes.cast(values, ctypes.c_void_p)) < 0:
            err = ctypes.get_errno()
            raise KernelLimitError(f"semctl(SETALL) on {self.name}: {os.strerror(err)}")

    def destroy(self) -> None:
        """Remove the set (each member asks; the first does it). Gone already: fine."""
        if self.id >= 0:
            _libc.semctl(self.id, 0, _IPC_RMID, None)  # (EINVAL, EIDRM: gone already)
            self.id = -1

    def kernel_value(self, num: int) -> int:
        """Semaphore ``num``'s value as the kernel holds it now (semctl GETVAL)."""
        value = _libc.semctl(self.id, num, _GETVAL, None)
        if value < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"semctl(GETVAL) on {self.name}[{num}]: {os.strerror(err)}")
        return value

    # -- workers -----------------------------------------------------------------------

    def op(self, ops: Mapping[int, int] | Sequence[tuple[int, int]], nowait: bool = False) -> bool:
        """One semop: ``{i: -1, j: -1}`` takes one unit of semaphores i and j together,
        sleeping until both are there (none is taken before); ``+1`` gives one back.

        ``nowait``: IPC_NOWAIT, False (nothing taken) instead of sleeping. Recorded as one
        call: one gate step, one begin, then every unit as a part, the later ones
        ``joined``. A failed call is recorded (a failed try-wait) only when it asked for one
        unit of one semaphore: that one was at 0. Of several, the kernel does not say which
        was too low, and naming the first would show a free semaphore refused (``verify``:
        "trywait failed at value 1"); the kernel changed nothing, so nothing is recorded."""
        pairs = list(ops.items()) if isinstance(ops, Mapping) else list(ops)
        parts = self._parts(pairs, nowait)
        first_code, first_obj, _a = parts[0]
        t = tracer
        if nowait or first_code == C.SEM_POST:
            t.gate(first_code, first_obj)
        else:
            t.gate(C.SEM_WAIT_BEGIN, first_obj)
            t.emit(C.SEM_WAIT_BEGIN, first_obj, 0, 0, self._asks(pairs))
        if not self.semop(pairs, nowait):
            if len(parts) == 1:
                t.emit(C.SEM_TRYWAIT, first_obj, 0)
            return False
        more = tuple((_JOINED_CODE[code], obj, a, 0) for code, obj, a in parts[1:])
        t.emit(first_code, first_obj, _a, 0, b"", 0, more)
        return True

    def _asks(self, pairs: list[tuple[int, int]]) -> bytes:
        """The begin's payload: every semaphore the call takes from, in its order, and how
        many units (``sems``, ``units``), so the model shows the sleeper on each, not only
        on the first (the kernel counts it on the first one too low: semncnt). None for a
        call on one semaphore: its ``obj`` says it all."""
        takes = [(self.members[n].name, -d) for n, d in pairs if d < 0]
        if len(takes) < 2:
            return b""
        names, units = zip(*takes, strict=True)
        return json.dumps({"sems": names, "units": units}).encode()

    def take(self, *nums: int) -> _Taken:
        """``with forks.take(i, j):`` one semop taking one unit of each, and one giving
        them all back at the end of the block."""
        return _Taken(self, nums)

    def give(self, *nums: int) -> None:
        """One semop giving one unit back to each of ``nums``."""
        self.op([(n, 1) for n in nums])

    def _parts(self, pairs: list[tuple[int, int]], nowait: bool) -> list[tuple[int, int, int]]:
        """Each unit of the call as (code, object index, a), in the call's order (as the
        strace mapper writes a C program's semop)."""
        if not pairs or len(pairs) > _MAX_OPS:
            raise ValueError(f"a semop on {self.name} takes 1 to {_MAX_OPS} operations")
        parts: list[tuple[int, int, int]] = []
        for num, delta in pairs:
            if not 0 <= num < len(self.members) or not isinstance(delta, int) or delta == 0:
                raise ValueError(
                    f"semop on {self.name}: ({num}, {delta}): a semaphore of the set and a"
                    " non-zero change (waiting for zero is not shown)"
                )
            obj = self.members[num].index
            wait = (C.SEM_TRYWAIT, obj, 1) if nowait else (C.SEM_WAIT, obj, 0)
            parts += [wait] * -delta if delta < 0 else [(C.SEM_POST, obj, 0)] * delta
        return parts

    def semop(self, pairs: Sequence[tuple[int, int]], nowait: bool) -> bool:
        """The system call, unrecorded; False when IPC_NOWAIT found a value too low.
        Interrupted by a signal (EINTR), it is made again: nothing was applied."""
        flags = (_SEM_UNDO if self.undo else 0) | (_IPC_NOWAIT if nowait else 0)
        bufs = (_Sembuf * len(pairs))(*(_Sembuf(n, d, flags) for n, d in pairs))
        while _libc.semop(self.id, bufs, len(pairs)) < 0:
            err = ctypes.get_errno()
            if err == errno.EAGAIN and nowait:
                return False
            if err != errno.EINTR:
                raise OSError(err, f"semop on {self.name}: {os.strerror(err)}")
        return True

    def __repr__(self) -> str:
        return f"<SysvSemaphoreSet {self.name!r} of {len(self.members)}>"


class _Taken:
    """``with forks.take(i, j):``: one semop taking them, one giving them back."""

    def __init__(self, owner: SysvSemaphoreSet, nums: tuple[int, ...]) -> None:
        self.set, self.nums = owner, nums

    def __enter__(self) -> SysvSemaphoreSet:
        self.set.op([(n, -1) for n in self.nums])
        return self.set

    def __exit__(self, *exc: object) -> None:
        self.set.give(*self.nums)


#: a semop's part → its code as a further part of the same call (``C.JOINED`` reversed)
_JOINED_CODE = {plain: joined for joined, plain in C.JOINED.items()}
