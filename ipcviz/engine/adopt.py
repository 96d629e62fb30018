"""What workers make after start: processes they fork, and kernel objects they create.

A child forked by a worker announces itself on the link socket (see
``ipcviz/tracer/current.py``): its pid, its parent's pid, a label, and three descriptors —
the memfd of its own ring, a pidfd of itself and, in step-gate mode, the write end of its
gate pipe. The engine drains that ring like a worker's (``Engine.adopt_ring``) and learns of
the child's end from the pidfd: a pidfd names one process for good (no pid reuse), and is
readable once that process exited, whoever reaps it.

Objects a worker makes are named in the shared object table (``ipcviz/tracer/objtable.py``):
here the engine copies their names into its index → name list, their registry entries into
the session registry (so every exit path removes them), and remembers them for
``obj.remove`` at the end.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import select
import signal
import socket
import struct
import time
from typing import TYPE_CHECKING, Final

from ipcviz.errors import IpcvizError
from ipcviz.tracer.objtable import ObjectNames, ObjectTable
from ipcviz.tracer.ring import Ring

if TYPE_CHECKING:
    from ipcviz.engine.engine import Engine

#: ``ioctl(pidfd, PIDFD_GET_INFO)`` (Linux 6.15+): the exit status of a process someone
#: else reaped. ``struct pidfd_info`` version 0 is 64 bytes; ``exit_code`` is at offset 60.
_PIDFD_INFO_SIZE: Final = 64
_PIDFD_GET_INFO: Final = (3 << 30) | (_PIDFD_INFO_SIZE << 16) | (0xFF << 8) | 11
_PIDFD_INFO_EXIT: Final = 1 << 3
#: Most descriptors one announcement carries (ring, pidfd, gate).
_MAX_FDS: Final = 4


class Made:
    """An object a worker made: removed (``obj.remove``) with the scenario's objects."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.kernel_name = name  # non-empty: the engine's shutdown emits its ``obj.remove``

    def destroy(self) -> None:
        """Its registry entries are removed with the session's (``remove_objects``)."""


