"""What a watched program made (``ipcviz run -- PROG``), as a session's registry keeps it.

When ipcviz ends the program (Ctrl-C, ``q``), it removes what the program's own calls made
and left (``sources/strace/source.py``). When the engine itself is killed (SIGKILL, the OOM
killer), ``ipcviz clean`` kills the program's processes, and then needs these entries to
remove their objects too: each names one object and how to know it is still that one.

- A System V object by its kind and id, its key (and, for a queue or a segment, when it
  was made), and the uid that made the entry: the kernel gives an id again only after
  its sequence wraps, and then to an object made later.
- A FIFO, POSIX queue, segment or named semaphore by its name and by the device and inode
  it had when the call was seen (held open by the engine then: never another's). One made
  at that name since by another user is never removed (its owner differs); one made by
  this same user after the engine died, that got the same inode number, is not told apart.

The entries follow what the program does: one it removed itself leaves the registry, and
when the run ends normally the engine has dealt with them (removed, or named as left)
and drops them all.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from ipcviz.probe import sysvipc

#: The registry entries' ``type``.
TYPE = "program"
#: System V kinds (as the strace source names them) → /proc/sysvipc table.
_TABLES = {"msqid": "msg", "semid": "sem", "shmid": "shm"}
#: Where POSIX segments and named semaphores live (``sources/strace/mapper.SHM_DIR``).
_SHM_DIR = "/dev/shm/"
#: Path kinds → what the file must be.
_FILES = {
    "FIFO": stat.S_ISFIFO,
    "POSIX shared memory": stat.S_ISREG,
    "POSIX semaphore": stat.S_ISREG,
    "POSIX queue": stat.S_ISREG,
}


#: System V row fields an entry keeps, to know the object again: its key, and when it was
#: made for a queue or a segment (a set's ctime moves with every SETVAL, so not for sets)
_SAME = {"msqid": ("key", "ctime"), "semid": ("key",), "shmid": ("key", "ctime")}


def entries(made: list[tuple[str, int | str, int | None]]) -> list[dict[str, Any]]:
    """The registry entries for what the program made (``Mapper.made_now``), each
    System V table read once (a program making thousands of segments)."""
    rows: dict[str, dict[int, dict[str, int]]] = {}
    out = []
    for kind, ident, fd in made:
        table = _TABLES.get(kind)
        if table is not None and table not in rows:
            rows[table] = {r["id"]: r for r in sysvipc.read(table)}
        found = entry(kind, ident, fd, rows.get(table) if table else None)
        if found is not None:
            out.append(found)
    return out


def entry(
    kind: str,
    ident: int | str,
    fd: int | None = None,
    rows: dict[int, dict[str, int]] | None = None,
) -> dict[str, Any] | None:
    """The registry entry for one object the program made: System V by (kind, id) and what
    its row says now (``_SAME``; ``rows``: its table, read already); a path kind by its
    name and what ``fd`` (a descriptor of that very object) holds. None if nothing can be
    said (gone already, the descriptor unreadable)."""
    if kind in _TABLES:
        if rows is None:
            rows = {r["id"]: r for r in sysvipc.read(_TABLES[kind])}
        row = rows.get(int(ident))
        if row is None:
            return None
        same = {f: row[f] for f in _SAME[kind] if f in row}
        return {"type": TYPE, "kind": kind, "id": int(ident), **same}
    if kind not in _FILES or fd is None:
        return None
    try:
        st = os.fstat(fd)
    except OSError:
        return None
    return {"type": TYPE, "kind": kind, "name": str(ident), "dev": st.st_dev, "ino": st.st_ino}


def _sysv_row(e: dict[str, Any]) -> bool:
    ident = e.get("id")
    table = _TABLES.get(e.get("kind", ""))
    if table is None or not isinstance(ident, int):
        return False
    same = [f for f in _SAME.get(str(e.get("kind")), ()) if f in e]
    return any(
        r["id"] == ident and r.get("uid") == os.getuid() and all(r.get(f) == e[f] for f in same)
        for r in sysvipc.read(table)
    )


def _named_right(kind: Any, name: str) -> bool:
    """Whether ``name`` is where an object of ``kind`` lives: a segment or a named
    semaphore directly in /dev/shm, a queue as ``/NAME``. A registry entry naming any
    other path (``/home/me/notes`` as a "POSIX shared memory") is never followed: the
    device and inode alone would let it unlink any file of the user's."""
    if kind in ("POSIX shared memory", "POSIX semaphore"):
        base = name[len(_SHM_DIR) :] if name.startswith(_SHM_DIR) else ""
    elif kind == "POSIX queue":
        base = name[1:] if name.startswith("/") else ""
    else:
        return kind == "FIFO"  # (anywhere: only a FIFO there is ever removed)
    return base not in ("", ".", "..") and "/" not in base and "\0" not in base


def _stat(e: dict[str, Any]) -> os.stat_result | None:
    """What the entry's name leads to now (a queue opened read-only for a moment)."""
    import posix_ipc

    name = e.get("name")
    if not isinstance(name, str) or not _named_right(e.get("kind"), name):
        return None
    try:
        if e.get("kind") == "POSIX queue":
            queue = posix_ipc.MessageQueue(name, read=True, write=False)
            try:
                return os.fstat(queue.mqd)
            finally:
                queue.close()
        return os.lstat(name)
    except (OSError, ValueError, posix_ipc.Error):
        return None


def owned(e: dict[str, Any]) -> bool:
    """The entry's object is there, ours, and the very one the program made."""
    kind = e.get("kind")
    if kind in _TABLES:
        return _sysv_row(e)
    test = _FILES.get(kind) if isinstance(kind, str) else None
    st = _stat(e)
    return (
        test is not None
        and st is not None
        and test(st.st_mode)
        and st.st_uid == os.getuid()
        and (st.st_dev, st.st_ino) == (e.get("dev"), e.get("ino"))
    )


def remove(e: dict[str, Any]) -> bool:
    """Remove the entry's object if ``owned``; True if it was removed."""
    import posix_ipc
    import sysv_ipc

    from ipcviz.probe.queues import unlink_posix_mq

    if not owned(e):
        return False
    kind, ident, name = e.get("kind"), e.get("id"), e.get("name")
    try:
        if kind == "msqid":
            sysv_ipc.remove_message_queue(ident)
        elif kind == "semid":
            sysv_ipc.remove_semaphore(ident)
        elif kind == "shmid":
            sysv_ipc.remove_shared_memory(ident)
        elif kind == "POSIX queue":
            unlink_posix_mq(name)
        else:
            os.unlink(str(name))
    except (OSError, sysv_ipc.Error, posix_ipc.Error):
        return False
    return True
