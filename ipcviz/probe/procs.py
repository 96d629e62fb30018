"""Who is blocked on what (from /proc/PID/syscall and wchan), and cheap per-process facts.

/proc/PID/syscall (root needed) is ``running``, or ``-1 SP PC`` (in the kernel but not in a
syscall), or ``NR A1..A6 SP PC`` in hex while the task sleeps in syscall NR; it describes the
thread-group leader only. wchan names the kernel wait point; verified here: anon_pipe_read,
anon_pipe_write, futex_do_wait (POSIX sem), __do_semtimedop (SysV sem), wq_sleep (POSIX mq
send/receive), do_msgrcv, do_msgsnd, wait_for_partner (FIFO open), hrtimer_nanosleep,
do_wait (wait4), do_signal_stop (SIGSTOPped: the syscall line still shows the interrupted
call, which restarts on SIGCONT; BlockInfo.stopped tells).
Syscall names/arguments use the x86_64 table; on other machines `syscall` and `target` are None.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

import psutil

from ._libc import IS_X86_64
from ._procfs import fd_inode, maps, read_text, readlink, strip_deleted

SYSCALLS_X86_64: dict[int, str] = {
    0: "read",
    1: "write",
    2: "open",
    7: "poll",
    17: "pread64",
    18: "pwrite64",
    19: "readv",
    20: "writev",
    23: "select",
    34: "pause",
    35: "nanosleep",
    42: "connect",
    43: "accept",
    44: "sendto",
    45: "recvfrom",
    46: "sendmsg",
    47: "recvmsg",
    61: "wait4",
    65: "semop",
    69: "msgsnd",
    70: "msgrcv",
    72: "fcntl",
    73: "flock",
    130: "rt_sigsuspend",
    202: "futex",
    220: "semtimedop",
    230: "clock_nanosleep",
    232: "epoll_wait",
    242: "mq_timedsend",
    243: "mq_timedreceive",
    247: "waitid",
    257: "openat",
    270: "pselect6",
    271: "ppoll",
    275: "splice",
    276: "tee",
    281: "epoll_pwait",
    288: "accept4",
    437: "openat2",
    441: "epoll_pwait2",
}

_FD_CALLS = frozenset(
    {"read", "write", "pread64", "pwrite64", "readv", "writev", "splice", "tee"}
    | {"connect", "accept", "accept4", "sendto", "recvfrom", "sendmsg", "recvmsg"}
)
_MQ_CALLS = frozenset({"mq_timedsend", "mq_timedreceive"})
_SEM_CALLS = frozenset({"semop", "semtimedop"})
_MSG_CALLS = frozenset({"msgsnd", "msgrcv"})
_SLEEP_CALLS = frozenset({"nanosleep", "clock_nanosleep", "pause"})
_CHILD_CALLS = frozenset({"wait4", "waitid"})
_OPEN_PATH_ARG = {"open": 0, "openat": 1, "openat2": 1}
_AT_FDCWD = -100
_STOP_WCHANS = frozenset({"do_signal_stop", "ptrace_stop"})
_SEM_PREFIX = "/dev/shm/sem."


@dataclass(frozen=True, slots=True)
class BlockTarget:
    """The kernel object a blocked syscall waits on; only the fields that apply are set.

    kind: "fd" (read/write/... and POSIX mq send/receive: fd, inode, path = readlink if it is
    a path, name = queue name for mq), "futex" (address, path of the mapping it falls in,
    offset into that file, name = "/NAME" for a POSIX named semaphore), "semop" (a System V
    semaphore) and "msgq" (a System V message queue: ipc_id), "fifo_open" (path, if it
    could be read from /proc/PID/mem), "sleep", "child".
    """

    kind: str
    fd: int | None = None
    inode: int | None = None
    address: int | None = None
    ipc_id: int | None = None
    path: str | None = None
    name: str | None = None
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class BlockInfo:
    """What a process is doing in the kernel right now."""

    nr: int | None  # syscall number; None when running or not in a syscall
    syscall: str | None  # its name if known
    args: tuple[int, ...]  # the six raw arguments (unsigned)
    wchan: str  # kernel wait point, "0" or "" when none
    target: BlockTarget | None

    @property
    def stopped(self) -> bool:
        """True when the process is stopped (SIGSTOP / ptrace), not waiting on its object."""
        return self.wchan in _STOP_WCHANS


@dataclass(frozen=True, slots=True)
class ProcStats:
    """Cheap process facts from psutil."""

    pid: int
    status: str
    cpu_percent: float  # since the previous sample of this pid (0.0 on the first)
    cpu_num: int
    rss: int
    num_threads: int


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def _read_c_string(pid: int, addr: int, limit: int = 4096) -> str | None:
    """NUL-terminated string at addr in PID's memory (root can read /proc/PID/mem)."""
    if addr == 0:
        return None
    try:
        fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        data = b""
        pos = addr
        while len(data) < limit:
            step = 4096 - (pos % 4096)  # never cross into a possibly unmapped page in one read
            try:
                chunk = os.pread(fd, step, pos)
            except OSError:
                return None
            if not chunk:
                return None
            end = chunk.find(b"\0")
            if end >= 0:
                return os.fsdecode(data + chunk[:end])
            data += chunk
            pos += len(chunk)
        return None
    finally:
        os.close(fd)


