"""Nobody let in: modes, another uid, `ipcviz clean` boundaries, replay executes nothing."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ipcviz.session.registry import runtime_dir
from tests.faults.harness import (
    LiveRun,
    ipcviz_clean,
    kernel_objects_left,
    replays,
    waiting_scenario,
)
from tests.faults.test_ending import EVERY_OBJECT

#: Run as another uid: try to open every object named on the command line (JSON).
PROBE = r"""
import json, os, sys
import posix_ipc, sysv_ipc
out = {}
for o in json.loads(sys.argv[1]):
    kind, name = o["type"], o.get("kernel_name", "")
    try:
        if kind == "posix_shm":
            posix_ipc.SharedMemory(name).close_fd()
        elif kind == "posix_sem":
            posix_ipc.Semaphore(name).close()
        elif kind == "posix_mq":
            posix_ipc.MessageQueue(name).close()
        elif kind == "sysv_mq":
            sysv_ipc.MessageQueue(o["key"]).receive(block=False)
        elif kind == "sysv_sem":
            sysv_ipc.Semaphore(o["key"]).release()
        elif kind == "sysv_shm":
            sysv_ipc.SharedMemory(o["key"]).detach()
        elif kind in ("fifo", "mmap_file"):
            os.close(os.open(o["path"], os.O_RDONLY | os.O_NONBLOCK))
        else:
            continue
        out[kind] = "OPENED"
    except (PermissionError, posix_ipc.PermissionsError, sysv_ipc.PermissionsError) as e:
        out[kind] = "denied"
    except Exception as e:
        out[kind] = f"{type(e).__name__}: {e}"
