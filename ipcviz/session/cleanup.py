"""Removing kernel objects and processes that a session left behind (``ipcviz clean``)."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ipcviz.probe import sysvipc
from ipcviz.session import program
from ipcviz.session.registry import (
    SESSION_ENV,
    is_session_files_dir,
    proc_start_time,
    registry_dirs,
)


def sysv_id(entry: dict[str, Any], table: str) -> int | None:
    """The id of a registered System V object (``table``: msg, sem or shm, as in
    /proc/sysvipc) if it exists, is ours, and still has the key it was registered with. The
    key is registered before the kernel call and the id after it, so an engine killed in
    between left only the key: the object is found by that."""
    key, ident = entry.get("key"), entry.get("id")
    for row in sysvipc.read(table):
        if row["uid"] != os.getuid():
            continue
        if ident is not None and row["id"] == ident and key in (None, row["key"]):
            return row["id"]
        if ident is None and key is not None and row["key"] == key:
            return row["id"]
    return None


def sysv_cleanup(
    table: str, remove_id: Callable[[int], None]
) -> tuple[Callable[[dict[str, Any]], bool], Callable[[dict[str, Any]], bool]]:
    """A System V type's ``owned`` and ``remove`` for ``KernelSide`` (``table``: msg, sem
    or shm): both go by ``sysv_id``, so only a registered object of ours is touched."""

    def owned(entry: dict[str, Any]) -> bool:
        return sysv_id(entry, table) is not None

    def remove(entry: dict[str, Any]) -> bool:
        ident = sysv_id(entry, table)
        if ident is None:
            return False
        remove_id(ident)
        return True

    return owned, remove


def owned_by_me(entry: dict[str, Any]) -> bool:
    """True if the entry's object exists and is ours. Root may remove anyone's object:
    ``clean`` must never, even if a registry names another user's object."""
    import posix_ipc

    from ipcviz.mechanisms import registry

    kind = entry.get("type")
    try:
        if kind == "dir":  # only a session's own files directory, never any other
            if not is_session_files_dir(entry["path"]):
                return False
            st = os.lstat(entry["path"])
            return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid()
        if kind == program.TYPE:  # a watched program's, while ipcviz ran it
            return program.owned(entry)
        side = registry.kernel(kind) if isinstance(kind, str) else None
        return side is not None and side.owned(entry)
    except (OSError, KeyError, posix_ipc.Error):
        return False


def remove_object(entry: dict[str, Any]) -> bool:
    """Remove one registry entry's kernel object, if it is ours; True if it was removed."""
    import posix_ipc
    import sysv_ipc

    from ipcviz.mechanisms import registry

    kind = entry.get("type")
    if not owned_by_me(entry):
        return False
    try:
        if kind == "dir":
            os.rmdir(entry["path"])
            return True
        if kind == program.TYPE:
            return program.remove(entry)
        side = registry.kernel(kind) if isinstance(kind, str) else None
        return side is not None and side.remove(entry)
    except (posix_ipc.ExistentialError, sysv_ipc.ExistentialError, FileNotFoundError):
        return False
    except (OSError, sysv_ipc.PermissionsError, posix_ipc.PermissionsError):
        return False


def remove_objects(entries: list[dict[str, Any]]) -> int:
    """Remove entries in reverse order of creation (FIFOs before their directory); one
    that cannot be removed (EMFILE, EPERM…) never stops the others."""
    removed = 0
    for e in reversed(entries):
        try:
            removed += remove_object(e)
        except Exception:
            continue
    return removed


def _alive(pid: int | None, start: int | None) -> bool:
    """The registered process (same pid, same start time) still runs; a zombie does not."""
    if not isinstance(pid, int) or start is None or proc_start_time(pid) != start:
        return False
    ids = _proc_ids(pid)
    return ids is not None and ids[4] not in ("Z", "X")


def kill_procs(procs: list[dict[str, Any]]) -> int:
    """SIGKILL the process groups of a session's workers that still run. A worker is its
    group's leader; it is matched by pid AND start time, so a reused pid is never hit."""
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


def _reused(pid: int, start: int | None) -> bool:
    """True if a process other than the one registered now has ``pid``: then a process
    group or session with that id belongs to someone else (Linux keeps a pid number
    reserved while a group or session uses it, so a live id is never ours by chance)."""
    now = proc_start_time(pid)
    return now is not None and now != start


