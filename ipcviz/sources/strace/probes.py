"""The kernel's view of what a program under strace holds that its system calls cannot show.

A store to a POSIX segment's cell, an uncontended sem_wait or sem_post: no system call, so
strace sees nothing of them. The engine's prober reads those objects instead, as it reads a
scenario's: a segment's cells from /dev/shm/NAME (``posix_shm`` probe), a named semaphore's
value and waiters from /dev/shm/sem.NAME (``posix_sem`` probe), an unnamed semaphore's from
its sem_t inside a segment; a POSIX queue that may hold messages no call showed, its
counters (``posix_mq`` probe). It learns them from the mapper (``Mapper.devshm``) as strace
discovers them, and probes the traced processes (who is blocked where: a futex on a
semaphore is named by it). Readings only: never compared with the model (the model saw no
operation on them), never an operation made up from a reading.
"""

from __future__ import annotations

import struct
from typing import Any

from ipcviz import probe
from ipcviz.engine.probing import Prober
from ipcviz.mechanisms import registry
from ipcviz.mechanisms.base import Found
from ipcviz.probe._procfs import Identity, maps
from ipcviz.sources.strace.mapper import (
    POSIX_MQ,
    POSIX_SEM,
    POSIX_SHM,
    SYSV_SEM,
    DevShm,
    Mapper,
)

#: ``StandIn.same`` of an object whose name is gone and whose file was never found: no
#: file's inode (a reading by name is of some other file, so there is none).
NO_FILE = 0

#: glibc's sem_t on 64-bit: the value in the low 32 bits of its first word, the number of
#: sleepers in the high 32
_SEM_WORD = struct.Struct("<II")


class StandIn:
    """What a mechanism's probe reads of an object (its wrapper's fields), for an object a
    program made: never created, never destroyed, never compared (``traced``)."""

    traced = False

    def __init__(
        self, name: str, type_: str, kernel_name: str, size: int = 0, same: Identity | None = None
    ) -> None:
        self.name = name
        self.type = type_
        self.kernel_name = kernel_name
        self.size = size
        #: the identity of the file the program opened (``DevShm.same``): a reading by
        #: name is of that file or none, never of one put at the name since
        self.same = same


