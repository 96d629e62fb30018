"""Objects made inside workers after start: a shared, append-only log the engine reads.

Why: a ring record names its object by a small index, and the engine turns that index into
a name. A scenario's objects get theirs before fork; an object made later by a worker (the
lecture's ``pipe(); fork();``) needs an index no other worker uses, and the engine must know
its name before it names any record, and its kernel name before the worker creates it (so it
is removed on every exit path). One shared mapping, made by the engine and inherited by every
worker, holds a counter and a log of JSON entries; writers take a thread lock and a POSIX
record lock (one per process, so forked children and threads all serialise).

Entries: ``{"i": index, "name": name}`` (an index taken), ``{"reg": entry}`` and
``{"upd": [old, new]}`` (registry entries, written before the kernel object exists).
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from ipcviz.errors import ScenarioError

_HEADER: Final = 64  # u64 bytes used by the log, u64 next index
_LEN = struct.Struct("<I")
SIZE: Final = 1 << 20
#: Most objects workers may make in one run (record indices are 16-bit).
MAX_OBJECTS: Final = 4096


class ObjectTable:
    """Created by the engine before fork; workers append, the engine reads what is new."""

    def __init__(self, base: int) -> None:
        self.base = base
        # Anonymous shared memory (inherited by fork, named nowhere, no file-size limit);
        # the memfd is empty: it only carries the lock.
        self.mm = mmap.mmap(-1, _HEADER + SIZE)
        self.fd = os.memfd_create("ipcviz-objects", os.MFD_CLOEXEC)
        #: [0] bytes used by the log, [1] next index: whole 8-byte words (the engine reads
        #: [0] without the lock; ``struct`` would write it a byte at a time: see Ring.words)
        self.words = memoryview(self.mm)[:16].cast("Q")
        self.words[1] = base
        self._lock = threading.Lock()
        self._seen = 0  # engine: how much of the log it has read

    # -- worker side ---------------------------------------------------------------------

    def after_fork_in_child(self) -> None:
        """A thread of the parent may have held the lock at fork: the child gets a new one."""
        self._lock = threading.Lock()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            fcntl.lockf(self.fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(self.fd, fcntl.LOCK_UN)

    def allocate(self, name: str, static: Iterable[str]) -> int:
        """A fresh index for ``name``; a name already used in this run is refused."""
        with self._locked():
            taken = set(static) | {e["name"] for e in self._entries(0) if "name" in e}
            if name in taken:
                raise ScenarioError(f"an object named {name!r} already exists in this run")
            index = self.words[1]
            if index - self.base >= MAX_OBJECTS:
                raise ScenarioError(
                    f"too many objects made inside processes (at most {MAX_OBJECTS} per run)"
                )
            self._append({"i": index, "name": name})
            self.words[1] = index + 1
            return index

    def reserve(self, named: Callable[[int], None]) -> int:
        """The next index, for an object the engine itself names (a traced command's):
        no entry in the log, no count against MAX_OBJECTS (no worker ever records it).
        ``named(index)`` runs under the lock, so every worker's entry with a lower index
        is already in the log and no higher one is yet."""
        with self._locked():
            index = self.words[1]
            self.words[1] = index + 1
            named(index)
            return index

    def append(self, entry: dict[str, Any]) -> None:
        with self._locked():
            self._append(entry)

    def _append(self, entry: dict[str, Any]) -> None:
        data = json.dumps(entry, separators=(",", ":")).encode()
        used = self.words[0]
        if used + _LEN.size + len(data) > SIZE:
            raise ScenarioError("too many objects made inside processes (their table is full)")
        off = _HEADER + used
        _LEN.pack_into(self.mm, off, len(data))
        self.mm[off + _LEN.size : off + _LEN.size + len(data)] = data
        self.words[0] = used + _LEN.size + len(data)  # publish last

    def _entries(self, start: int) -> list[dict[str, Any]]:
        used = self.words[0]
        out = []
        pos = start
        while pos < used:
            n = _LEN.unpack_from(self.mm, _HEADER + pos)[0]
            raw = self.mm[_HEADER + pos + _LEN.size : _HEADER + pos + _LEN.size + n]
            pos += _LEN.size + n
            try:
                out.append(json.loads(raw))
            except ValueError:  # a worker scribbled over it: skip, the index stays unnamed
                continue
        return out

    # -- engine side ---------------------------------------------------------------------

    def new_entries(self) -> list[dict[str, Any]]:
        """Entries appended since the last call (cheap when there are none)."""
        used = self.words[0]
        if used == self._seen:
            return []
        entries = self._entries(self._seen)
        self._seen = used
        return entries

    def close(self) -> None:
        try:
            self.words.release()  # an exported view would keep the mapping from closing
            self.mm.close()
        finally:
            os.close(self.fd)


class ObjectNames(list):
    """The engine's index → name list; asking its length first reads names workers added.

    The codec asks ``len(names)`` before naming an index, so a record of an object a worker
    made is named even if it is drained in the same sweep as the entry that names it.
    """

    def __init__(self, names: Iterable[str], sync: Callable[[], None] | None = None) -> None:
        super().__init__(names)
        self.sync = sync

    def __len__(self) -> int:
        if self.sync is not None:
            self.sync()
        return super().__len__()
