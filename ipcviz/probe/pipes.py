"""Kernel truth about pipes and FIFOs (bytes waiting, capacity, contents) without disturbing them.

How a peek works, and why (verified on Linux 6.x as root):

* The observed fd is duplicated with ``pidfd_getfd(2)``: that is the *same* open file, obtained
  without a new ``open``. ``FIONREAD`` and ``F_GETPIPE_SZ`` work on either end.
* Contents are copied with ``tee(2)`` into a fresh non-blocking scratch pipe: tee duplicates
  buffer references, it never consumes. tee needs a readable source, so when the fd in hand
  is a write end, ``/proc/PID/fd/N`` is opened ``O_RDONLY|O_NONBLOCK`` and closed at once -
  but only if the pipe still has a reader (``poll`` reports ``POLLERR`` when it has none).
  Reason: opening a read end when there is no reader (a) hides ``EPIPE`` from the writer while
  it is held and (b) for a FIFO, wakes any process blocked in ``open(O_WRONLY)`` on it
  (``wait_for_partner``) - checked by experiment. So with no reader left, ``data`` is empty
  although ``nbytes`` may be > 0: nobody can read those bytes any more.
* Fallback when ``pidfd_getfd`` is not permitted (no ``CAP_SYS_PTRACE``): open
  ``/proc/PID/fd/N`` ``O_RDONLY|O_NONBLOCK`` and close it immediately, with the caveats above.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import stat
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from . import _libc
from ._procfs import fifo_inode, read_text, readlink

_NO_PIDFD_GETFD = {errno.EPERM, errno.EACCES, errno.ENOSYS}


@dataclass(frozen=True, slots=True)
class PipePeek:
    """What is inside a pipe right now."""

    nbytes: int  # bytes waiting (FIONREAD)
    capacity: int  # F_GETPIPE_SZ, 65536 by default
    data: bytes  # up to max_bytes of the waiting bytes, oldest first, NOT consumed


@dataclass(frozen=True, slots=True)
class PipeEnds:
    """Who holds which end of one pipe/FIFO: lists of (pid, fd); an O_RDWR fd is in both."""

    inode: int
    path: str | None  # FIFO path as the holder sees it; None for an anonymous pipe
    readers: list[tuple[int, int]]
    writers: list[tuple[int, int]]


def pipe_inode(pid: int, fd: int) -> int | None:
    """Inode of the pipe/FIFO at PID's fd (os.stat of /proc/PID/fd/N), None if not a pipe/gone.

    readlink gives ``pipe:[ino]`` for an anonymous pipe but the path for a FIFO; stat follows
    the magic link without opening it and yields the inode in both cases (a FIFO's inode is
    that of its file in the filesystem, equal to ``os.stat(path).st_ino``).
    """
    return fifo_inode(pid, fd)


def _fionread(fd: int) -> int:
    buf = fcntl.ioctl(fd, _libc.FIONREAD, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


def _has_no_reader(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLERR)
    return any(ev & select.POLLERR for _, ev in poller.poll(0))


def _tee_copy(src: int, length: int, capacity: int) -> bytes:
    """Copy up to length waiting bytes of pipe src through a scratch pipe, without consuming."""
    sr, sw = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if capacity > 65536:
            # tee copies buffer slots; give scratch as many slots as the source has.
            try:
                fcntl.fcntl(sw, _libc.F_SETPIPE_SZ, capacity)
            except OSError:
                pass
        try:
            n = _libc.tee(src, sw, length)
        except OSError as e:
            if e.errno == errno.EAGAIN:  # emptied meanwhile
                return b""
            raise
        chunks: list[bytes] = []
        got = 0
        while got < n:
            try:
                chunk = os.read(sr, n - got)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(sr)
        os.close(sw)


def _open_via_proc(pid: int, fd: int) -> int:
    return os.open(f"/proc/{pid}/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)


def peek_pipe(pid: int, fd: int, max_bytes: int = 65536) -> PipePeek | None:
    """Bytes waiting, capacity and contents of the pipe/FIFO at PID's fd (either end)."""
    if max_bytes < 0:
        raise ValueError("max_bytes must be >= 0")
    try:
        try:
            handle = _libc.pidfd_getfd(pid, fd)
            dup = True
        except OSError as e:
            if e.errno not in _NO_PIDFD_GETFD:
                return None
            handle = _open_via_proc(pid, fd)
            dup = False
        try:
            capacity = fcntl.fcntl(handle, _libc.F_GETPIPE_SZ)
            nbytes = _fionread(handle)
            want = min(nbytes, max_bytes)
            if want == 0:
                return PipePeek(nbytes, capacity, b"")
            readable = (fcntl.fcntl(handle, fcntl.F_GETFL) & os.O_ACCMODE) != os.O_WRONLY
            if readable:
                return _one_moment(handle, handle, nbytes, capacity, max_bytes)
            if not dup or _has_no_reader(handle):
                return PipePeek(nbytes, capacity, b"")
            src = _open_via_proc(pid, fd)
            try:
                return _one_moment(src, handle, nbytes, capacity, max_bytes)
            finally:
                os.close(src)
        finally:
            os.close(handle)
    except OSError:
        # Process or fd gone, not a pipe (F_GETPIPE_SZ -> EBADF), no FIFO reader (ENXIO)...
        return None