print(json.dumps(out))
"""

AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def _as_nobody(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(
        [*AS_NOBODY, sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd="/",
    )
    if r.returncode != 0 and "setpriv" in r.stderr:
        pytest.skip(f"cannot switch to nobody here: {r.stderr.strip()}")
    return r


def _declared(run: LiveRun) -> list[dict]:
    _, events = run.events()
    return [e for e in events if e["kind"] == "obj.declare"]


def _mode(path: str) -> str:
    return oct(stat.S_IMODE(os.stat(path).st_mode))


def test_another_uid_cannot_open_the_sessions_objects(tmp_path: Path, record) -> None:
    run = LiveRun(tmp_path, waiting_scenario(tmp_path, EVERY_OBJECT))
    try:
        run.wait_ready()
        objs = _declared(run)
        fifo = next((o for o in objs if o["type"] == "fifo"), None)
        modes = {
            o["type"]: _mode(
                f"/dev/shm/{'sem.' if o['type'] == 'posix_sem' else ''}"
                f"{o['kernel_name'].lstrip('/')}"
            )
            for o in objs
            if o["type"] in ("posix_shm", "posix_sem")
        }
        modes.update({o["type"]: _mode(o["path"]) for o in objs if o["type"] == "mmap_file"})
        if fifo:
            modes["fifo"] = _mode(fifo["path"])
            modes["fifo dir"] = _mode(os.path.dirname(fifo["path"]))
        r = _as_nobody(PROBE, json.dumps(objs))
    finally:
        run.go()
    rc = run.finish()
    left = run.leaks()
    ok, why = replays(run.trace)
    tried = json.loads(r.stdout) if r.returncode == 0 else {"probe": r.stderr.strip()[-200:]}
    record(
        "other-uid",
        "as nobody: "
        + ", ".join(f"{k} {v}" for k, v in sorted(tried.items()))
        + "; modes: "
        + ", ".join(f"{k} {v}" for k, v in sorted(modes.items())),
        left,
        "yes" if ok else why,
    )
    assert r.returncode == 0, r.stderr
    assert len(tried) >= 3 and set(tried.values()) == {"denied"}, tried
    assert set(v for k, v in modes.items() if k != "fifo dir") == {"0o600"}, modes
    assert modes.get("fifo dir", "0o700") == "0o700", modes
    assert rc == 0 and not left and ok, (rc, left, why)


def test_clean_leaves_a_live_session_alone(tmp_path: Path, record) -> None:
    run = LiveRun(tmp_path, waiting_scenario(tmp_path, EVERY_OBJECT))
    try:
        run.wait_ready()
        _, events = run.events()
        alive_before = kernel_objects_left(events)
        cleaned = ipcviz_clean()
        alive_after = kernel_objects_left(events)
    finally:
        run.go()
    rc = run.finish()
    left = run.leaks()
    ok, why = replays(run.trace)
    record(
        "clean-live",
        f"{len(alive_after)}/{len(alive_before)} objects survived `ipcviz clean` ({cleaned}); "
        f"the run then ended with exit {rc}",
        left,
        "yes" if ok else why,
    )
    live = re.search(r"(\d+) live session\(s\) left alone", cleaned)
    assert live and int(live.group(1)) >= 1, cleaned  # ours, at least
    assert alive_after == alive_before and len(alive_before) >= 3
    assert rc == 0 and not left and ok, (rc, left, why)


MAKE_FOREIGN = r"""
import posix_ipc, sys, sysv_ipc
shm = posix_ipc.SharedMemory(sys.argv[1], posix_ipc.O_CREX, mode=0o600, size=64)
shm.close_fd()
posix_ipc.Semaphore(sys.argv[2], posix_ipc.O_CREX, mode=0o600).close()
q = sysv_ipc.MessageQueue(int(sys.argv[3]), sysv_ipc.IPC_CREX, mode=0o600)
print(q.id)
"""


def test_clean_never_touches_another_users_objects(tmp_path: Path, record) -> None:
    """Objects with ipcviz-like names, made by nobody, for a session that is not running."""
    import posix_ipc
    import sysv_ipc

    sid = "dead0" + os.urandom(2).hex()[:3]
    shm, sem, key = f"/ipcviz.{sid}.m", f"/ipcviz.{sid}.s", 0x1C000000 | int(sid[-3:], 16)
    # A registry of ours naming them, as a crashed session of ours would have left it.
    reg = runtime_dir() / f"{sid}.json"
    r = _as_nobody(MAKE_FOREIGN, shm, sem, str(key))
    assert r.returncode == 0, r.stderr
    qid = int(r.stdout)
    try:
        reg.write_text(
            json.dumps(
                {
                    "sid": sid,
                    "uid": os.getuid(),
                    "engine_pid": 999999999,
                    "engine_start": 1,
                    "objects": [
                        {"type": "posix_shm", "name": shm},
                        {"type": "posix_sem", "name": sem},
                    ],
                    "procs": [],
                }
            )
        )
        cleaned = ipcviz_clean()
        survived = {
            "shm": os.path.exists(f"/dev/shm{shm}"),
            "sem": os.path.exists(f"/dev/shm/sem.{sem[1:]}"),
            "sysv queue": str(qid) in Path("/proc/sysvipc/msg").read_text().split(),
        }
    finally:
        reg.unlink(missing_ok=True)
        for fn, arg in (
            (posix_ipc.unlink_shared_memory, shm),
            (posix_ipc.unlink_semaphore, sem),
            (sysv_ipc.remove_message_queue, qid),
        ):
            try:
                fn(arg)
            except (posix_ipc.Error, sysv_ipc.Error):
                pass
    record(
        "clean-other-user",
        "nobody's shm, sem (named in a dead registry of ours) and System V queue "
        f"(ipcviz key): survived {', '.join(k for k, v in survived.items() if v)}; {cleaned}",
        [],
    )
    assert all(survived.values()), survived


TRAP = """
open({touched!r}, 'w').write('imported')
print('\\x1b[2J TRAP RAN')
"""


def test_replay_never_imports_the_scenario_it_names(tmp_path: Path, record) -> None:
    touched = tmp_path / "touched"
    trap = tmp_path / "trap.py"
    trap.write_text(TRAP.format(touched=str(touched)))
    header = {
        "format": "ipcviz-trace",
        "version": 1,
        "scenario": {
            "id": "trap",
            "title": "a trap",
            "teaches": [],
            "steps": [],
            "processes": ["w"],
            "checks": ["x"],
            "source": str(trap),
            "params": {},
        },
        "session": "trap",
        "start": "2026-01-01T00:00:00+00:00",
        "host": "h",
    }
    events = [
        {
            "t": 0,
            "seq": 0,
            "pid": 0,
            "kind": "obj.declare",
            "obj": "m",
            "type": "posix_shm",
            "kernel_name": "/x",
            "size": 8,
            "cells": 1,
            "cell_size": 8,
        },
        {"t": 1, "seq": 1, "pid": 7, "kind": "proc.start", "name": "w", "color": 0},
        {"t": 2, "seq": 2, "pid": 7, "kind": "pickle", "data": "gASVBQAAAAAAAACMAXiULg=="},
        {
            "t": 3,
            "seq": 3,
            "pid": 0,
            "kind": "session.end",
            "outcome": "passed",
            "exit_code": 0,
            "reason": "",
            "events": 4,
        },
    ]
    trace = tmp_path / "trap.jsonl"
    trace.write_text("\n".join(json.dumps(x) for x in [header, *events]) + "\n")
    r = subprocess.run(
        [sys.executable, "-m", "ipcviz", "replay", str(trace), "--headless"],
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,  # the trap is importable as `trap` from here
    )
    ran = touched.exists() or b"TRAP RAN" in r.stdout
    sources = " ".join(
        p.read_text()
        for d in ("events", "model", "narrate")
        for p in (Path(__file__).resolve().parents[2] / "ipcviz" / d).glob("*.py")
    )
    unsafe = [w for w in ("import pickle", "eval(", "exec(", "import_module") if w in sources]
    record(
        "replay-no-exec",
        f"replay exit {r.returncode}; trap {'RAN' if ran else 'not imported'}; "
        f"replay path (events, model, narrate) uses: {', '.join(unsafe) or 'no pickle/eval/exec'}",
        [],
        "yes" if r.returncode == 0 else "no",
    )
    assert r.returncode == 0, r.stderr
    assert not ran and not unsafe, (ran, unsafe)
