"""The session registry: every kernel object is listed here *before* it is created.

So whatever ends a run — a normal end, an exception, Ctrl-C, or ``kill -9`` of the engine —
``ipcviz clean`` can find and remove exactly what that session left, and nothing else.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import stat
import time
from pathlib import Path
from typing import Any

from ipcviz.errors import IpcvizError
from ipcviz.i18n import _

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


def new_session_id() -> str:
    return secrets.token_hex(4)


def _private_dir(path: Path, create: bool) -> bool:
    """True if ``path`` is a real directory (not a symlink) owned by us, none of whose
    permission bits let anyone else in (tightened if we own it); made 0700 if ``create``."""
    if create:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError:
            return False
    try:
        st = path.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        return False
    if st.st_mode & 0o077:
        try:
            os.chmod(path, 0o700)
        except OSError:
            return False
    return True


def _user_run_dir() -> Path | None:
    """``/run/user/UID`` if logind made it for us (owned by us, private), else None."""
    base = Path(f"/run/user/{os.getuid()}")
    try:
        st = base.lstat()
    except OSError:
        return None
    ok = stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077
    return base if ok else None


def runtime_candidates() -> list[Path]:
    """Where registries may live, in order of preference. Nothing here comes from the
    environment: two shells of one user with different ``XDG_RUNTIME_DIR`` (or none) must
    see the same sessions, or ``clean`` in one removes the live objects of the other."""
    out = []
    user_run = _user_run_dir()
    if user_run is not None:
        out.append(user_run / "ipcviz")
    out.append(Path(f"/tmp/ipcviz-{os.getuid()}"))
    if os.getuid() == 0:  # nobody else can create in /run: a squatted /tmp name costs nothing
        out.append(Path("/run/ipcviz-0"))
    return out


def runtime_dir() -> Path:
    """A private (0700) per-user directory for registries and FIFO directories.

    The first candidate that is, or can be made, a directory of ours; a name in /tmp that
    another user (or a symlink) took first is skipped, and if no candidate is left the run
    is refused with one line that names it.
    """
    refused = []
    for path in runtime_candidates():
        if _private_dir(path, create=True):
            return path
        refused.append(path)
    detail = "; ".join(f"{p} ({_why_not(p)})" for p in refused)
    raise IpcvizError(
        _(
            "no private ipcviz runtime directory: {detail}. Another user may have created it "
            "to interfere: check it, remove it as root, and retry"
        ).format(detail=detail)
    )


def _why_not(path: Path) -> str:
    try:
        st = path.lstat()
    except OSError as exc:
        return exc.strerror or "cannot create"
    if stat.S_ISLNK(st.st_mode):
        return "a symlink"
    if not stat.S_ISDIR(st.st_mode):
        return "not a directory"
    if st.st_uid != os.getuid():
        return f"owned by uid {st.st_uid}"
    return "not private"


def registry_dirs() -> list[Path]:
    """Every existing private directory of ours where a registry may be (``clean`` reads
    them all: where a run writes depends on which candidates were usable at the time).
    ``$XDG_RUNTIME_DIR/ipcviz`` is read too, for sessions of older versions of ipcviz."""
    dirs = [p for p in runtime_candidates() if _private_dir(p, create=False)]
    legacy = os.environ.get("XDG_RUNTIME_DIR")
    if legacy and os.path.isabs(legacy):
        old = Path(legacy) / "ipcviz"
        if old not in dirs and _private_dir(old, create=False):
            dirs.append(old)
    return dirs


#: The session's private 0700 directory of files (FIFOs, mapped files): ``files.<sid>``
#: in the runtime directory. ``fifo.<sid>`` is the name older versions gave it (when it
#: held only FIFOs); ``clean`` removes both, and nothing outside them.
FILES_DIR = "files."
OLD_FILES_DIRS = ("fifo.",)


def files_dir_name(sid: str) -> str:
    """The name of session ``sid``'s private directory of files."""
    return f"{FILES_DIR}{sid}"