class ProgramProber(Prober):
    """The prober of ``ipcviz run -- PROG``: the traced processes and the /dev/shm objects
    strace discovered (no worker of its own but strace, no pipe discovery: strace names the
    program's pipes)."""

    def __init__(self, engine: Any, mapper: Mapper, interval: float | None = None) -> None:
        super().__init__(engine, interval)
        self.mapper = mapper
        self._known: dict[str, tuple[StandIn, DevShm, int]] = {}  # obj → (what, file, offset)

    def map_moves(self, pid: int) -> int:
        """The mmap, munmap, shmat and shmdt calls strace showed of ``pid`` so far: a
        segment unmapped and another mapped at once keep the address space's size."""
        return self.mapper.map_moves.get(pid, 0)

    def learn(self) -> None:
        """The objects strace has discovered since the last look (declared and not gone)."""
        m = self.mapper
        for known in m.devshm.values():
            if known.same is None:
                known.same = self._mapped_inode(known)
            names = [(known.obj, -1), *((n, at) for at, n in known.sems.items())]
            for name, at in names:
                entry = self._known.get(name)
                if not name or (entry is not None and entry[1] is known):
                    continue  # (made anew under the name: another file, learnt again)
                same = known.same
                if at >= 0:
                    obj = StandIn(name, POSIX_SEM, known.kernel_name, same=same)
                elif known.is_sem:
                    obj = StandIn(name, POSIX_SEM, known.kernel_name, same=same)
                    self._index(obj)  # a futex wait in its mapping is a wait on it
                else:
                    obj = StandIn(name, POSIX_SHM, known.kernel_name, known.size, same)
                self._known[name] = (obj, known, at)
        for obj, known, at in self._known.values():
            if at < 0 and obj.type == POSIX_SHM:
                obj.size = known.size  # mapped larger since
            obj.same = known.same
            if obj.same is None and not known.linked:
                obj.same = NO_FILE  # unlinked, its file never found: no reading by name
        model = self.engine.model.objects
        self.objects = [
            o for o, _, _ in self._known.values() if o.name in model and not model[o.name].removed
        ]

    def _mapped_inode(self, known: DevShm) -> int | None:
        """The inode of the file a traced process maps as ``known`` (its mappings as the
        calls told them, read in /proc/PID/maps), or None. The program may have closed
        its descriptor and unlinked the name before ipcviz read its open (``DevShm.same``
        not found then): its mapping is still that file."""
        for pid, proc in self.mapper.procs.items():
            if proc.thread or proc.ended:
                continue
            starts = {a for a, (mapped, _, _) in proc.maps.items() if mapped is known}
            if not starts:
                continue
            for mapping in maps(pid) or ():
                if mapping.start in starts and mapping.inode:
                    return mapping.inode
        return None

    def _probe_all(self, live: list[Any], compare: bool = True) -> None:
        self.learn()
        for pid, proc in list(self.mapper.procs.items()):
            if not proc.thread and not proc.ended and pid in self.engine.model.procs:
                self._probe_proc(pid)
        for obj in self.objects:
            self._probe_object(obj)
        self._probe_unseen_values()
        self._probe_unseen_queues()

    def _probe_unseen_values(self) -> None:
        """The program's System V semaphores whose value no event shows (set by a SETALL
        strace does not print: ``outside``), read by id: the kernel's readings are the only
        source of their value, and their views say so."""
        from ipcviz.mechanisms.sysv_sem.kernel import sem_fields

        model = self.engine.model.objects
        mech = registry.get(SYSV_SEM)
        assert mech is not None
        for name, (kind, ident) in list(self.mapper.sysv_ids.items()):
            obj = model.get(name)
            if kind != "semid" or obj is None or obj.removed or not obj.outside:
                continue
            num = int(name[name.rindex("[") + 1 : -1]) if name.endswith("]") else 0
            fields = sem_fields(ident, num)
            if fields is not None:
                self.engine.emit(mech.probe_kind, obj=name, **fields)

    def _probe_unseen_queues(self) -> None:
        """The program's POSIX queues that may hold messages no event shows (``outside``:
        there before the run; ``maybe_filled``: opened with O_CREAT alone, maybe there):
        their counters read by name (``probe_found``: only while the name names the queue
        a traced process holds, or, held by none, the one its calls named), so their views'
        "earlier contents: kernel readings" has readings. Readings only: never compared."""
        from ipcviz.mechanisms.posix_mq.state import QueueObj

        if not getattr(self.engine, "owns_processes", True):
            return  # ``ipcviz attach`` reads every object it found itself (AttachEngine)
        model = self.engine.model.objects
        mech, side = registry.get(POSIX_MQ), registry.kernel(POSIX_MQ)
        assert mech is not None and side is not None and side.probe_found is not None
        m = self.mapper
        for kernel_name, (name, _made, linked) in list(m.queues.items()):
            obj = model.get(name)
            if not linked or not isinstance(obj, QueueObj) or obj.removed:
                continue  # (unlinked: the name names another queue, or none)
            if not (obj.outside or obj.maybe_filled):
                continue
            i = m.index[name]
            holders = tuple(
                (pid, fd, end)
                for pid, proc in list(m.procs.items())
                if not proc.thread and not proc.ended
                for fd, (held, end, _) in list(proc.fds.items())
                if held == i
            )
            try:
                fields = side.probe_found(Found(name, kernel_name, 0, holders), 0)
            except (OSError, ValueError):
                continue  # (a name no queue can have, a holder gone meanwhile)
            if fields is not None:
                self.engine.emit(mech.probe_kind, obj=name, **fields)

    def _probe_object(self, obj: Any) -> dict[str, Any] | None:
        entry = self._known.get(obj.name)
        if entry is None or entry[2] < 0:
            return super()._probe_object(obj)
        _, known, at = entry  # an unnamed semaphore: its sem_t in the segment's file
        raw = probe.read_shm(known.kernel_name, at, _SEM_WORD.size, obj.same)
        if raw is None or len(raw) != _SEM_WORD.size:
            return None
        value, waiters = _SEM_WORD.unpack(raw)
        mech = registry.get(POSIX_SEM)
        assert mech is not None
        self.engine.emit(mech.probe_kind, obj=obj.name, value=value, waiters=waiters)
        return {"value": value, "waiters": waiters}
