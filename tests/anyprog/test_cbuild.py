"""C examples compiled on first use into a per-user cache (0700, exclusive files)."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ipcviz.errors import IpcvizError
from ipcviz.sources import cbuild
from tests.faults.harness import PATIENCE, wait_for

needs_cc = pytest.mark.skipif(
    shutil.which("cc") is None and shutil.which("gcc") is None,
    reason="no C compiler on this machine",
)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "ipcviz" / "c"


def test_the_examples_are_listed() -> None:
    assert {"c/pipe-parent-child", "c/sysv-mq-typed"} <= set(cbuild.examples())


@needs_cc
def test_built_once_private_and_reused(cache: Path) -> None:
    first = cbuild.build("c/pipe-parent-child")
    assert first.name == "pipe_parent_child" and first.parent.parent == cache
    for path in (cache, first.parent):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert stat.S_IMODE(first.stat().st_mode) == 0o700
    mtime = first.stat().st_mtime_ns
    assert cbuild.build("c/pipe_parent_child") == first
    assert first.stat().st_mtime_ns == mtime  # not rebuilt
    assert [p.name for p in first.parent.iterdir()] == ["pipe_parent_child"]  # no temp left


@needs_cc
def test_an_edited_source_is_rebuilt_and_errors_are_one_line(tmp_path: Path, cache: Path) -> None:
    src = tmp_path / "lab.c"
    src.write_text("int main(void) { return 0; }\n")
    one = cbuild.build(str(src))
    src.write_text("int main(void) { return 1; }\n")
    assert cbuild.build(str(src)) != one
    src.write_text("int main(void) { return x; }\n")
    with pytest.raises(IpcvizError, match=r"lab\.c does not compile: .*error"):
        cbuild.build(str(src))


def test_a_cache_that_is_a_symlink_is_refused(tmp_path: Path, cache: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cache.parent.mkdir(parents=True)
    os.symlink(elsewhere, cache)
    with pytest.raises(IpcvizError, match="not a directory of yours"):
        cbuild.cache_dir()


def test_unknown_example() -> None:
    with pytest.raises(IpcvizError, match="unknown C example"):
        cbuild.source_of("c/nope")


def _slow_c(path: Path) -> Path:
    """A C file gcc takes seconds over (thousands of small functions)."""
    body = [f"int f{i}(int x) {{ int s = 0; for (int j = 0; j < x; j++) s += j * {i} % 7; "
            f"return s + {i}; }}" for i in range(6000)]  # fmt: skip
    path.write_text("#include <stdio.h>\n" + "\n".join(body) + "\nint main(void) { return 0; }\n")
    return path


def _compilers_of(source: Path) -> list[int]:
    """Running processes whose command line names ``source`` (gcc, cc1, as)."""
    found = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if str(source).encode() in f.read():
                    found.append(int(name))
        except (OSError, ValueError):
            pass
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_during_the_compile_ends_the_compiler_and_leaves_no_output(
    tmp_path: Path, sig: int
) -> None:
    """`ipcviz run FILE.c` sent SIGTERM while gcc ran: ipcviz died at once (-15), the
    compiler ran on, orphaned, and its half-made binary stayed in the cache as .NAME.*.tmp."""
    source = _slow_c(tmp_path / "slow.c")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipcviz", "run", str(source), "--headless"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def compilers() -> list[int]:  # (ipcviz's own command line names the source too)
        return [p for p in _compilers_of(source) if p != proc.pid]

    wait_for(  # until the compiler proper runs: gcc and its cc1
        "the compiler running", lambda: len(compilers()) >= 2 or proc.poll() is not None
    )
    assert proc.poll() is None, "the compile ended before the signal could be sent"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    deadline = time.monotonic() + PATIENCE  # a killed process is gone at once; loaded, soon
    while (left := compilers()) and time.monotonic() < deadline:
        time.sleep(0.02)
    for pid in left:  # (the test's own leftovers, should the check fail)
        os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 130 and "Traceback" not in err, (proc.returncode, err)
    assert not left, left
    assert not list((tmp_path / "cache").rglob("*.tmp"))
