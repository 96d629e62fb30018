"""``ipcviz export -o``: an existing output is refused without ``--force``; files are
created new, 0600, never through a symlink; ``--force`` into an svg directory removes only
the files an earlier export wrote (and says which others it kept)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ipcviz.export.files import MANIFEST
from tests.conftest import BuiltinTraces, ipcviz, read_trace


@pytest.fixture(scope="module")
def trace(builtin_traces: BuiltinTraces, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real recorded pipe-basic run."""
    tmp = tmp_path_factory.mktemp("export-files")
    result, _header, events = builtin_traces.copy("pipe-basic", tmp)
    assert result.returncode == 0, result.stderr
    assert sum(e["kind"] == "narrate" for e in events) >= 2
    return tmp / "pipe-basic.jsonl"


def export(trace: Path, fmt: str, out: Path, *extra: str):
    return ipcviz("export", str(trace), "--format", fmt, "-o", str(out), *extra)


def refused(result) -> bool:
    """One line, exit 2, naming --force."""
    lines = result.stderr.strip().splitlines()
    return result.returncode == 2 and len(lines) == 1 and "--force" in lines[0]


@pytest.mark.parametrize("fmt", ["perfetto", "html"])
def test_an_existing_file_is_refused_unless_force(trace: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "out"
    out.write_text("mine\n")
    assert refused(export(trace, fmt, out))
    assert out.read_text() == "mine\n"
    assert export(trace, fmt, out, "--force").returncode == 0
    assert out.read_text() != "mine\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary file left


@pytest.mark.parametrize("fmt", ["perfetto", "html"])
def test_a_symlink_is_replaced_never_written_through(trace: Path, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / "precious"
    target.write_text("precious\n")
    link = tmp_path / "out"
    link.symlink_to(target)
    assert refused(export(trace, fmt, link))
    assert export(trace, fmt, link, "--force").returncode == 0
    assert target.read_text() == "precious\n"
    assert not link.is_symlink() and stat.S_IMODE(link.stat().st_mode) == 0o600


def test_a_new_file_is_0600(trace: Path, tmp_path: Path) -> None:
    out = tmp_path / "new.json"
    assert export(trace, "perfetto", out).returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    json.loads(out.read_text())


def test_svg_force_replaces_only_what_ipcviz_wrote(trace: Path, tmp_path: Path) -> None:
    out = tmp_path / "shots"
    assert export(trace, "svg", out).returncode == 0
    first = sorted(p.name for p in out.iterdir() if p.name != MANIFEST)
    assert len(first) >= 2
    assert all(stat.S_IMODE((out / n).stat().st_mode) == 0o600 for n in first)
    # the user adds notes and edits one picture
    (out / "notes.txt").write_text("my notes\n")
    edited = out / first[0]
    edited.write_text(edited.read_text() + "<!-- edited -->")
    assert refused(export(trace, "svg", out))
    # a shorter trace (one narration step) exported over it with --force
    header, events = read_trace(trace)
    narr = [i for i, e in enumerate(events) if e["kind"] == "narrate"]
    shorter = tmp_path / "short.jsonl"
    kept_events = [e for i, e in enumerate(events) if i not in narr[1:]]
    lines = [json.dumps(header), *(json.dumps(e) for e in kept_events)]
    shorter.write_text("\n".join(lines) + "\n")
    # the edited picture has the name the new export wants: refused, nothing removed
    clash = export(shorter, "svg", out, "--force")
    assert clash.returncode == 2 and "did not write" in clash.stderr, clash.stderr
    edited.rename(out / "edited.svg")
    result = export(shorter, "svg", out, "--force")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir() if p.name != MANIFEST)
    assert names == sorted([first[0], "edited.svg", "notes.txt"])
    assert (out / "notes.txt").read_text() == "my notes\n"
    assert "kept 2 file(s)" in result.stderr and "notes.txt" in result.stderr
    assert "edited.svg" in result.stderr


def test_svg_into_a_symlinked_directory_is_refused(trace: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "shots"
    link.symlink_to(real)
    result = export(trace, "svg", link, "--force")
    assert result.returncode == 2 and "symlink" in result.stderr
    assert not list(real.iterdir())


def test_svg_into_an_empty_directory_needs_no_force(trace: Path, tmp_path: Path) -> None:
    out = tmp_path / "shots"
    out.mkdir()
    assert export(trace, "svg", out).returncode == 0
    assert len(list(out.iterdir())) >= 3
