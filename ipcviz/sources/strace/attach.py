"""``ipcviz attach PID``: a running process tree, what it holds, and strace's ``-p`` list.

Why a module of its own: attaching differs from ``run --`` in what exists *before* the
trace begins. The processes already run (found from ``/proc/PID/task/*/children``), and the
objects they hold already exist, maybe with bytes or messages in them (found from
``/proc/PID/fd``). Nothing of that was traced: the processes are declared as found, the
objects as ``discovered`` and ``outside`` (they may hold contents no event shows), and what
they hold is only ever a kernel probe's reading, with its time — never made-up writes.

Everything here only reads ``/proc``: it never signals, stops or opens a watched process.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ipcviz.errors import IpcvizError
from ipcviz.probe import _procfs
from ipcviz.sources.strace import parser as P
from ipcviz.sources.strace.mapper import FIFO, MQ_PREFIX, PIPE, POSIX_MQ

#: ``fdinfo`` flags: the access mode and close-on-exec (octal, as the kernel prints them)
_O_ACCMODE, _O_WRONLY, _O_CLOEXEC = 0o3, 0o1, 0o2000000
#: At most this many processes in a watched tree (strace gets one ``-p`` each).
MAX_TREE = 512


@dataclass
class Member:
    """One process of the watched tree, as ``/proc`` shows it at attach time."""

    pid: int
    ppid: int
    name: str  # its command name (``comm``): shown with its pid
    command: list[str]
    tids: list[int] = field(default_factory=list)  # its threads other than itself


@dataclass
class Held:
    """An IPC object the tree holds open at attach time, and who holds it where."""

    name: str  # the object's name in the run (``pipe:[INO]``, a FIFO's path, ``mq:/NAME``)
    type: str
    kernel_name: str
    #: (pid, fd, end, close-on-exec): end 0 read, 1 write (-1: a POSIX queue descriptor)
    holders: list[tuple[int, int, int, bool]] = field(default_factory=list)


def _status(pid: int) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                out[key] = value.strip()
    except OSError:
        return {}
    return out


def _ancestors() -> set[int]:
    """ipcviz itself and the processes it runs under: watching them would trace the tracer."""
    out, pid = set(), os.getpid()
    while pid > 1 and pid not in out:
        out.add(pid)
        ppid = _status(pid).get("PPid", "0")
        pid = int(ppid) if ppid.isdigit() else 0
    return out


def check_pid(text: str) -> int:
    """The process ``attach`` was given, or one clear line saying why it cannot be watched."""
    if not text.isdigit() or int(text) <= 0:
        raise IpcvizError(f"attach {text}: not a process id (give a positive number: ps, pgrep)")
    pid = int(text)
    if pid == 1:
        raise IpcvizError("attach 1: pid 1 (init) is not watched: it runs the whole system")
    status = _status(pid)
    if not status:
        raise IpcvizError(f"attach {pid}: no such process")
    tgid = status.get("Tgid", str(pid))
    if tgid != str(pid):
        raise IpcvizError(f"attach {pid}: a thread of process {tgid}: give {tgid}")
    if pid in _ancestors():
        raise IpcvizError(f"attach {pid}: that is ipcviz itself (or the shell running it)")
    if status.get("State", "").startswith(("Z", "X")):
        raise IpcvizError(f"attach {pid}: the process has already exited (a zombie)")
    if status.get("Kthread") == "1" or not _cmdline(pid):
        raise IpcvizError(f"attach {pid}: a kernel thread, not a program: nothing to watch")
    tracer = status.get("TracerPid", "0")
    if tracer not in ("", "0"):
        raise IpcvizError(
            f"attach {pid}: already traced by process {tracer} (a debugger or strace): "
            "a process can have one tracer only"
        )
    uid = status.get("Uid", "").split()
    if os.geteuid() != 0 and uid and uid[0] != str(os.geteuid()):
        raise IpcvizError(
            f"attach {pid}: it belongs to another user (uid {uid[0]}): only root may trace it"
        )
    return pid


def check_tools() -> None:
    """strace is there and this machine lets ipcviz attach to a process it did not start
    (Yama's ptrace_scope: 1 only a parent may, 2 only an administrator, 3 nobody)."""
    import shutil

    if shutil.which("strace") is None:
        raise IpcvizError(
            "strace is not installed (or not on PATH): `ipcviz attach` watches a process "
            "through strace -p; install it (apt-get install strace)"
        )
    try:
        scope = Path("/proc/sys/kernel/yama/ptrace_scope").read_text().strip()
    except OSError:
        return
    if scope == "3":
        raise IpcvizError(
            "tracing is disabled on this machine (kernel.yama.ptrace_scope = 3): "
            "`ipcviz attach` needs ptrace"
        )
    if scope in ("1", "2") and not _may_ptrace_any():
        raise IpcvizError(
            f"ptrace is restricted here (kernel.yama.ptrace_scope = {scope}): only "
            + ("a process's parent" if scope == "1" else "an administrator")
            + " may attach; run ipcviz attach as root, or start the program under "
            "`ipcviz run -- PROG`"
        )


def _may_ptrace_any() -> bool:
    """CAP_SYS_PTRACE (bit 19) in our effective capabilities (root has it)."""
    caps = _status(os.getpid()).get("CapEff", "0")
    try:
        return bool(int(caps, 16) >> 19 & 1)
    except ValueError:
        return os.geteuid() == 0


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [P.name_text(a) for a in raw.split(b"\0")[:-1]]


def _comm(pid: int) -> str:
    return _procfs.comm(pid) or "?"


def _children(pid: int) -> list[int]:
    """Children of every thread of ``pid`` (``/proc/PID/task/TID/children``)."""
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            text = Path(f"/proc/{pid}/task/{tid}/children").read_text()
        except OSError:
            continue
        out += [int(c) for c in text.split() if c.isdigit()]
    return out


def _tids(pid: int) -> list[int]:
    try:
        names = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    return sorted(int(t) for t in names if t.isdigit() and int(t) != pid)


def tree(root: int) -> list[Member]:
    """The process ``root`` and its descendants, parents before children."""
    out: list[Member] = []
    seen: set[int] = set()
    todo = [(root, 0)]
    while todo and len(out) < MAX_TREE:
        pid, ppid = todo.pop(0)
        if pid in seen:
            continue
        seen.add(pid)
        if not _status(pid):
            continue  # ended meanwhile
        out.append(Member(pid, ppid, _comm(pid), _cmdline(pid), _tids(pid)))
        todo += [(c, pid) for c in _children(pid)]
    return out


def _fd_flags(pid: int, fd: int) -> int | None:
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        return None
    return None


#: ``statfs``'s ``f_type`` of the mqueue filesystem (linux/magic.h).
MQUEUE_MAGIC = 0x19800202


def _is_mqueue(path: str) -> bool:
    """Whether ``path`` (a ``/proc/PID/fd/N`` link) leads into the mqueue filesystem: a
    POSIX queue's descriptor. Told by the filesystem itself (``statfs``), so it is known
    whether /dev/mqueue is mounted or not."""
    import ctypes

    from ipcviz.probe._libc import libc

    buf = ctypes.create_string_buffer(512)  # struct statfs: f_type (a long) comes first
    if libc.statfs(os.fsencode(path), buf) != 0:
        return False
    return ctypes.c_long.from_buffer(buf).value == MQUEUE_MAGIC


def held_objects(pids: list[int]) -> list[Held]:
    """Pipes, FIFOs and POSIX queues the processes hold open now (``/proc/PID/fd``)."""
    found: dict[str, Held] = {}
    for pid in pids:
        try:
            fds = sorted(int(x) for x in os.listdir(f"/proc/{pid}/fd") if x.isdigit())
        except OSError:
            continue
        for fd in fds:
            where = f"/proc/{pid}/fd/{fd}"
            try:
                link = os.readlink(where)
                st = os.stat(where)
            except OSError:
                continue
            flags = _fd_flags(pid, fd)
            if flags is None:
                continue
            end = 1 if flags & _O_ACCMODE == _O_WRONLY else 0
            cloexec = bool(flags & _O_CLOEXEC)
            if link.startswith("pipe:["):
                held = found.setdefault(link, Held(link, PIPE, link))
            elif stat.S_ISFIFO(st.st_mode) and link.startswith("/"):
                held = found.setdefault(link, Held(link, FIFO, link))
            elif link.startswith("/") and stat.S_ISREG(st.st_mode) and _is_mqueue(where):
                name = MQ_PREFIX + link
                held = found.setdefault(name, Held(name, POSIX_MQ, link))
                end = -1
            else:
                continue
            held.holders.append((pid, fd, end, cloexec))
    return list(found.values())


def attached_to(pid: int, tracer: int) -> bool:
    """Whether ``tracer`` traces ``pid`` now (``TracerPid``): strace's attach is done."""
    return _status(pid).get("TracerPid") == str(tracer)


def proc_state(pid: int) -> str:
    """The one-letter state of ``pid`` (``R``, ``S``, ``t``…), "" when it is gone."""
    return _status(pid).get("State", " ")[:1].strip()