class Adopter:
    """The engine's end of the link socket and of the object table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sock_r, self.sock_w = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock_r.setblocking(False)
        self.table = ObjectTable(len(engine.scenario.objects))
        self.names = ObjectNames([o.name for o in engine.scenario.objects], self.sync_objects)
        self.pidfds: dict[int, int] = {}  # adopted pid → its pidfd, until its proc.exit
        self._checking = False

    def link(self) -> tuple[int, ObjectTable, str]:
        """What ``fork_worker`` hands each worker (``become_worker``)."""
        return self.sock_w.fileno(), self.table, self.engine.sid

    def private_fds(self) -> list[int]:
        return [self.sock_r.fileno()]

    def install(self) -> None:
        self.engine.add_periodic(0.0, self.poll)

    # -- every loop turn -------------------------------------------------------------------

    def poll(self) -> None:
        """New objects, new rings, ended children. Runs after ``_reap`` and before the loop
        checks whether every worker has exited: a child a worker announced before exiting
        is adopted before the run could end without it."""
        self.sync_objects()
        self.receive()
        self.check_exits()

    def sync_objects(self) -> None:
        entries = self.table.new_entries()
        if not entries:
            return
        engine = self.engine
        for e in entries:
            if "i" in e and isinstance(e.get("name"), str):
                index = int(e["i"])
                names = self.names
                while list.__len__(names) < index:  # an unreadable entry: keep indices aligned
                    list.append(names, f"obj{list.__len__(names)}")
                if list.__len__(names) == index:
                    list.append(names, e["name"])
                    engine._created.append(Made(e["name"]))
            elif isinstance(e.get("reg"), dict):
                engine.registry.add_object(e["reg"])
            elif isinstance(e.get("upd"), list) and len(e["upd"]) == 2:
                engine.registry.update_object(e["upd"][0], e["upd"][1])

    def receive(self) -> None:
        """Adopt every ring announced since the last turn."""
        while True:
            try:
                data, fds, flags, _addr = socket.recv_fds(self.sock_r, 4096, _MAX_FDS)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if not data:
                for fd in fds:
                    os.close(fd)
                return
            self._adopt(data, fds, truncated=bool(flags & socket.MSG_CTRUNC))

    def _adopt(self, data: bytes, fds: list[int], truncated: bool = False) -> None:
        """Adopt one announced child; one that cannot be followed (no descriptor left for
        its ring: the kernel drops what it passed, ``truncated``, or mapping it fails) is
        killed and ends the run with one clear line. Unfollowed, it would run on unseen,
        its operations missing from a trace that then explains nothing after them, until
        its full ring stopped it for good."""
        try:
            what = json.loads(data)
            pid, ppid, name = int(what["pid"]), int(what["ppid"]), str(what["name"])
            forked_at = int(what.get("t", 0))
        except (ValueError, KeyError, TypeError):
            for fd in fds:
                os.close(fd)
            return
        if truncated or not fds:  # no room for what it passed: the descriptor limit
            if fds:
                os.close(fds[0])
            self._unfollowed(pid, name, fds, OSError(errno.EMFILE, os.strerror(errno.EMFILE)))
            return
        try:
            ring = Ring.adopt(fds[0])  # (closed if it fails)
        except (ValueError, OSError) as exc:
            self._unfollowed(pid, name, fds, exc)
            return
        pidfd = fds[1] if len(fds) > 1 else -1
        gate_w = fds[2] if len(fds) > 2 else -1
        for fd in fds[3:]:
            os.close(fd)
        self.pidfds[pid] = pidfd
        try:
            self.engine.adopt_ring(
                pid, ring, name, parent=ppid, gate_w=gate_w, pidfd=pidfd, forked_at=forked_at
            )
        except OSError as exc:  # no descriptor for the registry's file either
            signal_pidfd(pidfd, signal.SIGKILL)  # (adopted: its end is seen as any other's)
            self._cannot_follow(pid, name, exc)

    def _unfollowed(self, pid: int, name: str, fds: list[int], exc: Exception) -> None:
        """A child announced and not adopted: killed (by its pidfd, never by a pid that may
        be another's now), its descriptors closed, and the run ends saying why."""
        if len(fds) > 1:
            signal_pidfd(fds[1], signal.SIGKILL)
        for fd in fds[1:]:
            os.close(fd)
        self._cannot_follow(pid, name, exc)

    def _cannot_follow(self, pid: int, name: str, exc: Exception) -> None:
        """End the run with one line: raised in the loop; once the run is ending (more
        children announced while it stops), said once as the run's error, never raised
        out of a step of the shutdown, which would skip the ones after it."""
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        limit = isinstance(exc, OSError) and exc.errno == errno.EMFILE
        hint = " (the descriptor limit, ulimit -n?)" if limit else ""
        message = f"cannot follow process {name} [{pid}]: {why}{hint}"
        engine = self.engine
        if engine._looping:
            raise IpcvizError(message)
        if engine.outcome != "error":
            engine._fail(message)

    def check_exits(self, wait: float = 0.0) -> None:
        """``proc.exit`` for adopted children whose pidfd says they ended."""
        if not self.pidfds or self._checking:
            return
        self._checking = True
        try:
            self._check_exits(wait)
        finally:
            self._checking = False

    def _check_exits(self, wait: float) -> None:
        engine = self.engine
        deadline = time.monotonic() + wait
        while True:
            for pid, pidfd in list(self.pidfds.items()):
                w = engine.workers.get(pid)
                if w is None or w.exited:
                    self._forget(pid)
                    continue
                if not _readable(pidfd):
                    continue
                engine._finish_worker(w, exit_status(pidfd, pid), None)
                engine.registry.drop_proc(pid)  # ended (its pidfd said): nothing to clean
                self._forget(pid)
            left = time.monotonic()
            if not self.pidfds or left >= deadline:
                return
            poller = select.poll()
            for pidfd in self.pidfds.values():
                poller.register(pidfd, select.POLLIN)
            poller.poll(max(1, int((deadline - left) * 1000)))

    def _forget(self, pid: int) -> None:
        pidfd = self.pidfds.pop(pid, -1)
        if pidfd >= 0:
            os.close(pidfd)

    # -- the end ---------------------------------------------------------------------------

    def settle(self) -> None:
        """At shutdown, after the kill: adopt what is still announced, and see every adopted
        child end (they were SIGKILLed with the workers; bounded wait)."""
        self.sync_objects()
        self.receive()
        for pid, pidfd in list(self.pidfds.items()):
            w = self.engine.workers.get(pid)
            if w is not None and not w.exited:
                signal_pidfd(pidfd, signal.SIGKILL)
        self.check_exits(wait=3.0)
        for pid in list(self.pidfds):  # still not gone after 3 s: say so, as unknown
            w = self.engine.workers.get(pid)
            if w is not None and not w.exited:
                self.engine._finish_worker(w, None, None)
            self._forget(pid)

    def close(self) -> None:
        self.sync_objects()
        for pid in list(self.pidfds):
            self._forget(pid)
        try:  # announcements nobody read: close the descriptors they carry
            while True:
                data, fds, _f, _a = socket.recv_fds(self.sock_r, 4096, _MAX_FDS)
                for fd in fds:
                    os.close(fd)
                if not data:
                    break
        except OSError:
            pass
        self.sock_r.close()
        self.sock_w.close()
        self.table.close()


def signal_pidfd(pidfd: int, sig: int) -> None:
    try:
        signal.pidfd_send_signal(pidfd, sig)
    except (ProcessLookupError, OSError):
        pass


def _readable(fd: int) -> bool:
    """(poll, not select: a run that forked a few hundred children holds descriptors past
    select's 1024, and select raised ValueError, an internal error ending the run)"""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def exit_status(pidfd: int, pid: int) -> int | None:
    """The wait status of an ended process, or None if nobody can know it any more.

    Ours to reap (re-parented to the engine, a subreaper): ``waitid``. Reaped by its own
    parent: the pidfd keeps the status (Linux 6.15+). Not reaped yet (a zombie): the kernel
    shows it in ``/proc/PID/stat``, and the pidfd proves that pid is still this process.
    """
    try:
        res = os.waitid(os.P_PIDFD, pidfd, os.WEXITED | os.WNOHANG)
    except (ChildProcessError, OSError):
        res = None
    if res is not None:
        if res.si_code == os.CLD_EXITED:
            return (res.si_status & 0xFF) << 8
        return res.si_status & 0x7F
    status = _pidfd_exit(pidfd)
    if status is not None:
        return status
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
        zombie = int(raw[raw.rindex(b")") + 2 :].split()[49])
    except (OSError, ValueError, IndexError):
        zombie = None
    later = _pidfd_exit(pidfd)  # reaped meanwhile: that stat may be another process's
    if later is not None:
        return later
    try:
        signal.pidfd_send_signal(pidfd, 0)  # still there (a zombie): the stat was its own
    except OSError:
        return None
    return zombie


def _pidfd_exit(pidfd: int) -> int | None:
    buf = bytearray(_PIDFD_INFO_SIZE)
    struct.pack_into("<Q", buf, 0, _PIDFD_INFO_EXIT)
    try:
        fcntl.ioctl(pidfd, _PIDFD_GET_INFO, buf)
    except OSError:
        return None
    if not struct.unpack_from("<Q", buf, 0)[0] & _PIDFD_INFO_EXIT:
        return None
    return struct.unpack_from("<i", buf, 60)[0]


__all__ = ["Adopter", "Made", "exit_status", "signal_pidfd"]
