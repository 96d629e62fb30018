"""Removing kernel objects and processes that a session left behind (``ipcviz clean``)."""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path
from typing import Any

from ipcviz.session.registry import proc_start_time, runtime_dir


def _sysv_owner(table: str, ident: int) -> int | None:
    """Owner uid of a System V object by id, from /proc/sysvipc/{msg,sem}."""
    try:
        lines = Path(f"/proc/sysvipc/{table}").read_text().splitlines()
    except OSError:
        return None
    cols = lines[0].split() if lines else []
    if "uid" not in cols:
        return None
    for line in lines[1:]:
        f = line.split()
        if len(f) > cols.index("uid") and f[1] == str(ident):
            return int(f[cols.index("uid")])
    return None


def owned_by_me(entry: dict[str, Any]) -> bool:
    """True if the entry's object exists and is ours. Root may remove anyone's object:
    ``clean`` must never, even if a registry names another user's object."""
    import posix_ipc

    kind, uid = entry.get("type"), os.getuid()
    name = str(entry.get("name", "")).lstrip("/")
    try:
        if kind == "posix_shm":
            return os.lstat(f"/dev/shm/{name}").st_uid == uid
        if kind == "posix_sem":
            return os.lstat(f"/dev/shm/sem.{name}").st_uid == uid
        if kind in ("fifo", "dir"):
            return os.lstat(entry["path"]).st_uid == uid
        if kind == "posix_mq":
            mq = posix_ipc.MessageQueue(entry["name"])
            try:
                return os.fstat(mq.mqd).st_uid == uid
            finally:
                mq.close()
        if kind in ("sysv_mq", "sysv_sem") and entry.get("id") is not None:
            return _sysv_owner("msg" if kind == "sysv_mq" else "sem", entry["id"]) == uid
    except (OSError, KeyError, posix_ipc.Error):
        return False
    return False


def remove_object(entry: dict[str, Any]) -> bool:
    """Remove one registry entry's kernel object, if it is ours; True if it was removed."""
    import posix_ipc
    import sysv_ipc

    kind = entry.get("type")
    if not owned_by_me(entry):
        return False
    try:
        if kind == "posix_shm":
            posix_ipc.unlink_shared_memory(entry["name"])
        elif kind == "posix_sem":
            posix_ipc.unlink_semaphore(entry["name"])
        elif kind == "posix_mq":
            posix_ipc.unlink_message_queue(entry["name"])
        elif kind == "sysv_mq" and entry.get("id") is not None:
            sysv_ipc.remove_message_queue(entry["id"])
        elif kind == "sysv_sem" and entry.get("id") is not None:
            sysv_ipc.remove_semaphore(entry["id"])
        elif kind == "fifo":
            os.unlink(entry["path"])
        elif kind == "dir":
            os.rmdir(entry["path"])
        else:
            return False
    except (posix_ipc.ExistentialError, sysv_ipc.ExistentialError, FileNotFoundError):
        return False
    except (OSError, sysv_ipc.PermissionsError, posix_ipc.PermissionsError):
        return False
    return True


def remove_objects(entries: list[dict[str, Any]]) -> int:
    """Remove entries in reverse order of creation (FIFOs before their directory)."""
    return sum(remove_object(e) for e in reversed(entries))


def _alive(pid: int | None, start: int | None) -> bool:
    return pid is not None and start is not None and proc_start_time(pid) == start


