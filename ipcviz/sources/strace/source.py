"""Running a program under strace and reading what it prints, as it prints it.

strace writes to a FIFO in the session's private directory (created exclusively, 0600;
strace opens it close-on-exec, so the traced program never inherits it). The engine reads
it without blocking on every turn of its loop. strace writes a call's entry as soon as the
process enters it and the rest of the line when it returns, so a line that stays unfinished
at the end of what was read is a call in progress: its process may be blocked there, and is
shown waiting (``Mapper.entry``) before strace prints anything else.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import time
from pathlib import Path

from ipcviz.errors import IpcvizError
from ipcviz.probe import sysvipc
from ipcviz.sources.strace import parser as P
from ipcviz.sources.strace.mapper import MQ_DEFAULTS, SHM_DIR, TRACED, Mapper

#: Payload bytes strace prints per string (``-s``): a whole pipe buffer.
STRSIZE = 65536
#: A call printed whole and last is stamped as ended "now" only once it returned this long
#: ago (``Mapper.release``): well inside the engine's hold (30 ms), so it is never late.
RELEASE_WAIT_US = 10_000
#: Bytes read from strace per engine turn at most, so control and exits stay responsive.
READ_LIMIT = 1 << 20
#: The /proc/sysvipc table of each System V kind, as the trace names its ids.
SYSVIPC = {"msqid": "msg", "semid": "sem", "shmid": "shm"}

#: The System V objects that exist at one moment: kind → id → its row of /proc/sysvipc.
SysvNow = dict[str, dict[int, sysvipc.Row]]


def find_strace() -> str:
    """The strace binary on PATH, or one clear line saying it is missing."""
    path = shutil.which("strace")
    if path is None:
        raise IpcvizError(
            "strace is not installed (or not on PATH): `ipcviz run -- PROG` watches a "
            "program through strace; install it (apt-get install strace)"
        )
    return path


def check_ptrace() -> None:
    """Yama's ptrace_scope 3 forbids tracing at all: say so before starting anything."""
    try:
        scope = Path("/proc/sys/kernel/yama/ptrace_scope").read_text().strip()
    except OSError:
        return
    if scope == "3":
        raise IpcvizError(
            "tracing is disabled on this machine (kernel.yama.ptrace_scope = 3): "
            "`ipcviz run -- PROG` needs ptrace to watch a program's system calls"
        )


def clock_offset() -> int:
    """strace stamps with the wall clock, the engine with CLOCK_MONOTONIC: their difference
    (the tightest of a few samples)."""
    best = None
    for _ in range(5):
        a = time.monotonic_ns()
        w = time.time_ns()
        b = time.monotonic_ns()
        if best is None or b - a < best[0]:
            best = (b - a, w - (a + b) // 2)
    assert best is not None
    return best[1]


#: Where the kernel shows its POSIX queues, when mounted (the usual case).
MQUEUE = Path("/dev/mqueue")
MQ_DEFAULT_FILES = ("/proc/sys/fs/mqueue/msg_default", "/proc/sys/fs/mqueue/msgsize_default")


def mq_names() -> set[str] | None:
    """The POSIX queues that exist now (``/NAME``), or None where /dev/mqueue is not mounted."""
    if not os.path.ismount(MQUEUE):
        return None
    try:
        return {"/" + n for n in os.listdir(MQUEUE)}
    except OSError:
        return None


def devshm_names() -> set[str] | None:
    """The files in /dev/shm now (their paths), or None when it cannot be read: a name
    the program opens with O_CREAT alone and that is not among them is most likely its."""
    try:
        return {SHM_DIR + n for n in os.listdir(SHM_DIR)}
    except OSError:
        return None


def mq_exists(name: str) -> bool:
    """Whether the POSIX queue ``/NAME`` exists (opened read-only a moment where
    /dev/mqueue is not mounted: its messages are left alone)."""
    names = mq_names()
    if names is not None:
        return name in names
    import posix_ipc

    try:
        posix_ipc.MessageQueue(name, read=True, write=False).close()
    except posix_ipc.ExistentialError:
        return False
    except (posix_ipc.Error, OSError, ValueError):
        return True  # there, but not ours to open: it exists
    return True


def _mq_defaults() -> tuple[int, int]:
    out = []
    for path, default in zip(MQ_DEFAULT_FILES, MQ_DEFAULTS, strict=True):
        try:
            out.append(int(Path(path).read_text()))
        except (OSError, ValueError):
            out.append(default)
    return out[0], out[1]


#: What strace may write ahead of the engine before it blocks (and the program with it):
#: a whole turn of the engine's loop at full speed, so a busy turn never stalls it.
FIFO_SIZE = 1 << 20


def _grow(fd: int) -> None:
    """The FIFO's buffer as large as the system lets a user make it (fs.pipe-max-size)."""
    try:
        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    except (OSError, ValueError):
        limit = FIFO_SIZE
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, min(FIFO_SIZE, limit))
    except OSError:  # over the user's pipe quota (fs.pipe-user-pages-soft): keep 64 KiB
        pass


