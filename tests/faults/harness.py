"""Running real ``ipcviz run --headless`` processes under faults, and checking what they left.

Nothing here mocks the kernel: a run is the real CLI, which starts the real engine, which
forks real workers that create real kernel objects. After a fault the checks look at the
kernel (/proc, /dev/shm, /proc/sysvipc, the FIFO directory) and replay the trace.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from ipcviz.session.registry import runtime_dir
from tests import leaks

#: Deadline for anything a test waits for (generous: a loaded 2-core CI machine).
PATIENCE = 30.0


def wait_for(what: str, cond: Callable[[], Any], timeout: float = PATIENCE) -> Any:
    """Poll ``cond`` until it returns something truthy; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def write_scenario(tmp_path: Path, body: str, name: str = "faulty") -> Path:
    """A scenario file in ``tmp_path``; ``{dir}`` in ``body`` becomes that directory."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body).replace("{dir}", str(tmp_path)))
    return path


#: Waits until the file ``go`` appears in the test's directory (or 60 s), after saying
#: ``ready``: lets a test act while a run is live, with no fixed sleeps.
WAIT_FOR_GO = """
import os, time

def wait_for_go(ctx, me='w'):
    open(os.path.join({dir!r}, 'ready.' + me), 'w').close()
    end = time.monotonic() + 60
    while not os.path.exists(os.path.join({dir!r}, 'go')) and time.monotonic() < end:
        time.sleep(0.01)
