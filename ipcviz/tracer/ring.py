"""A single-producer, single-consumer byte ring in shared memory.

Why: a worker must pay almost nothing to be watched. Writing a record is a ``pack_into``
and a slice copy into an mmap: no syscall, no JSON. The engine drains the ring on its own
schedule. If the ring is full the worker waits (no event is ever dropped) and counts the
stall in the ring header, which the engine reports.

Layout: a 64-byte header (head, tail, stalls, gate flag), then ``capacity`` bytes of
records. A record is a 32-byte header (size, code, obj, t, a, b) and ``size - 32`` payload
bytes, padded to 8. A record that does not fit before the end is preceded by a PAD record.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
import time
from collections.abc import Callable
from typing import Final

from ipcviz.tracer.codes import PAD

HEADER_SIZE: Final = 64
RECORD = struct.Struct("<IHhqqq")  # size, code, obj (-1: none), t_ns, a, b
_SIZE_CODE = struct.Struct("<IH")
_HEAD, _TAIL, _STALLS, _GATE = 0, 8, 16, 24
#: The header's 8-byte words, by index (``Ring.words``): HEAD, TAIL, STALLS, PENDING,
#: FORKING.
_W_HEAD, _W_TAIL, _W_STALLS, _W_PENDING, _W_FORKING, _W_AWAITS = 0, 1, 2, 5, 6, 7
#: The header's last word: the pid this worker waits to see asleep (``ctx.wait_for_wchan``),
#: or 0. Step mode does not wait for such a worker to reach its gate while that process has
#: not slept (engine/gate.py): it can only get there by a step the gate would never make.
AWAITS_OFFSET: Final = 8 * _W_AWAITS
#: Presenter mode (``--present``): narration steps wait at the gate (ipcviz/engine/gate.py).
PRESENT_FLAG: Final = 32
#: The stamp of a record being written (0: none). The engine reads no further than it when it
#: decides what is known (engine/linearize.py): a record stamped but not yet published.
#: While the worker reads the clock it holds ``STAMPING`` there, so a stamp taken before
#: the engine looked can never be missed by it.
_PENDING: Final = 40
#: In the pending slot: the worker is reading the clock (lower than any stamp).
STAMPING: Final = 1
#: Largest payload kept in one record; longer payloads are cut and flagged by ``size``.
MAX_PAYLOAD: Final = 256 * 1024
DEFAULT_CAPACITY: Final = 4 * 1024 * 1024

Record = tuple[int, int, int, int, int, bytes]  # code, obj, t_ns, a, b, payload


def memory_fence() -> Callable[[], None]:
    """A full memory barrier, from Python: what is stored before it is seen by other CPUs
    before anything loaded after it is read.

    Why: the pending slot is a Dekker handshake. The worker stores STAMPING, then reads
    the clock; the engine reads the clock, then loads the slot. Without a barrier a CPU
    may read the clock while its store still sits in its store buffer (x86 allows exactly
    this store-load reordering; ARM more): the engine then reads a later time, sees no
    stamp pending, and publishes past a record stamped before it.

    How: releasing then taking a lock is an atomic store-release followed by an atomic
    load-acquire (a locked instruction on x86, stlxr/ldaxr on ARM), ordered both ways.
    Each fence is for one thread at a time (the worker calls it under its ring's lock,
    the engine from its loop)."""
    lock = threading.Lock()
    lock.acquire()
    release, acquire = lock.release, lock.acquire

    def fence() -> None:
        release()
        acquire()

    return fence


class Lanes(dict[int, int]):
    """Thread ident → its number in the records (the n-th thread of a process to write
    is lane n; the first, lane 0). A thread's first record takes the next number under a
    lock: two threads whose first records raced (the GIL switched between counting and
    storing) once got the same number, and the engine took their records for one program
    order, a write's end paired with another thread's begin (order.conflict in threads4)."""

    def __init__(self) -> None:
        super().__init__({threading.get_ident(): 0})
        self._lock = threading.Lock()

    def number(self, ident: int) -> int:
        with self._lock:
            return self.setdefault(ident, min(len(self), 255))


class Ring:
    """One worker's ring. Create it in the engine before fork; both sides then share it."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, fd: int = -1) -> None:
        if capacity & (capacity - 1) or capacity < 4096:
            raise ValueError("ring capacity must be a power of two >= 4096")
        self.capacity = capacity
        # An anonymous shared mapping: inherited by fork, named nowhere, so it cannot leak.
        if fd < 0:
            fd = os.memfd_create("ipcviz-ring", os.MFD_CLOEXEC)
            try:
                os.ftruncate(fd, HEADER_SIZE + capacity)
            except OSError:
                os.close(fd)
                raise
        self.fd = fd
        try:
            self.mm = mmap.mmap(self.fd, HEADER_SIZE + capacity)
        except OSError:
            os.close(fd)
            raise
        #: The shared words, each read and written whole. ``struct`` packs "<Q" a byte at a
        #: time (low byte first) and unpacks it a byte at a time: the engine could read a
        #: stamp being written as 0 (its low byte 0, the rest not yet there) and think no
        #: stamp pending, or a head half old, half new. A memoryview of native 8-byte words
        #: loads and stores each aligned word with one instruction.
        self.words = memoryview(self.mm)[:HEADER_SIZE].cast("Q")
        self._head = 0  # writer's private copy of the head
        self._tail = 0  # reader's private copy of the tail
        #: the worker's forks under way, by when each began (``fork_began``): threads may
        #: fork at once, and the word holds the earliest until the last one ends
        self._forks: list[int] = []
        self._fork_lock = threading.Lock()

    @classmethod
    def adopt(cls, fd: int) -> Ring:
        """The engine's side of a ring a forked child made and sent (its memfd); takes ``fd``
        (closed if this raises)."""
        try:
            size = os.fstat(fd).st_size - HEADER_SIZE
        except OSError:
            os.close(fd)
            raise
        try:
            return cls(size, fd)
        except ValueError:
            os.close(fd)
            raise

    # -- worker side -------------------------------------------------------------------

    def writer(self) -> Callable[[int, int, int, int, bytes], None]:
        """A fast ``emit(code, obj, a, b, payload)`` bound to this ring, for the worker.

        One ring has one writer *process*, but that process may run threads: a record is
        reserved, written and published under a lock, or two threads would tear it.
        """
        mm = self.mm
        cap = self.capacity
        mask = cap - 1
        pack = RECORD.pack_into
        words = self.words
        now = time.monotonic_ns
        ring = self
        lock = threading.Lock()
        acquire, release = lock.acquire, lock.release
        # Each thread is a program order of its own: records of the n-th thread to write
        # carry n in the high byte of their code (the engine orders each thread apart).
        get_ident = threading.get_ident
        lanes = Lanes()
        new_lane = lanes.number
        fence = memory_fence()

        def emit(
            code: int,
            obj: int,
            a: int = 0,
            b: int = 0,
            payload: bytes = b"",
            t: int = 0,
            more: tuple[tuple[int, int, int, int], ...] = (),
        ):
            """``more``: further records ``(code, obj, a, b)`` written right after this one,
            under the same lock and with the same stamp: the parts of one semop, which the
            kernel applied at one instant (the engine joins parts with equal stamps). A
            stamp taken apart, outside the lock, could be older than what the engine has
            published already (see ``_PENDING``)."""
            if len(payload) > MAX_PAYLOAD:
                payload = payload[:MAX_PAYLOAD]
            size = 32 + len(payload)
            adv = (size + 7) & ~7
            lane = lanes.get(get_ident())
            if lane is None:
                lane = new_lane(get_ident())
            code |= lane << 8
            acquire()  # stamped inside: a ring's records stay in stamp order across threads
            try:
                words[_W_PENDING] = STAMPING  # before the clock: see _PENDING
                fence()  # ... seen by the engine before the clock is read (memory_fence)
                t = t or now()
                words[_W_PENDING] = t
                head = ring._head
                pos = head & mask
                to_end = cap - pos
                need = adv if adv <= to_end else to_end + adv
                if cap - (head - words[_W_TAIL]) < need:
                    ring._wait_for_room(need, head)
                if adv > to_end:
                    _SIZE_CODE.pack_into(mm, HEADER_SIZE + pos, to_end, PAD)
                    head += to_end
                    pos = 0
                off = HEADER_SIZE + pos
                pack(mm, off, size, code, obj, t, a, b)
                if payload:
                    mm[off + 32 : off + size] = payload
                head += adv
                for part_code, part_obj, part_a, part_b in more:
                    head = put(head, part_code | lane << 8, part_obj, t, part_a, part_b)
                ring._head = head
                words[_W_HEAD] = head  # publish last: the reader sees whole records only
                words[_W_PENDING] = 0
            finally:
                release()

        def put(head: int, code: int, obj: int, t: int, a: int, b: int) -> int:
            """One record without payload at ``head`` (under the lock); the new head."""
            pos = head & mask
            to_end = cap - pos
            need = 32 if to_end >= 32 else to_end + 32
            if cap - (head - words[_W_TAIL]) < need:
                ring._wait_for_room(need, head)
            if to_end < 32:
                _SIZE_CODE.pack_into(mm, HEADER_SIZE + pos, to_end, PAD)
                head += to_end
                pos = 0
            pack(mm, HEADER_SIZE + pos, 32, code, obj, t, a, b)
            return head + 32

        return emit

    def fork_began(self) -> int:
        """The worker is about to fork: until ``fork_ended``, the engine publishes nothing
        stamped after now. The child's first record (``proc.start``, stamped in the child)
        is in a ring the engine does not know until the child announces it; without this,
        another process's operation stamped after the fork could be published first (step
        mode holds nothing back: ``verify`` rejected a forking run in 5 of 10 seeds). The
        same handshake as the pending slot (``_PENDING``). Returns the fork's stamp, for
        its ``fork_ended``: two threads that fork at once each hold until their own child
        is announced (one word for both, the first to end cleared the other's hold)."""
        with self._fork_lock:
            words = self.words
            if not self._forks:  # (else the word holds an earlier stamp already)
                words[_W_FORKING] = STAMPING
                memory_fence()()
            t = time.monotonic_ns()
            self._forks.append(t)
            words[_W_FORKING] = self._forks[0]
        return t

    def fork_ended(self, began: int) -> None:
        """The child of the fork that began at ``began`` announced itself (or the fork
        failed): its hold is over; the word holds the earliest fork still under way."""
        with self._fork_lock:
            if began in self._forks:
                self._forks.remove(began)
            self.words[_W_FORKING] = self._forks[0] if self._forks else 0

    def _wait_for_room(self, need: int, head: int) -> None:
        """The ring is full: wait for the engine to drain it, and count the stall."""
        words = self.words
        words[_W_STALLS] += 1
        delay = 20e-6
        while self.capacity - (head - words[_W_TAIL]) < need:
            time.sleep(delay)
            delay = min(delay * 2, 2e-3)

    def gate_flag(self) -> int:
        return self.mm[_GATE]

    # -- engine side -------------------------------------------------------------------

    def set_gate_flag(self, value: int) -> None:
        self.mm[_GATE] = value

    def set_present_flag(self, value: int) -> None:
        """Presenter mode: the worker waits at its gate after each narration step."""
        self.mm[PRESENT_FLAG] = value

    def pending_stamp(self) -> int:
        """The stamp of a record the worker is writing now, or 0 (``STAMPING``: it is
        reading the clock). Read the engine's clock first, then ``memory_fence()``, then
        this: a record stamped before that clock reading is then either drained or
        pending here."""
        return self.words[_W_PENDING]

    def forking(self) -> int:
        """When the worker began a fork whose child is not announced yet, or 0: nothing
        stamped after it may be published yet (``fork_began``). Read like ``pending_stamp``."""
        return self.words[_W_FORKING]

    def unread(self) -> bool:
        """The worker published records the engine has not drained yet."""
        return self.words[_W_HEAD] != self._tail

    def awaits(self) -> int:
        """The pid the worker waits to see asleep in the kernel, or 0 (``AWAITS_OFFSET``)."""
        return self.words[_W_AWAITS]

    def stalls(self) -> int:
        return self.words[_W_STALLS]

    def drain(self, out: list[Record], limit: int = 1 << 30) -> int:
        """Append whole records to ``out`` (at most ``limit``); returns how many."""
        mm = self.mm
        mask = self.capacity - 1
        head = self.words[_W_HEAD]
        tail = self._tail
        count = 0
        unpack = RECORD.unpack_from
        append = out.append
        while tail < head and count < limit:
            off = HEADER_SIZE + (tail & mask)
            # One unpack of the whole header (two, a size and code first, cost a tenth of
            # the drain); a PAD's other fields are whatever the bytes hold, unread.
            try:
                size, code, obj, t, a, b = unpack(mm, off)
            except struct.error:  # a PAD of fewer than 32 bytes, at the very end
                size, code = _SIZE_CODE.unpack_from(mm, off)
            if code == PAD:
                tail += size
                continue
            append((code, obj, t, a, b, mm[off + 32 : off + size] if size > 32 else b""))
            tail += (size + 7) & ~7
            count += 1
        self._tail = tail
        self.words[_W_TAIL] = tail
        return count

    def close(self) -> None:
        try:
            self.words.release()  # an exported view would keep the mapping from closing
            self.mm.close()
        finally:
            os.close(self.fd)