def _open_path(pid: int, name: str, args: tuple[int, ...]) -> str | None:
    raw = _read_c_string(pid, args[_OPEN_PATH_ARG[name]])
    if raw is None or raw.startswith("/"):
        return raw
    dirfd = _AT_FDCWD if name == "open" else _s32(args[0])
    base = readlink(f"/proc/{pid}/cwd" if dirfd == _AT_FDCWD else f"/proc/{pid}/fd/{dirfd}")
    if base is None or not base.startswith("/"):
        return None
    return os.path.normpath(os.path.join(base, raw))


def _is_fifo(pid: int, path: str) -> bool:
    try:
        return stat.S_ISFIFO(os.stat(f"/proc/{pid}/root{path}").st_mode)
    except OSError:
        return False


def _fd_target(pid: int, fd: int, mq: bool) -> BlockTarget:
    link = readlink(f"/proc/{pid}/fd/{fd}")
    path = link if link is not None and link.startswith("/") else None
    return BlockTarget("fd", fd=fd, inode=fd_inode(pid, fd), path=path, name=path if mq else None)


def _sem_path_by_inode(inode: int) -> str | None:
    """Current /dev/shm/sem.NAME whose inode is `inode`.

    glibc's sem_open, when it creates the semaphore, maps a temporary file
    (/dev/shm/sem.XXXXXX), links it to sem.NAME and unlinks the temporary name; so the
    creator's (and its forked children's) /proc/PID/maps show "/dev/shm/sem.TBFZYY (deleted)".
    """
    try:
        with os.scandir("/dev/shm") as it:
            for entry in it:
                if entry.name.startswith("sem.") and entry.inode() == inode:
                    return entry.path
    except OSError:
        pass
    return None


def _futex_target(pid: int, addr: int) -> BlockTarget:
    for m in maps(pid) or ():
        if m.start <= addr < m.end:
            if not m.path or m.path.startswith("["):
                break  # anonymous / [heap] / [stack]: process-private
            path = m.path
            if path != strip_deleted(path) and path.startswith(_SEM_PREFIX):
                path = _sem_path_by_inode(m.inode) or path  # stays "(deleted)" if sem_unlink'ed
            live = path == strip_deleted(path)
            name = "/" + path[len(_SEM_PREFIX) :] if live and path.startswith(_SEM_PREFIX) else None
            offset = addr - m.start + m.offset
            return BlockTarget("futex", address=addr, path=path, name=name, offset=offset)
    return BlockTarget("futex", address=addr)


def _classify(pid: int, name: str, args: tuple[int, ...], wchan: str) -> BlockTarget | None:
    if name in _FD_CALLS or name in _MQ_CALLS:
        return _fd_target(pid, _s32(args[0]), name in _MQ_CALLS)
    if name == "futex":
        return _futex_target(pid, args[0])
    if name in _SEM_CALLS:
        return BlockTarget("semop", ipc_id=_s32(args[0]))
    if name in _MSG_CALLS:
        return BlockTarget("msgq", ipc_id=_s32(args[0]))
    if name in _SLEEP_CALLS:
        return BlockTarget("sleep")
    if name in _CHILD_CALLS:
        return BlockTarget("child")
    if name in _OPEN_PATH_ARG:
        path = _open_path(pid, name, args)
        if wchan == "wait_for_partner" or (path is not None and _is_fifo(pid, path)):
            return BlockTarget("fifo_open", path=path)
    return None


def blocked_on(pid: int) -> BlockInfo | None:
    """The syscall PID sleeps in, its wait point and the object it waits on; None if gone."""
    text = read_text(f"/proc/{pid}/syscall")
    if text is None:
        return None
    wchan = (read_text(f"/proc/{pid}/wchan") or "").strip()
    fields = text.split()
    if not fields or fields[0] == "running" or fields[0] == "-1" or len(fields) < 7:
        return BlockInfo(None, None, (), wchan, None)
    nr = int(fields[0])
    args = tuple(int(a, 16) for a in fields[1:7])
    name = SYSCALLS_X86_64.get(nr) if IS_X86_64 else None
    target = _classify(pid, name, args, wchan) if name is not None else None
    return BlockInfo(nr, name, args, wchan, target)


class ProcSampler:
    """Keeps one psutil.Process per pid so cpu_percent measures the interval between samples."""

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}

    def sample(self, pid: int) -> ProcStats | None:
        """Current facts for pid, None if it no longer exists (a zombie reports status only)."""
        proc = self._procs.get(pid)
        try:
            if proc is None or not proc.is_running():  # is_running also catches pid reuse
                proc = psutil.Process(pid)
                self._procs[pid] = proc
            with proc.oneshot():
                status = proc.status()
                if status == psutil.STATUS_ZOMBIE:
                    return ProcStats(pid, status, 0.0, -1, 0, 0)
                return ProcStats(
                    pid,
                    status,
                    proc.cpu_percent(None),
                    proc.cpu_num(),
                    proc.memory_info().rss,
                    proc.num_threads(),
                )
        except psutil.ZombieProcess:
            return ProcStats(pid, psutil.STATUS_ZOMBIE, 0.0, -1, 0, 0)
        except psutil.Error:
            self._procs.pop(pid, None)
            return None

    def forget(self, pid: int) -> None:
        """Drop the cached state of pid (call when a process is reaped)."""
        self._procs.pop(pid, None)

    def prune(self, alive: set[int]) -> None:
        """Drop cached pids not in alive."""
        for pid in [p for p in self._procs if p not in alive]:
            del self._procs[pid]


_default_sampler = ProcSampler()


def proc_stats(pid: int) -> ProcStats | None:
    """ProcStats for pid from a module-wide ProcSampler (see ProcSampler for the cpu interval)."""
    return _default_sampler.sample(pid)
