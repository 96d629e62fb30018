"""What a run may leave behind on this machine, counted so tests can compare before/after.

Only objects of sessions that are no longer alive count: other runs (a parallel test, a
developer's live session) are not leaks.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import psutil

from ipcviz.session.cleanup import session_of
from ipcviz.session.registry import proc_start_time, registry_dirs
from tests import isolation

SYSV_KEY_PREFIX = 0x1C000000  # System V keys made by ipcviz: 0x1CXXXXXX


def live_sessions() -> set[str]:
    live = set()
    for path in (p for d in registry_dirs() for p in d.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        pid, start = data.get("engine_pid"), data.get("engine_start")
        if pid and start and proc_start_time(pid) == start:
            live.add(data["sid"])
    return live


def _sysv(kind: str) -> list[str]:
    """ipcviz's System V objects (by key); in a test worker's own IPC namespace, every
    one: a program's IPC_PRIVATE set is a leak too (key 0, named by its id)."""
    found = []
    try:
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
    except OSError:
        return found
    for line in lines:
        key, ident = (int(x) for x in line.split()[:2])
        if key & 0xFF000000 == SYSV_KEY_PREFIX:
            found.append(f"sysv_{kind}:{key:#x}")
        elif isolation.ISOLATED:
            found.append(f"sysv_{kind}:{key:#x} id {ident}")
    return found


def leftovers() -> list[str]:
    """ipcviz objects in the kernel whose session is dead, plus dead sessions' registries;
    in a test worker's own world (tests/isolation.py) also every other System V object and
    /dev/shm file: a program's that ipcviz watched counts as much as ipcviz's own."""
    live = live_sessions()
    left = [n for n in os.listdir("/dev/shm") if (sid := session_of(n)) and sid not in live]
    if isolation.ISOLATED and not live:
        left += [f"/dev/shm/{n}" for n in os.listdir("/dev/shm") if not session_of(n)]
    for rdir in registry_dirs():
        for p in rdir.iterdir():
            sid = p.stem if p.suffix in (".json", ".tmp") else p.name.partition(".")[2]
            if sid not in live:
                left.append(str(p))
    if not live:  # System V objects carry no session id: count them only when nothing runs
        left += _sysv("msg") + _sysv("sem") + _sysv("shm")
    return left


def children() -> list[psutil.Process]:
    """Living descendants of the test process (zombies are reaped, not leaked)."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def remove_program_leftovers(trace: Path) -> list[str]:
    """Remove the System V objects a program run made and left because the test stopped it
    midway (quitting at a deadlock kills the program before it removes its own set).
    ipcviz removes them itself when it ended the program; this is the test's own net, in
    case it did not (the test then fails: it says what it had to remove).
    Only what the trace shows the run's processes made (``IPC_PRIVATE``) and the kernel
    still holds with key 0 (IPC_PRIVATE); returns what it removed (``kind:id``)."""
    import sysv_ipc

    events = [json.loads(line) for line in trace.read_text().splitlines()[1:] if line.strip()]
    made = {
        (e["type"], e["id"])
        for e in events
        if e.get("kind") == "obj.declare"
        and e.get("type") in ("sysv_sem", "sysv_mq", "sysv_shm")
        and "IPC_PRIVATE" in str(e.get("kernel_name", ""))
        and isinstance(e.get("id"), int)
    }
    tables = {
        "sysv_sem": ("sem", sysv_ipc.remove_semaphore),
        "sysv_mq": ("msg", sysv_ipc.remove_message_queue),
        "sysv_shm": ("shm", sysv_ipc.remove_shared_memory),
    }
    removed = []
    for type_, ident in sorted(made):
        table, remove = tables[type_]
        rows = Path(f"/proc/sysvipc/{table}").read_text().splitlines()[1:]
        if any(r.split()[:2] == ["0", str(ident)] for r in rows):  # still there, key 0
            try:
                remove(ident)
                removed.append(f"{table}:{ident}")
            except sysv_ipc.Error:
                pass
    return removed
