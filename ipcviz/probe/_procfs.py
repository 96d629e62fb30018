"""Small race-tolerant /proc readers shared by the probes (None when the thing is gone)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mapping:
    """One line of /proc/PID/maps."""

    start: int
    end: int
    offset: int
    inode: int
    path: str


def read_text(path: str) -> str | None:
    """Whole small /proc file as text, or None if it cannot be read now."""
    try:
        with open(path, "rb", buffering=0) as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def comm(pid: int) -> str | None:
    """The command name of ``pid`` (``/proc/PID/comm``), or None if it is gone. Any process
    may set it to any bytes (``prctl(PR_SET_NAME)``): bytes that are not UTF-8 are kept as
    surrogates (``surrogateescape``, as names from strace are) for ``bytefmt`` to show as
    ``\\xNN``; a strict read raised UnicodeDecodeError and crashed the engine."""
    try:
        with open(f"/proc/{pid}/comm", "rb", buffering=0) as f:
            return f.read().rstrip(b"\n").decode("utf-8", "surrogateescape")
    except OSError:
        return None


#: A /dev/shm file's identity: its inode number (one filesystem: two files with the same
#: one are the same file). Known from a descriptor, or from a process's mapping of it.
Identity = int


def open_regular(path: str, same: Identity | None = None) -> int | None:
    """A read-only fd of the regular file at ``path``, or None (gone, a symlink, not a
    regular file, or, with ``same``, another file than the one of that inode). /dev/shm
    is writable by every user: one who puts a FIFO where a segment or semaphore was
    unlinked must not hang the engine in open(2), hence O_NONBLOCK; one who puts a regular
    file there must not have it read as the object the name was (``same``)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and (same is None or st.st_ino == same):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def readlink(path: str) -> str | None:
    """Target of a /proc symlink, or None."""
    try:
        return os.readlink(path)
    except OSError:
        return None


def fifo_inode(pid: int, fd: int) -> int | None:
    """Inode of the pipe or FIFO behind /proc/PID/fd/N (stat follows the magic link, no open)."""
    try:
        st = os.stat(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None
    return st.st_ino if stat.S_ISFIFO(st.st_mode) else None


def fd_inode(pid: int, fd: int) -> int | None:
    """Inode of whatever /proc/PID/fd/N refers to, or None."""
    try:
        return os.stat(f"/proc/{pid}/fd/{fd}").st_ino
    except OSError:
        return None


def strip_deleted(path: str) -> str:
    """Drop the ' (deleted)' suffix the kernel appends to unlinked paths."""
    return path[: -len(" (deleted)")] if path.endswith(" (deleted)") else path


def maps(pid: int) -> list[Mapping] | None:
    """Parsed /proc/PID/maps (file-backed and anonymous mappings), or None."""
    text = read_text(f"/proc/{pid}/maps")
    if text is None:
        return None
    out: list[Mapping] = []
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 5:
            continue
        lo, _, hi = parts[0].partition("-")
        path = parts[5] if len(parts) > 5 else ""
        out.append(Mapping(int(lo, 16), int(hi, 16), int(parts[2], 16), int(parts[4]), path))
    return out


def shm_name(name: str) -> str:
    """Validate a POSIX IPC name ('/x' or 'x') and return it without the leading slash."""
    bare = name[1:] if name.startswith("/") else name
    if not bare or "/" in bare or bare in (".", ".."):
        raise ValueError(f"invalid POSIX IPC name: {name!r}")
    return bare