def kill_procs(procs: list[dict[str, Any]]) -> int:
    """SIGKILL the process groups of a dead session's workers that are still running."""
    killed = 0
    for p in procs:
        if _alive(p.get("pid"), p.get("start")):
            try:
                os.killpg(p["pid"], signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                try:
                    os.kill(p["pid"], signal.SIGKILL)
                    killed += 1
                except (ProcessLookupError, PermissionError):
                    pass
    return killed


def _proc_ids(pid: int) -> tuple[int, int, int, int, str] | None:
    """(parent, process group, session, start time, state) of ``pid`` from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2 :].split()
    return int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19]), fields[0].decode()


def session_leftovers(data: dict[str, Any], descendants_of: int | None = None) -> list[int]:
    """Pids still running that belong to a session's registry ``data``.

    That is: members of a worker's process group (a worker's own children) and, when the
    engine led a session of its own, every process of that session -- so grandchildren are
    found even after their worker died. Only processes started after the group or session
    began, owned by the session's uid, count: a reused pid or group id is never matched.
    The living engine also passes its own pid as ``descendants_of``: as a subreaper it
    inherits every orphan, even one that left the session with setsid().
    """
    groups = {p["pid"]: p.get("start") or 0 for p in data.get("procs", []) if p.get("pid")}
    engine_pid, engine_start = data.get("engine_pid"), data.get("engine_start") or 0
    own_session = engine_pid is not None and data.get("engine_sid") == engine_pid
    uid, me = data.get("uid", os.getuid()), os.getpid()
    found: set[int] = set()
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        pid = int(name)
        ids = _proc_ids(pid)
        if ids is None or ids[4] in ("Z", "X"):
            continue
        ppid, pgid, sid, start, _state = ids
        parents[pid] = ppid
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
        except OSError:
            continue
        if (pgid in groups and start >= groups[pgid]) or (
            own_session and sid == engine_pid and start >= engine_start
        ):
            found.add(pid)
    if descendants_of is not None:
        for pid in parents:
            p, hops = parents.get(pid), 0
            while p is not None and p > 1 and hops < 64:
                if p == descendants_of:
                    found.add(pid)
                    break
                p, hops = parents.get(p), hops + 1
    return sorted(found)


def kill_leftovers(data: dict[str, Any], descendants_of: int | None = None) -> int:
    """SIGKILL (and SIGCONT, for stopped ones) every leftover process of a session."""
    pids = session_leftovers(data, descendants_of)
    for pid in pids:
        for sig in (signal.SIGKILL, signal.SIGCONT):
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
    return len(pids)


def clean() -> dict[str, int]:
    """Clean up this user's dead sessions; live sessions and other users are never touched."""
    counts = {"sessions": 0, "objects": 0, "processes": 0, "live_sessions": 0}
    rdir = runtime_dir()
    live: set[str] = set()
    for path in sorted(rdir.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if data.get("uid") != os.getuid():
            continue
        if _alive(data.get("engine_pid"), data.get("engine_start")):
            live.add(data.get("sid", ""))
            counts["live_sessions"] += 1
            continue
        counts["processes"] += kill_procs(data.get("procs", []))
        counts["processes"] += kill_leftovers(data)
        counts["objects"] += remove_objects(data.get("objects", []))
        path.unlink(missing_ok=True)
        counts["sessions"] += 1
    counts["objects"] += _sweep_orphans(live, {p.stem for p in rdir.glob("*.json")})
    return counts


def session_of(name: str) -> str | None:
    """The session id in a /dev/shm entry made by ipcviz (``ipcviz.SID.OBJ`` or
    ``sem.ipcviz.SID.OBJ``), or None for anything else."""
    base = name[4:] if name.startswith("sem.") else name
    parts = base.split(".")
    return parts[1] if base.startswith("ipcviz.") and len(parts) >= 3 else None


def _sweep_orphans(live: set[str], known: set[str]) -> int:
    """Remove /dev/shm entries named by ipcviz, owned by us, whose session is gone."""
    removed = 0
    shm = Path("/dev/shm")
    if not shm.is_dir():
        return 0
    for entry in shm.iterdir():
        sid = session_of(entry.name)
        if sid is None or sid in live or sid in known:
            continue
        try:
            st = entry.lstat()
            if st.st_uid == os.getuid() and stat.S_ISREG(st.st_mode):
                entry.unlink()
                removed += 1
        except OSError:
            pass
    return removed