def _msgmnb() -> int:
    try:
        return int(Path("/proc/sys/kernel/msgmnb").read_text())
    except (OSError, ValueError):
        return 16384


class StraceSource:
    """strace's output → the mapper's actions. The engine calls ``read`` every turn."""

    def __init__(
        self, program: list[str], names: list[str], fifo: str, own_group: bool = False
    ) -> None:
        self.program = program
        self.strace = find_strace()
        #: util-linux ``setsid``, which the program is run through (``_own_group``), or
        #: None: not asked for (a scenario's command stays in its worker's group, which
        #: the scenario's engine signals), or not installed
        self.setsid = shutil.which("setsid") if own_group else None
        self.offset = clock_offset()
        root = os.path.basename(program[0]) or program[0]
        before = sysv_now()  # read before the program starts, as are the POSIX queues
        self.mapper = Mapper(
            names,
            root,
            program,
            self.offset,
            _msgmnb(),
            _mq_defaults(),
            mq_names(),
            before,
            devshm_names(),
        )
        self.fifo = fifo
        os.mkfifo(self.fifo, 0o600)  # fails if anything is there: never through a symlink
        self.fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        _grow(self.fd)
        self._rest = b""
        self._seen_partial = b""
        self.lines = 0
        #: every line stamped before this (engine clock) has been read (``horizon``)
        self.read_horizon = 0
        #: the stamp (strace's clock, µs) of the last whole line read
        self.last_us = 0
        self.before = before
        #: lines parsed and not yet fed (``read(collect=True)``), in strace's order
        self.pending: list[P.Line] = []
        #: lines collected and fed since, but not settled yet (``settle``)
        self.unsettled = False
        #: when the last read that emptied strace's pipe began (strace's clock, µs)
        self.read_at_us = 0

    def argv(self, strsize: int = STRSIZE) -> list[str]:
        return [
            self.strace, "-f", "-ttt", "-T", "-yy", "-xx", "-s", str(strsize),
            "-e", f"trace={TRACED}", "-o", self.fifo, "--", *self._own_group(), *self.program,
        ]  # fmt: skip

    def _own_group(self) -> list[str]:
        """The program in a session and process group of its own (``setsid``, which then
        execs it: its one extra exec keeps the program's name, ``_execve``), strace alone
        in the worker's. In strace's group, the program's ``kill(0, SIGKILL)`` (its own
        group, as its author meant) killed strace too: the run ended in ERROR, ipcviz
        saying it had killed them; ``kill(0, SIGSTOP)`` froze strace until the time-out.
        ipcviz's own ending never relied on the group for the program: each process
        strace saw is ended one by one (``_end_program_first``, ``kill_traced``), and
        the registry's (``kill_procs``: each one's group) and the session's marked
        descendants (``kill_leftovers``) after that; a freeze, a resume and a deadlock's
        end signal the program's group with strace's (``signal_groups``). The program
        loses no terminal: the engine runs in a session of its own already. Without
        ``setsid``: as before."""
        return [self.setsid, "--"] if self.setsid else []

    def read(self, limit: int = READ_LIMIT, collect: bool = False) -> bool:
        """Parse what strace wrote since the last call; True if more may be waiting.

        ``collect``: keep the parsed lines in ``pending`` instead of feeding the mapper
        (then ``settle()``): several straces sharing their objects' state are fed in one
        order of time (``ipcviz/sources/strace/commands.py``)."""
        before = time.time_ns()
        got = 0
        more = False
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                break
            got += len(chunk)
            self._lines(chunk, collect)
            if got >= limit:
                more = True
                break
        if more:
            # A flood faster than the engine: the pipe is never empty, and a horizon moved
            # only by an empty pipe stood still while the backlog grew (nothing published
            # live, all of it ordered at the stop). strace stamps each line as it writes it
            # (an interrupted call is split, ``<unfinished ...>``), so its stamps rise in
            # the pipe: every line stamped before the last one read has been read.
            self.read_horizon = max(self.read_horizon, self.last_us * 1000 - self.offset)
        else:
            self.read_horizon = before - self.offset
            self.read_at_us = before // 1000
            if collect:
                self.unsettled = True
            else:
                self.settle()
        return more

    @property
    def horizon(self) -> int:
        """Every operation that began before this (engine clock) is in the pool: every
        line stamped before it was read, and none of them is kept back. A child's calls
        printed before its parent's fork returned are read but wait for that fork to name
        it (``Mapper.waiting_since``); past them, the engine published what ended 30 ms
        before the horizon (another's send) while the child's earlier send, stamped long
        before, was still held back, and had to go first."""
        first = self.mapper.waiting_since()
        if first is None:
            return self.read_horizon
        return min(self.read_horizon, self.mapper._entry_ns(first))

    def settle(self) -> None:
        """Everything read is fed: a call begun and not printed whole is in progress, and
        a call held for its end ended before now."""
        self.unsettled = False
        self._partial()
        # Everything strace wrote before the last read began has been read: that is when a
        # held call is known to have ended by. Not the clock now: the engine may have been
        # off the CPU since that read (or fed other straces first) while strace wrote the
        # line that bounds the call (a child's first call, found too late, came before
        # its own proc.start, stamped at this clock).
        self.mapper.release(self.read_at_us + 1, RELEASE_WAIT_US)

    def _lines(self, chunk: bytes, collect: bool = False) -> None:
        data = self._rest + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            self._rest = data
            return
        self._rest = data[cut + 1 :]
        feed = self.mapper.feed
        parse = P.parse_line
        lines = data[:cut].decode("ascii", "replace").split("\n")
        self.lines += len(lines)
        if collect:
            feed = self.pending.append
        last = None
        for text in lines:
            line = parse(text)
            if line is not None:
                feed(line)
                last = line
        if last is not None:
            self.last_us = last.t

    def _partial(self) -> None:
        """A call whose line strace began and has not ended: the process is in it now."""
        rest = self._rest
        if not rest or rest == self._seen_partial:
            return
        self._seen_partial = rest
        entry = P.parse_entry(rest.decode("ascii", "replace"))
        if entry is not None:
            self.mapper.entry(*entry)

    def finish(self) -> None:
        """strace has exited: read to the end, and close the FIFO."""
        while self.read():
            pass
        if self._rest:
            self._lines(b"\n")
        self.mapper.finish()
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def made_here(
        self, kind: str, ident: int | str, made: set[tuple[str, int]] | None = None
    ) -> bool:
        """The program's own call created this leftover: IPC_PRIVATE or IPC_CREAT|IPC_EXCL
        for a System V object (one it only opened may be another's, made during the run),
        mkfifo or O_CREAT|O_EXCL for the others, the object then seen under its name
        (``Mapper.own``; ``remove_leftover`` checks it is the one there now). ``made``:
        ``made_sysv(now)``, worked out once for many objects."""
        mapper = self.mapper
        if kind not in SYSVIPC:
            return str(ident) in mapper.own
        return (kind, ident) in (self.made_sysv() if made is None else made)

    def made_sysv(self, now: SysvNow | None = None) -> set[tuple[str, int]]:
        """System V objects (kind, id) the program's own calls created: IPC_PRIVATE or
        IPC_CREAT|IPC_EXCL, or a segment whose creator pid (``cpid``) is the program's.
        ``now``: ``sysv_now()``, the segments' creators read there."""
        mapper = self.mapper
        out = {mapper.sysv_ids[name] for name in mapper.made if name in mapper.sysv_ids}
        out.update(("semid", ident) for ident in mapper.sets_made())
        segments = (sysv_now() if now is None else now)["shmid"]
        out.update(("shmid", i) for i, row in segments.items() if row["cpid"] in mapper.procs)
        return out

    def leftovers(self, now: SysvNow | None = None) -> list[tuple[str, str, int | str]]:
        """What the program made and left: System V objects its calls named that exist now
        and did not before the run; FIFOs, POSIX queues, segments and named semaphores it
        created and never unlinked. Each as (object name, '' if never declared: made and
        never used; kind; id or path). ``now``: ``sysv_now()``, if read already."""
        out = []
        now = sysv_now() if now is None else now
        seen = set()
        for name, (kind, ident) in self.mapper.sysv_ids.items():
            if (kind, ident) in seen:  # the semaphores of one set: one object to remove
                continue
            if (kind, ident) in self.mapper.rmid:  # removed: an object there now is another's
                continue
            seen.add((kind, ident))
            if ident in now.get(kind, {}) and ident not in self.before.get(kind, {}):
                # (a set's first semaphore the trace declared: ``semid:ID[n]``, never the
                # undeclared ``semid:ID``, which `ipcviz verify` rightly calls unknown)
                out.append((name, kind, ident))
        for ident, (_n, key, _made) in self.mapper._sets.items():  # never used: not declared
            if not key or ("semid", ident) in self.mapper.rmid:  # ('': a scenario's own)
                continue
            if (
                ("semid", ident) not in seen
                and ident in now["semid"]
                and ident not in self.before["semid"]
            ):
                out.append(("", "semid", ident))
        # a segment the program's process made in a call ipcviz never saw end (killed in
        # it): its creator pid says whose it is
        for ident, row in now["shmid"].items():
            key = ("shmid", ident)
            if (
                row["cpid"] in self.mapper.procs
                and key not in seen
                and key not in self.mapper.rmid
                and ident not in self.before["shmid"]
            ):
                seen.add(key)
                out.append(("", "shmid", ident))
        for path, linked in self.mapper.fifos.items():  # FIFOs it made and did not unlink
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if linked and stat.S_ISFIFO(st.st_mode):
                out.append((self.mapper.fifo_names.get(path, path), "FIFO", path))
        maybe = self.mapper.mq_maybe_made  # (no /dev/mqueue: made by O_CREAT alone, maybe)
        for kernel_name, (name, made, linked) in self.mapper.queues.items():
            if (made or kernel_name in maybe) and linked and mq_exists(kernel_name):
                out.append((name, "POSIX queue", kernel_name))
        out += devshm_leftovers(self.mapper)
        return out