def _proc_ids(pid: int) -> tuple[int, int, int, int, str] | None:
    """(parent, process group, session, start time, state) of ``pid`` from /proc/PID/stat."""
    try:  # os.open, not open(): this runs for every process on the machine, at every end
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)
    if b")" not in data:
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
    groups = {
        p["pid"]: p.get("start") or 0
        for p in data.get("procs", [])
        if isinstance(p.get("pid"), int) and not _reused(p["pid"], p.get("start"))
    }
    engine_pid, engine_start = data.get("engine_pid"), data.get("engine_start") or 0
    own_session = (
        isinstance(engine_pid, int)
        and data.get("engine_sid") == engine_pid
        and not _reused(engine_pid, data.get("engine_start"))
    )
    uid, me = data.get("uid", os.getuid()), os.getpid()
    marker = f"{SESSION_ENV}={data.get('sid')}".encode() if data.get("sid") else None
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
        if not (
            (pgid in groups and start >= groups[pgid])
            or (own_session and sid == engine_pid and start >= engine_start)
            or (marker is not None and engine_start and start >= engine_start
                and _carries(pid, marker))
        ):  # fmt: skip
            continue
        try:  # (only for a match: one stat less per process on the machine)
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
        except OSError:
            continue
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


def _carries(pid: int, marker: bytes) -> bool:
    """``pid`` has ``marker`` (``IPCVIZ_SESSION=<sid>``) in its environment: a session
    started it or an ancestor of it (the id is random, only a process started after the
    engine is asked, and the caller then checks it is of the session's uid)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read(1 << 20)
    except OSError:
        return False
    return marker in env.split(b"\0")


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


def _load(path: Path) -> dict[str, Any] | None:
    """A registry file, if it is a regular file of ours naming our uid; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = json.loads(f.read(1 << 22))
    except (OSError, ValueError, RecursionError):
        return None
    finally:
        os.close(fd)
    if not isinstance(data, dict) or data.get("uid") != os.getuid():
        return None
    return data


def _registries() -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for rdir in registry_dirs():
        for path in sorted(rdir.glob("*.json")):
            data = _load(path)
            if data is not None:
                found.append((path, data))
    return found


def _engine_alive(data: dict[str, Any]) -> bool:
    return _alive(data.get("engine_pid"), data.get("engine_start"))


def live_sessions() -> set[str]:
    """The ids of this user's sessions whose engine runs now: a trace of one with no end
    yet is being recorded, not cut off."""
    return {str(data.get("sid")) for _path, data in _registries() if _engine_alive(data)}


def _clean_dead(path: Path, data: dict[str, Any], counts: dict[str, int]) -> None:
    """Everything of one dead session: processes first, then objects, then its registry.
    Each step is guarded: one that fails (EMFILE, a vanished process) never skips the rest."""
    procs = data.get("procs") if isinstance(data.get("procs"), list) else []
    objects = data.get("objects") if isinstance(data.get("objects"), list) else []
    for step in (
        lambda: kill_procs(procs),
        lambda: kill_leftovers(data),
    ):
        try:
            counts["processes"] += step()
        except Exception:
            pass
    counts["objects"] += remove_objects(objects)
    counts["sessions"] += 1
    if not all(_known(e) for e in objects):
        return  # a newer ipcviz made objects this one cannot remove: keep the registry for it
    path.unlink(missing_ok=True)


def _known(entry: Any) -> bool:
    """An entry this version can remove (its type has a mechanism, or it is a directory)."""
    from ipcviz.mechanisms import registry

    kind = entry.get("type") if isinstance(entry, dict) else None
    if kind in ("dir", program.TYPE):
        return True
    return isinstance(kind, str) and registry.get(kind) is not None


def clean() -> dict[str, int]:
    """Clean up this user's dead sessions; live sessions and other users are never touched.

    Registries are read from every runtime directory of ours (registry_dirs), so a live
    session is recognised whatever environment started it; an object is removed only if
    it is ours, a process only if it is the registered one (pid and start time).
    """
    counts = {"sessions": 0, "objects": 0, "processes": 0, "live_sessions": 0}
    registries = _registries()
    live = {str(d.get("sid", "")) for _, d in registries if _engine_alive(d)}
    counts["live_sessions"] = len(live)
    for path, data in registries:
        if str(data.get("sid", "")) not in live:
            _clean_dead(path, data, counts)
    _remove_stale_tmp(live)
    known = {str(d.get("sid", "")) for _, d in registries}
    counts["objects"] += _sweep_orphans(live, known)
    counts["objects"] += remove_dead_explore_dirs()
    return counts


#: ``ipcviz explore``'s scratch directory in the temporary place: ``ipcviz-explore-PID-START-``
#: then mkdtemp's random part, PID and START (clock ticks since boot) being the explorer's.
_EXPLORE_DIR = re.compile(r"ipcviz-explore-(\d+)-(\d+)-[A-Za-z0-9_]+")


