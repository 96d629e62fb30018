"""The session registry: every kernel object is listed here *before* it is created.

So whatever ends a run — a normal end, an exception, Ctrl-C, or ``kill -9`` of the engine —
``ipcviz clean`` can find and remove exactly what that session left, and nothing else.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import time
from pathlib import Path
from typing import Any

from ipcviz.errors import IpcvizError

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


def new_session_id() -> str:
    return secrets.token_hex(4)


def runtime_dir() -> Path:
    """A private (0700) per-user directory for registries and FIFO directories."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    path = Path(base) / "ipcviz" if base else Path(f"/tmp/ipcviz-{os.getuid()}")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.lstat()
    except OSError as exc:
        raise IpcvizError(f"cannot create the ipcviz runtime directory {path}: {exc}") from None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise IpcvizError(f"{path} is not a directory owned by you; remove it and retry")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


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


class Registry:
    """One session's registry file, rewritten atomically on every change."""

    def __init__(self, sid: str, scenario: str) -> None:
        self.sid = sid
        self.path = runtime_dir() / f"{sid}.json"
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

    def add_proc(self, pid: int) -> None:
        self.data["procs"].append({"pid": pid, "start": proc_start_time(pid)})
        self._save()

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.data, f)
        os.replace(tmp, self.path)

    def discard(self) -> None:
        """The session cleaned up after itself: forget it."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