def sysv_now() -> SysvNow:
    """The System V objects of each kind that exist now, each with its row (one reading of
    each table, shared by everything decided from it)."""
    return {
        kind: {row["id"]: row for row in sysvipc.read(table)} for kind, table in SYSVIPC.items()
    }


def _under_name(kind: str, ident: int | str) -> os.stat_result | None:
    """What the name ``ident`` leads to now (a POSIX queue opened read-only a moment, its
    messages left alone; a path not followed), or None when nothing does."""
    import posix_ipc

    try:
        if kind == "POSIX queue":
            queue = posix_ipc.MessageQueue(str(ident), read=True, write=False)
            try:
                return os.fstat(queue.mqd)
            finally:
                queue.close()
        return os.lstat(ident)
    except (OSError, posix_ipc.Error, ValueError):
        return None


def _is_held(st: os.stat_result, own: int) -> bool:
    """``st`` is the very object ``own`` (a descriptor held since the call) holds."""
    held = os.fstat(own)
    return (st.st_dev, st.st_ino) == (held.st_dev, held.st_ino)


def replaced(kind: str, ident: int | str, own: int | None) -> bool:
    """The name ``ident`` leads to another object than the one the program made (``own``,
    held since its call was seen): someone else's is there now."""
    if own is None or kind in SYSVIPC:
        return False
    st = _under_name(kind, ident)
    try:
        return st is not None and not _is_held(st, own)
    except OSError:
        return False