def explore_dir_prefix() -> str:
    """The name an explorer's scratch directory starts with (see ``_EXPLORE_DIR``)."""
    return f"ipcviz-explore-{os.getpid()}-{proc_start_time(os.getpid()) or 0}-"


def remove_dead_explore_dirs() -> int:
    """Remove the scratch directories (traces of its runs) of explorers that were killed
    (SIGKILL): ours (a 0700 directory, not a symlink), named by a pid and start time that
    no running process has. A live explorer's, another user's, or anything else is kept."""
    import shutil
    import tempfile

    removed = 0
    top = Path(tempfile.gettempdir())
    try:
        names = os.listdir(top)
    except OSError:
        return 0
    for name in names:
        m = _EXPLORE_DIR.fullmatch(name)
        if m is None or _alive(int(m.group(1)), int(m.group(2))):
            continue
        path = top / name
        try:
            st = path.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += not path.exists()
    return removed


def clean_session(sid: str) -> dict[str, int]:
    """Clean one session, if its engine is dead: what a viewer does when the engine it
    started died without cleaning up (SIGKILL, a crash). Other sessions are not looked at."""
    counts = {"sessions": 0, "objects": 0, "processes": 0, "live_sessions": 0}
    for rdir in registry_dirs():
        path = rdir / f"{sid}.json"
        data = _load(path)
        if data is None or data.get("sid") != sid:
            continue
        if _engine_alive(data):
            counts["live_sessions"] += 1
        else:
            _clean_dead(path, data, counts)
        (rdir / f"{sid}.tmp").unlink(missing_ok=True)
    return counts


def _remove_stale_tmp(live: set[str]) -> None:
    """``SID.tmp``: a registry being rewritten when its engine was killed. The ``.json``
    beside it is complete (replaced atomically), so the ``.tmp`` is only removed."""
    for rdir in registry_dirs():
        for tmp in rdir.glob("*.tmp"):
            if tmp.stem in live:
                continue
            try:
                if tmp.lstat().st_uid == os.getuid():
                    tmp.unlink()
            except OSError:
                pass


#: A /dev/shm entry exactly as ipcviz names one: ``ipcviz.SID.OBJ`` (``sem.`` before it for
#: a semaphore), SID being ``new_session_id()``'s 8 hex digits, OBJ an object's name.
_SHM_NAME = re.compile(r"(?:sem\.)?ipcviz\.([0-9a-f]{8})\.[A-Za-z][A-Za-z0-9_-]{0,31}")


def session_of(name: str) -> str | None:
    """The session id in a /dev/shm entry named as ipcviz names its objects (``ipcviz.SID.OBJ``
    or ``sem.ipcviz.SID.OBJ``), or None for anything else (``ipcviz.myapp.config``)."""
    m = _SHM_NAME.fullmatch(name)
    return m.group(1) if m else None


def _referenced_shm() -> set[str]:
    """Names in /dev/shm that some process has open or mapped (so some session uses it)."""
    used: set[str] = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/maps", "rb") as f:
                for line in f:
                    at = line.find(b"/dev/shm/")
                    if at >= 0:
                        used.add(line[at + 9 :].split()[0].decode("utf-8", "replace"))
        except OSError:
            pass
        try:
            for fd in os.listdir(f"/proc/{name}/fd"):
                target = os.readlink(f"/proc/{name}/fd/{fd}")
                if target.startswith("/dev/shm/"):
                    used.add(target[9:].split(" ")[0])
        except OSError:
            pass
    return used


def _sweep_orphans(live: set[str], known: set[str]) -> int:
    """Remove /dev/shm entries named by ipcviz, owned by us, whose session has no registry
    anywhere and that no process has open or mapped: a session whose registry we cannot
    see (another version, another directory) still holds its objects, so it is left alone."""
    removed = 0
    shm = Path("/dev/shm")
    if not shm.is_dir():
        return 0
    candidates = []
    for entry in shm.iterdir():
        sid = session_of(entry.name)
        if sid is None or sid in live or sid in known:
            continue
        candidates.append(entry)
    if not candidates:
        return 0
    used = _referenced_shm()
    for entry in candidates:
        if entry.name in used:
            continue
        try:
            st = entry.lstat()
            # ipcviz makes each object 0600 (a umask never adds bits): a file of another
            # mode is another program's, whatever its name
            if (
                st.st_uid == os.getuid()
                and stat.S_ISREG(st.st_mode)
                and stat.S_IMODE(st.st_mode) == 0o600
            ):
                entry.unlink()
                removed += 1
        except OSError:
            pass
    return removed
