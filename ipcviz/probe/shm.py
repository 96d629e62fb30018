"""Read shared memory cells directly, and show where each process maps a segment.

POSIX segments are files in /dev/shm (read with pread); System V segments are found in
/proc/sysvipc/shm and in each process's maps (their contents are read by the engine through
a read-only attachment, ``ipcviz.mechanisms.sysv_shm``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import sysvipc
from ._procfs import Identity, maps, open_regular, read_text, shm_name, strip_deleted


def read_shm(
    name: str, offset: int = 0, length: int | None = None, same: Identity | None = None
) -> bytes | None:
    """Bytes [offset, offset+length) of /dev/shm/<name> (to the end if length is None).

    Read with pread on a read-only fd: nothing is mapped or written. Shorter if the segment
    is shorter; None if it does not exist (any more), is not a regular file, or (``same``)
    is not the file of that identity: the name now names another.
    """
    if offset < 0 or (length is not None and length < 0):
        raise ValueError("offset and length must be >= 0")
    fd = open_regular("/dev/shm/" + shm_name(name), same)
    if fd is None:
        return None
    try:
        if length is None:
            length = max(0, os.fstat(fd).st_size - offset)
        chunks: list[bytes] = []
        while length > 0:
            chunk = os.pread(fd, length, offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
            length -= len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def shm_addresses(pid: int) -> dict[str, int] | None:
    """Every /dev/shm segment PID maps → the lowest address it maps it at, in one pass over
    /proc/PID/maps (only the /dev/shm lines are parsed: a Python process has hundreds)."""
    text = read_text(f"/proc/{pid}/maps")
    if text is None:
        return None
    found: dict[str, int] = {}
    for line in text.splitlines():
        at = line.find(" /dev/shm/")
        if at < 0:
            continue
        name = strip_deleted(line[at + len(" /dev/shm/") :].strip())
        start = int(line[: line.index("-")], 16)
        if name not in found or start < found[name]:
            found[name] = start
    return found


def shm_address(pid: int, name: str) -> int | None:
    """Lowest virtual address where PID maps /dev/shm/<name> (differs per process), or None."""
    path = "/dev/shm/" + shm_name(name)
    mapping = maps(pid)
    if mapping is None:
        return None
    for m in mapping:  # /proc/PID/maps is sorted by address
        if m.path and strip_deleted(m.path) == path:
            return m.start
    return None


@dataclass(frozen=True, slots=True)
class SysvShmStat:
    """One row of /proc/sysvipc/shm: what shmctl(IPC_STAT) says, without a syscall."""

    key: int
    shmid: int
    size: int
    cpid: int  # the creator
    lpid: int  # the last process to attach or detach
    nattch: int  # how many attachments (shmat) it has now
    atime: int = 0  # the last attach, in seconds (0: never)
    dtime: int = 0  # the last detach, in seconds (0: never)

    @property
    def attachments(self) -> tuple[int, int, int, int]:
        """What changes whenever a process attaches or detaches (a fork and an exit
        included): whose attachment was last, how many there are, and when."""
        return (self.lpid, self.nattch, self.atime, self.dtime)

    def last_user(self) -> dict[str, int]:
        """``{"lpid": pid}``, the last process to attach or detach, unless that was the
        caller itself (ipcviz's own read-only attachment, which says nothing of the
        processes watched): then ``{}``."""
        return {} if self.lpid == os.getpid() else {"lpid": self.lpid}


def sysv_shm_stat(shmid: int) -> SysvShmStat | None:
    """The kernel's record of System V segment ``shmid``, or None if it is gone."""
    text = read_text("/proc/sysvipc/shm")
    return None if text is None else parse_sysv_shm(text, shmid)


def sysv_shm_stats() -> dict[int, SysvShmStat]:
    """Every System V segment's record, by shmid, in one read: for readings of many
    segments at one moment (one ``sysv_shm_stat`` each parses the whole table)."""
    text = read_text("/proc/sysvipc/shm")
    if text is None:
        return {}
    found = {}
    for row in sysvipc.parse(text):
        st = _stat_of(row)
        if st is not None:
            found[st.shmid] = st
    return found


def parse_sysv_shm(text: str, shmid: int) -> SysvShmStat | None:
    """Segment ``shmid``'s row of /proc/sysvipc/shm's ``text`` (``sysvipc.parse``: a
    malformed row is no row)."""
    for row in sysvipc.parse(text):
        if row["id"] == shmid:
            return _stat_of(row)
    return None


def _stat_of(row: sysvipc.Row) -> SysvShmStat | None:
    try:
        return SysvShmStat(
            *(row[c] for c in ("key", "shmid", "size", "cpid", "lpid", "nattch")),
            atime=row.get("atime", 0),
            dtime=row.get("dtime", 0),
        )
    except KeyError:  # a kernel without one of these columns
        return None


def address_space(pid: int) -> tuple[int, int] | None:
    """(start time, address-space size in bytes) of PID, from /proc/PID/stat: the size
    changes with every mmap, munmap, shmat and shmdt, and the start time tells a reused
    pid from the process before it. Costs a thirtieth of reading /proc/PID/maps."""
    text = read_text(f"/proc/{pid}/stat")
    return None if text is None else parse_space(text)


def parse_space(text: str) -> tuple[int, int] | None:
    """Fields 22 and 23 (starttime, vsize) of /proc/PID/stat's ``text``, counted after the
    command's closing parenthesis (a command may hold spaces and parentheses), or None
    when they are not numbers (``²`` passes ``isdigit`` and fails ``int``: no traceback)."""
    at = text.rfind(")")
    fields = text[at + 1 :].split() if at >= 0 else []
    if len(fields) < 21:
        return None
    start, size = fields[19], fields[20]
    if not (start.isascii() and start.isdigit() and size.isascii() and size.isdigit()):
        return None
    return int(start), int(size)


def sysv_shm_addresses(pid: int) -> dict[int, int] | None:
    """Every System V segment PID has attached → the lowest address it is attached at.

    /proc/PID/maps shows an attachment as ``/SYSV<key in hex> (deleted)`` with the segment's
    shmid in the inode column (one pass; only those lines are parsed)."""
    text = read_text(f"/proc/{pid}/maps")
    if text is None:
        return None
    found: dict[int, int] = {}
    for line in text.splitlines():
        if " /SYSV" not in line:
            continue
        fields = line.split()
        if len(fields) < 6 or not fields[4].isdigit():
            continue
        shmid, start = int(fields[4]), int(fields[0].split("-")[0], 16)
        if shmid not in found or start < found[shmid]:
            found[shmid] = start
    return found