#: What a leftover of each kind held by path must be to be removed.
_FILE_KIND = {
    "FIFO": stat.S_ISFIFO,
    "POSIX shared memory": stat.S_ISREG,
    "POSIX semaphore": stat.S_ISREG,
}


def remove_leftover(
    kind: str, ident: int | str, own: int | None = None, now: SysvNow | None = None
) -> bool:
    """Remove one object ``StraceSource.leftovers`` named that is the very object the
    program made: the System V id its call created (no other gets that id while the
    kernel's id sequence runs: only root's kernel.*_next_id could give it to another after
    a removal the program did not make), or the FIFO, queue or /dev/shm file its name
    still leads to if it is the one the program made (``own``: a descriptor of it held
    since its call was seen, ``Mapper.own``; another's made there since is never removed).
    Whoever owns it: the program may run as another user (``setpriv``, ``runuser``); ipcviz
    may remove only what its own rights let it. ``now``: ``sysv_now()``, read once for
    many objects. Used only when ipcviz itself ended the program (it never got to remove
    what it made); True if it was removed."""
    import posix_ipc
    import sysv_ipc

    from ipcviz.probe.queues import unlink_posix_mq

    try:
        if kind in SYSVIPC and isinstance(ident, int):
            if ident not in (sysv_now() if now is None else now)[kind]:
                return False
            remove = {
                "msqid": sysv_ipc.remove_message_queue,
                "semid": sysv_ipc.remove_semaphore,
                "shmid": sysv_ipc.remove_shared_memory,
            }[kind]
            remove(ident)
            return True
        if own is None or not isinstance(ident, str):
            return False
        st = _under_name(kind, ident)
        if st is None or not _is_held(st, own):
            return False
        if kind == "POSIX queue":
            unlink_posix_mq(ident)
            return True
        if kind in _FILE_KIND and _FILE_KIND[kind](st.st_mode):
            os.unlink(ident)
            return True
    except (OSError, sysv_ipc.Error, posix_ipc.Error, ValueError):
        return False
    return False


def devshm_leftovers(mapper: Mapper) -> list[tuple[str, str, int | str]]:
    """POSIX segments and named semaphores the program created and left linked (their
    files in /dev/shm are still there): O_CREAT|O_EXCL, or O_CREAT alone on a name that
    was free before the run (``DevShm.created``; named, never removed: ``made_here``)."""
    out: list[tuple[str, str, int | str]] = []
    for path, known in mapper.devshm.items():
        if not (known.created and known.linked):
            continue
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            kind = "POSIX semaphore" if known.is_sem else "POSIX shared memory"
            out.append((known.obj, kind, path))  # obj '': opened, never mapped
    return out
