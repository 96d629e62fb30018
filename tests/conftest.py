"""Shared fixtures. After every test: no ipcviz object of a dead session, no child process."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import inspect
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests import isolation, leaks

ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (pyproject.toml): two workers where each can be isolated (tests/isolation.py)."""
    return isolation.auto_workers()


def pytest_report_header(config: pytest.Config) -> str:
    """Say how the suite runs, so a CI log shows whether the workers were isolated."""
    n = getattr(config.option, "numprocesses", None)
    if n:
        return f"ipcviz: {n} workers, each in IPC and mount namespaces of its own"
    return "ipcviz: one process (no namespaces of its own here, or -n 0)"


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):  # a worker: its own IPC namespace and /dev/shm
        try:
            isolation.isolate()
        except OSError as exc:
            raise pytest.UsageError(
                f"a test worker needs a world of its own: {exc}; use -n 0"
            ) from None
        # xdist passes the controller's terminal width down as COLUMNS/LINES; a TUI started
        # by a test (in tmux, say) would take them for its own size, as no serial run does.
        os.environ.pop("COLUMNS", None)
        os.environ.pop("LINES", None)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests (Textual's Pilot) with asyncio.run: no extra plugin needed."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**args))
    return True


@pytest.fixture(autouse=True)
def no_leaks(tmp_path_factory: pytest.TempPathFactory):
    """Fail the test if it left kernel objects or processes behind."""
    before = set(leaks.leftovers())
    yield
    # exits and removals are asynchronous: waited for (polled), never a reason to fail by
    # themselves; 5 s was a guess a loaded 2-core machine can miss (what is left is left)
    deadline = time.monotonic() + 30
    while True:
        kids = leaks.children()
        new = set(leaks.leftovers()) - before
        if (not kids and not new) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    left = []
    for k in kids:
        try:
            left.append((k.pid, k.cmdline()[:3]))  # read before the kill: a zombie has none
            k.kill()
        except psutil.Error:
            pass
    assert not kids, f"processes left behind: {left}"
    assert not new, f"kernel objects left behind: {sorted(new)}"


@pytest.fixture(autouse=True)
def private_data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Traces of tests go to a temporary XDG data directory, not the user's."""
    home = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def english() -> Any:
    """Every test starts in English and leaves the language as it found it: the language
    is one process-wide setting (``ipcviz.i18n``), and a Korean test must not word the
    next test's screen."""
    from ipcviz import i18n

    i18n.set_lang("en")
    yield
    i18n.set_lang("en")


def ipcviz(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI (``python -m ipcviz``) and capture its output."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "ipcviz", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"ipcviz {args} → {result.returncode}\n{result.stderr}")
    return result


def read_trace(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = path.read_text().splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def run_scenario(name: str, tmp_path: Path, *extra: str, timeout: float = 60):
    """Run a scenario headless with --quick; return (result, header, events)."""
    trace = tmp_path / f"{Path(name).stem}.jsonl"
    result = ipcviz(
        "run", name, "--headless", "--quick", "--record", str(trace), *extra, timeout=timeout
    )
    header, events = read_trace(trace) if trace.exists() else ({}, [])
    return result, header, events


def _file_name(scenario_id: str) -> str:
    """A scenario id as a file name: a C example's ``c/NAME`` → ``c--NAME``."""
    return scenario_id.replace("/", "--")


class BuiltinTraces:
    """Each built-in scenario recorded once per test session (``--quick``), on first use:
    several test files read the same recordings instead of running the scenario again.
    The test workers (tests/isolation.py) share them: the first to need one records it
    under a lock, the others read it."""

    #: Each --quick run must finish well inside this; the engine enforces it (exit 1).
    LIMIT_S = 20

    def __init__(self, root: Path) -> None:
        self.root = root
        self._done: dict[str, tuple[subprocess.CompletedProcess[str], Path]] = {}
        self._replays: dict[str, subprocess.CompletedProcess[str]] = {}

    def run(self, name: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        """The run (exit code, output) and its trace."""
        if name not in self._done:
            trace = self.root / f"{_file_name(name)}.jsonl"
            with self._lock(_file_name(name)):
                run = self._stored(f"{_file_name(name)}.run") or self._record(name, trace)
            self._done[name] = run, trace
        return self._done[name]

    def replay(self, name: str, lang: str) -> subprocess.CompletedProcess[str]:
        """``ipcviz replay TRACE --headless --lang LANG`` of the shared run, once per
        session too: the Korean tests and the log tests each compare with it."""
        key = f"{_file_name(name)}.replay-{lang}"
        if key not in self._replays:
            trace = self(name)
            with self._lock(key):
                self._replays[key] = self._stored(key) or self._store(
                    key,
                    ipcviz(
                        "replay", str(trace), "--headless", "--lang", lang,
                        env={"LANG": "C.UTF-8"},
                    ),
                )  # fmt: skip
        return self._replays[key]

    @contextlib.contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        """Held while one worker makes ``key``; another that needs it waits, then reads it."""
        with open(self.root / f"{key}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
            yield

    def _stored(self, key: str) -> subprocess.CompletedProcess[str] | None:
        """What another worker made already, if it did."""
        try:
            done = json.loads((self.root / f"{key}.json").read_text())
        except FileNotFoundError:
            return None
        return subprocess.CompletedProcess(done["args"], done["rc"], done["out"], done["err"])

    def _store(
        self, key: str, run: subprocess.CompletedProcess[str]
    ) -> subprocess.CompletedProcess[str]:
        done = {"args": run.args, "rc": run.returncode, "out": run.stdout, "err": run.stderr}
        (self.root / f"{key}.json").write_text(json.dumps(done))
        return run

    def _record(self, name: str, trace: Path) -> subprocess.CompletedProcess[str]:
        run = ipcviz(
            "run", name, "--headless", "--quick", "--record", str(trace),
            "--timeout", str(self.LIMIT_S), timeout=self.LIMIT_S + 40,
            env={"XDG_CACHE_HOME": str(self.root / "cache")},  # C examples compiled here
        )  # fmt: skip
        assert trace.exists(), f"{name}: no trace ({run.returncode}): {run.stderr[-500:]}"
        return self._store(f"{_file_name(name)}.run", run)

    def __call__(self, name: str) -> Path:
        return self.run(name)[1]

    def copy(
        self, name: str, dest: Path
    ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], list[dict[str, Any]]]:
        """The shared run of ``name`` as ``run_scenario(name, dest)`` returns it, its trace
        copied to ``dest/NAME.jsonl``: the test may change it or write beside it. A test
        that only reads a plain ``--quick`` run need not make one more (2–3 s each)."""
        run, trace = self.run(name)
        dest.mkdir(parents=True, exist_ok=True)
        mine = dest / f"{Path(name).stem}.jsonl"
        shutil.copyfile(trace, mine)
        return (run, *read_trace(mine))


@pytest.fixture(scope="session")
def builtin_traces(tmp_path_factory: pytest.TempPathFactory) -> BuiltinTraces:
    if os.environ.get("PYTEST_XDIST_WORKER"):  # beside the workers' own directories
        shared = tmp_path_factory.getbasetemp().parent / "builtin-traces"
        shared.mkdir(exist_ok=True)
        return BuiltinTraces(shared)
    return BuiltinTraces(tmp_path_factory.mktemp("builtin-traces"))