def is_session_files_dir(path: str | os.PathLike[str]) -> bool:
    """``path`` is a session's private files directory (new or old name) directly inside
    one of our runtime directories: the only directories ``clean`` removes, and the only
    place it removes a FIFO or a mapped file from."""
    p = Path(path)
    name = p.name
    prefix = next((x for x in (FILES_DIR, *OLD_FILES_DIRS) if name.startswith(x)), None)
    if prefix is None or not name[len(prefix) :]:
        return False
    return any(p.parent == d for d in registry_dirs())


def in_session_files_dir(path: str | os.PathLike[str]) -> bool:
    """``path`` is a file directly inside a session's private files directory."""
    return is_session_files_dir(Path(path).parent)


def posix_name(sid: str, obj: str) -> str:
    """The kernel name of a POSIX object (shm, sem, mq): session id inside the name."""
    return f"/ipcviz.{sid}.{obj}"


def proc_start_time(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot: tells a live process from a reused pid."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return int(data[data.rindex(b")") + 2 :].split()[19])


#: The environment variable every process a session starts carries, set to its id: a
#: process that left its worker's group and the engine's session (setsid, a daemon) after
#: the engine died is still found by ``clean`` through it (/proc/PID/environ).
SESSION_ENV = "IPCVIZ_SESSION"


#: For fault tests only: ``IPCVIZ_FAULT_STOP_AT_SAVE=N`` makes the engine stop itself
#: (SIGSTOP) right after its registry's N-th write, so a test's SIGKILL lands at exactly
#: that point of object creation, not wherever the scheduler happened to be.
_STOP_AT_SAVE = int(os.environ.get("IPCVIZ_FAULT_STOP_AT_SAVE", "0") or 0)


class Registry:
    """One session's registry file, rewritten atomically on every change."""

    def __init__(self, sid: str, scenario: str) -> None:
        self.sid = sid
        self.path = runtime_dir() / f"{sid}.json"
        self._saves = 0
        pid = os.getpid()
        self.data: dict[str, Any] = {
            "sid": sid,
            "scenario": scenario,
            "uid": os.getuid(),
            "engine_pid": pid,
            "engine_start": proc_start_time(pid),
            # The engine is started in a session of its own: every worker and anything a
            # worker forks (unless it calls setsid) stays in it, so ``clean`` can find them.
            "engine_sid": os.getsid(0),
            "created": time.time(),
            "objects": [],
            "procs": [],
        }
        self._save()

    def add_object(self, entry: dict[str, Any]) -> None:
        """Record an object about to be created (type plus name, path or id)."""
        self.data["objects"].append(entry)
        self._save()

    def update_object(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Replace an entry, e.g. to add the id the kernel gave a System V object."""
        objs = self.data["objects"]
        objs[objs.index(old)] = new
        self._save()

    def set_program_objects(self, entries: list[dict[str, Any]]) -> None:
        """Replace the entries of what a watched program made (``session/program.py``)."""
        from ipcviz.session import program

        kept = [e for e in self.data["objects"] if e.get("type") != program.TYPE]
        if len(kept) == len(self.data["objects"]) and not entries:
            return  # nothing listed, nothing to list: no rewrite
        self.data["objects"] = kept + entries
        self._save()

    def add_proc(self, pid: int, save: bool = True) -> None:
        """``save`` False: several at once, then ``save()`` (one rewrite instead of one per
        process: a rename over the old file costs milliseconds on ext4)."""
        self.data["procs"].append({"pid": pid, "start": proc_start_time(pid)})
        if save:
            self._save()

    def drop_proc(self, pid: int) -> None:
        """A process of the session ended and was reaped: no ``clean`` needs it any more.
        Not written now: the next write leaves it out (a forked flood's thousands of
        children, each kept, made every write longer, and the engine spent a quarter of
        its time rewriting them). The oldest entry of ``pid`` goes: a child that ended
        unseen may have handed its pid on to one registered since."""
        procs = self.data["procs"]
        for i, entry in enumerate(procs):
            if entry.get("pid") == pid:
                del procs[i]
                return

    def save(self) -> None:
        self._save()

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")  # a kill here leaves it: ``clean`` removes it
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.data, f)
        os.replace(tmp, self.path)
        self._saves += 1
        if self._saves == _STOP_AT_SAVE:  # a fault test's kill lands exactly here
            os.kill(os.getpid(), signal.SIGSTOP)

    def discard(self) -> None:
        """The session cleaned up after itself: forget it."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