def _one_moment(src: int, handle: int, nbytes: int, capacity: int, max_bytes: int) -> PipePeek:
    """The count and the bytes of one moment. The pipe's processes run on while it is
    probed: a read between FIONREAD and tee left 304 bytes beside a count of 1004. So the
    count is taken again after the copy, and the pair is taken again (twice at most) until
    they agree; if they never do, the copy tells the count of its own moment (tee copies all
    that is there, up to what was asked), or the later count when it copied all it asked."""
    for _ in range(3):
        want = min(nbytes, max_bytes)
        data = _tee_copy(src, want, capacity) if want else b""
        after = _fionread(handle)
        if after == nbytes and len(data) == want:
            return PipePeek(nbytes, capacity, data)
        nbytes = after
    return PipePeek(len(data) if len(data) < want else nbytes, capacity, data)


def _access_mode(pid: int, fd: int) -> int | None:
    text = read_text(f"/proc/{pid}/fdinfo/{fd}")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("flags:"):
            return int(line.split()[1], 8) & os.O_ACCMODE
    return None


def _pipe_of(pid: int, fd: int) -> tuple[int, str | None] | None:
    link = readlink(f"/proc/{pid}/fd/{fd}")
    if link is None:
        return None
    if link.startswith("pipe:["):
        return int(link[6:-1]), None
    if not link.startswith("/"):
        return None  # socket:, anon_inode:, ...
    try:
        st = os.stat(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None
    return (st.st_ino, link) if stat.S_ISFIFO(st.st_mode) else None


def find_pipes(pids: Iterable[int]) -> dict[int, PipeEnds]:
    """Every pipe/FIFO held by the given processes, keyed by inode, with its reader/writer fds.

    Reads only /proc/PID/fd links and /proc/PID/fdinfo/N ``flags:`` (octal, O_ACCMODE); opens
    nothing. Processes or fds that vanish meanwhile are skipped. Anonymous pipes live in
    pipefs and FIFOs in their own filesystem, so in theory their inode numbers could collide.
    """
    found: dict[int, tuple[str | None, list[tuple[int, int]], list[tuple[int, int]]]] = {}
    for pid in dict.fromkeys(pids):  # de-duplicated, order kept
        try:
            names = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for name in names:
            fd = int(name)
            pipe = _pipe_of(pid, fd)
            if pipe is None:
                continue
            mode = _access_mode(pid, fd)
            if mode is None:
                continue
            ino, path = pipe
            entry = found.setdefault(ino, (path, [], []))
            if mode in (os.O_RDONLY, os.O_RDWR):
                entry[1].append((pid, fd))
            if mode in (os.O_WRONLY, os.O_RDWR):
                entry[2].append((pid, fd))
    return {
        ino: PipeEnds(ino, path, sorted(readers), sorted(writers))
        for ino, (path, readers, writers) in found.items()
    }
