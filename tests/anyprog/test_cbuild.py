"""C examples compiled on first use into a per-user cache (0700, exclusive files)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from ipcviz.errors import IpcvizError
from ipcviz.sources import cbuild

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