"""


def waiting_scenario(tmp_path: Path, objects: str = "", extra: str = "") -> Path:
    """One worker ``w`` that waits for ``go``; ``objects`` declares kernel objects."""
    body = (
        "from ipcviz.scenario import Scenario\n"
        + WAIT_FOR_GO.replace("{dir!r}", repr(str(tmp_path)))
        + "scenario = Scenario('waits', 'waits for a file', timeout=60)\n"
        + textwrap.dedent(objects)
        + "\n@scenario.process('w')\ndef w(ctx):\n    wait_for_go(ctx)\n"
        + textwrap.dedent(extra)
    )
    path = tmp_path / "waits.py"
    path.write_text(body)
    return path


class LiveRun:
    """``python -m ipcviz run FILE --headless --record TRACE`` as a real child process."""

    def __init__(
        self, tmp_path: Path, scenario: Path | str, *extra: str, trace: Path | None = None
    ) -> None:
        self.dir = tmp_path
        self.trace = trace or tmp_path / "run.jsonl"
        self.out_path = tmp_path / "stdout.txt"
        self.err_path = tmp_path / "stderr.txt"
        self.before = set(leaks.leftovers())
        self.seen: set[int] = set()  # every pid of the run's tree, whenever we looked
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [
                    *(sys.executable, "-m", "ipcviz", "run", str(scenario), "--headless"),
                    *("--record", str(self.trace), *extra),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        self.seen.add(self.proc.pid)
        self._engine: psutil.Process | None = None
        self.rc: int | None = None

    # -- looking at it while it runs -------------------------------------------------

    def tree(self) -> list[psutil.Process]:
        """The CLI's living descendants (engine, workers, their children); remembered."""
        try:
            kids = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            kids = []
        if self._engine is not None:  # once the CLI is gone, the engine is an orphan
            try:
                kids += [self._engine, *self._engine.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
        self.seen.update(k.pid for k in kids)
        return kids

    def engine(self) -> psutil.Process:
        """The engine: the CLI's child running ``-m ipcviz.engine``."""

        def find() -> psutil.Process | None:
            for p in self.tree():
                try:
                    if "ipcviz.engine" in p.cmdline():
                        return p
                except psutil.NoSuchProcess:
                    pass
            return None

        self._engine = wait_for("the engine process", find)
        return self._engine

    def wait_ready(self, *names: str) -> None:
        """Until every named worker said ``ready`` (its objects exist, it waits)."""
        for n in names or ("w",):
            wait_for(f"worker {n} ready", (self.dir / f"ready.{n}").exists)
        # A worker may say ready before the engine flushed the events that declared it.
        wanted = set(names or ("w",))
        wait_for("the workers' proc.start in the trace", lambda: wanted <= set(self.worker_pids()))
        self.tree()

    def worker_pids(self) -> dict[str, int]:
        """Worker name → pid, from the trace written so far."""
        _, events = self.events()
        return {e["name"]: e["pid"] for e in events if e["kind"] == "proc.start"}

    def events(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return read_lines(self.trace)

    def go(self) -> None:
        (self.dir / "go").touch()

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def kill_engine_and_viewer(self) -> None:
        """SIGKILL both, the engine stopped first so it cannot clean up when its viewer
        dies: nobody is left to remove anything but ``ipcviz clean``."""
        engine = self.engine()
        engine.suspend()
        self.signal(signal.SIGKILL)
        self.finish()
        engine.kill()
        engine.wait(30)

    # -- after it ended -------------------------------------------------------------

    def finish(self, timeout: float = 60) -> int:
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_everything()
            raise AssertionError(f"ipcviz did not end within {timeout} s") from None
        return self.rc

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def kill_everything(self) -> None:
        """Last resort so a failing test does not leave processes for the next one."""
        for p in self.tree():
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self.proc.kill()
        self.proc.wait()

    def leaks(self, extra_pids: tuple[int, ...] = (), patience: float = 10.0) -> list[str]:
        """What this run left behind; [] when nothing. Polls briefly (exits are async)."""
        deadline = time.monotonic() + patience
        while True:
            found = self._leaks_now(extra_pids)
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def _leaks_now(self, extra_pids: tuple[int, ...]) -> list[str]:
        found = [f"process {pid}" for pid in sorted(self.seen | set(extra_pids)) if _alive(pid)]
        header, events = self.events() if self.trace.exists() else ({}, [])
        sid = header.get("session", "")
        found += [f"{obj} still exists" for obj in kernel_objects_left(events)]
        rdir = runtime_dir()
        if sid and (rdir / f"{sid}.json").exists():
            found.append(f"registry {sid}.json")
        if sid and any((rdir / f"{p}{sid}").exists() for p in ("files.", "fifo.")):
            found.append(f"files directory of {sid}")
        found += sorted(set(leaks.leftovers()) - self.before)
        return found


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def read_lines(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Header and whole events of a trace that may still be written (last line partial)."""
    try:
        lines = path.read_bytes().split(b"\n")
    except FileNotFoundError:
        return {}, []
    parsed = []
    for raw in lines:
        try:
            parsed.append(json.loads(raw))
        except ValueError:
            pass
    return (parsed[0], parsed[1:]) if parsed else ({}, [])


def kernel_objects_left(events: list[dict[str, Any]]) -> list[str]:
    """Objects declared in the trace that still exist in the kernel."""
    import posix_ipc

    left = []
    for e in events:
        if e.get("kind") != "obj.declare":
            continue
        kind, name = e.get("type"), e.get("kernel_name", "")
        file = {
            "posix_shm": f"/dev/shm/{name.lstrip('/')}",
            "posix_sem": f"/dev/shm/sem.{name.lstrip('/')}",
            "fifo": e.get("path", name),
            "mmap_file": e.get("path", name),
        }.get(kind or "")
        if file is not None:
            if os.path.exists(file):
                left.append(name)
        elif kind == "posix_mq":
            try:
                posix_ipc.MessageQueue(name).close()
                left.append(name)
            except posix_ipc.ExistentialError:
                pass
        elif kind in ("sysv_mq", "sysv_sem", "sysv_shm"):
            table = {"sysv_mq": "msg", "sysv_sem": "sem", "sysv_shm": "shm"}[kind]
            ids = {line.split()[1] for line in _sysv_lines(table)}
            if str(e.get("id", "")) in ids:
                left.append(f"{kind} id {e.get('id')}")
    return left


def _sysv_lines(table: str) -> list[str]:
    try:
        return Path(f"/proc/sysvipc/{table}").read_text().splitlines()[1:]
    except OSError:
        return []


def replays(trace: Path) -> tuple[bool, str]:
    """``ipcviz replay TRACE --headless`` exits 0 without a traceback: (ok, why not)."""
    r = subprocess.run(
        [sys.executable, "-m", "ipcviz", "replay", str(trace), "--headless"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    ok = r.returncode == 0 and "Traceback" not in r.stderr
    return ok, "" if ok else f"replay exit {r.returncode}: {r.stderr.strip()[-300:]}"


def ipcviz_clean() -> str:
    r = subprocess.run(
        [sys.executable, "-m", "ipcviz", "clean"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def stop_stopped(pid: int) -> None:
    """SIGKILL + SIGCONT one process we stopped, if a test failed before the run did."""
    for sig in (signal.SIGKILL, signal.SIGCONT):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
