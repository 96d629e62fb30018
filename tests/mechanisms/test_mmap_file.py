"""A shared file mapping (mmap of a regular file, MAP_SHARED), added through the registry."""

from __future__ import annotations

import base64
import os
import signal
from pathlib import Path

from ipcviz.scenario.loader import load_builtins
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import LiveFeed
from ipcviz.tui.widgets.panels import Checks, ObjectsPanel
from tests.conftest import BuiltinTraces, ipcviz, run_scenario
from tests.faults.harness import LiveRun, ipcviz_clean, kernel_objects_left, waiting_scenario
from tests.mechanisms.helpers import by_kind, pids_by_name
from tests.tui.helpers import settle


def test_mmap_file_headless_checks_pass_history_is_legal_and_two_addresses(
    builtin_traces: BuiltinTraces, tmp_path: Path
):
    result, _header, events = builtin_traces.copy("mmap-file", tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert all(e["ok"] for e in by_kind(events, "check")), by_kind(events, "check")
    assert not by_kind(events, "drift")
    decl = next(e for e in by_kind(events, "obj.declare") if e["obj"] == "table")
    assert decl["type"] == "mmap_file" and decl["path"].endswith("/table.map")
    verify = ipcviz("verify", str(tmp_path / "mmap-file.jsonl"))
    assert verify.returncode == 0 and "legal history" in verify.stdout, verify.stdout
    pids = pids_by_name(events)
    probes = [e for e in by_kind(events, "probe.shm") if e["obj"] == "table"]
    writer, reader = str(pids["writer"]), str(pids["reader"])
    # Only a reading taken after the reader mapped the file again (before it, both hold the
    # mapping inherited across fork, at one address; a sweep may read them then). The
    # reader's step "again" comes after its remap and is probed while the writer waits.
    remapped = next(e for e in by_kind(events, "report") if e["key"] == "address")
    both = [p for p in probes if {writer, reader} <= set(p["addresses"]) and p["t"] > remapped["t"]]
    assert both, probes
    assert both[0]["addresses"][reader] == int(remapped["value"], 16)
    assert both[0]["addresses"][writer] != both[0]["addresses"][reader]
    last = base64.b64decode(probes[-1]["data"])  # a plain pread of the file
    assert [int.from_bytes(last[i : i + 8], "little") for i in range(0, 32, 8)] == [
        100,
        200,
        300,
        400,
    ]
    assert not os.path.exists(decl["path"])  # removed at the end


async def test_mmap_file_in_the_tui(tmp_path: Path) -> None:
    source = Path(next(s.source for s in load_builtins() if s.id == "mmap-file"))
    app = IpcvizApp(lambda: LiveFeed(source, tmp_path / "live.jsonl", quick=True))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await settle(pilot, timeout=60)
        text = "\n".join(screen.query_one(ObjectsPanel).views["table"].plain_lines())
        shown = screen.query_one(Checks).render()
        checks = getattr(shown, "plain", str(shown))
        screen.stop()
    assert "mmap_file" in text and "8 cells" in text and "400" in text, text
    assert "✗" not in checks and "✓" in checks, checks


def test_mmap_file_in_every_export(builtin_traces: BuiltinTraces, tmp_path: Path) -> None:
    run, trace = builtin_traces.run("mmap-file")
    assert run.returncode == 0, run.stdout[-2000:]
    for fmt in ("perfetto", "svg", "html"):
        out = tmp_path / f"out.{fmt}"
        ipcviz("export", "--format", fmt, "-o", str(out), str(trace), check=True)
        files = sorted(out.iterdir()) if out.is_dir() else [out]
        assert files and any("mmap_file" in f.read_text() for f in files), fmt


def test_clean_removes_a_killed_sessions_mapped_file(tmp_path: Path) -> None:
    scenario = waiting_scenario(tmp_path, "scenario.mapped_file('mf', cells=4)\n")
    run = LiveRun(tmp_path, scenario)
    try:
        run.wait_ready()
        workers = run.worker_pids()
        run.kill_engine_and_viewer()
        for pid in workers.values():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, events = run.events()
        decl = next(e for e in by_kind(events, "obj.declare") if e["obj"] == "mf")
        assert kernel_objects_left(events) == [decl["kernel_name"]]
        cleaned = ipcviz_clean()
        assert kernel_objects_left(events) == [], cleaned
        assert not run.leaks(tuple(workers.values())), cleaned
    finally:
        run.kill_everything()


def test_mmap_file_lives_in_the_sessions_files_directory_and_says_only_what_is_shown(
    builtin_traces: BuiltinTraces,
    tmp_path: Path,
) -> None:
    """The file's directory is named for what it holds (files.<sid>, not fifo.<sid>), and
    no narration step points at a kernel view the screen does not draw."""
    result, header, events = builtin_traces.copy("mmap-file", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    decl = next(e for e in by_kind(events, "obj.declare") if e["obj"] == "table")
    assert Path(decl["path"]).parent.name == f"files.{header['session']}"
    for step in header["scenario"]["steps"]:
        for lang in ("en", "ko"):
            assert "view below" not in step[lang] and "아래 커널" not in step[lang], step


def test_clean_removes_old_and_new_files_directories_and_only_its_own(tmp_path: Path) -> None:
    """A dead session's files directory, by its new name and by the old ``fifo.<sid>``, and
    the mapped files in them, are removed; a registry entry naming a file or a directory
    anywhere else is never acted on."""
    import json
    import subprocess

    from ipcviz.session.registry import runtime_dir

    dead = subprocess.Popen(["true"])
    dead.wait()
    rdir = runtime_dir()
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "t.map").write_bytes(b"x" * 64)
    sids = {"files": "f1e5d1r0", "fifo": "01dd1r00"}
    for prefix, sid in sids.items():
        d = rdir / f"{prefix}.{sid}"
        d.mkdir(mode=0o700)
        (d / "t.map").write_bytes(bytes(64))
        objects = [
            {"type": "dir", "path": str(d)},
            {"type": "mmap_file", "path": str(d / "t.map")},
            {"type": "dir", "path": str(foreign)},
            {"type": "mmap_file", "path": str(foreign / "t.map")},
        ]
        registry = {"sid": sid, "scenario": "x", "uid": os.getuid(), "engine_pid": dead.pid,
                    "engine_start": 1, "engine_sid": dead.pid, "created": 0,
                    "objects": objects, "procs": []}  # fmt: skip
        (rdir / f"{sid}.json").write_text(json.dumps(registry))
    try:
        ipcviz_clean()
        for prefix, sid in sids.items():
            assert not (rdir / f"{prefix}.{sid}").exists()
            assert not (rdir / f"{sid}.json").exists()
        assert (foreign / "t.map").read_bytes() == b"x" * 64
    finally:
        for prefix, sid in sids.items():
            (rdir / f"{sid}.json").unlink(missing_ok=True)
            (rdir / f"{prefix}.{sid}" / "t.map").unlink(missing_ok=True)
            if (rdir / f"{prefix}.{sid}").exists():
                (rdir / f"{prefix}.{sid}").rmdir()


SHARED_CELLS = """
from ipcviz.scenario import Scenario

scenario = Scenario("cells", "checks read cells")
f = scenario.mapped_file("f", cells=4)
s = scenario.sysv_shared_memory("s", cells=4)
go = scenario.semaphore("go", value=0)


@scenario.process("w")
def w(ctx):
    f[1] = 41  # inherited mapping: usable at once, no attach needed
    s[2] = -7
    go.post()


@scenario.process("r")
def r(ctx):
    go.wait()
    ctx.report("addresses", [table.remap(), seg.reattach(), table.map_again(), seg.attach()])
    ctx.report("seen", [f[1], s[2]])
    f[1] += 1


table, seg = f, s


@scenario.check("cells read from the model and the kernel agree")
def cells(run):
    ff, ss = run.state.objects["f"], run.state.objects["s"]
    got = (ff.cell(1), ff.kernel_cell(1), ss.cell(2), ss.kernel_cell(2), ss.kernel_cell(99))
    return got == (42, 42, -7, -7, None), str(got)


@scenario.check("the process saw the values through its own mappings")
def seen(run):
    return run.report("r", "seen") == [41, -7], str(run.report("r", "seen"))
"""


def test_checks_read_cells_and_own_mappings_under_new_and_old_names(tmp_path: Path) -> None:
    """docs/scenarios.md's account: ``cell``/``kernel_cell`` in checks, ``remap`` and
    ``reattach`` (and their first names) in a worker."""
    path = tmp_path / "cells.py"
    path.write_text(SHARED_CELLS)
    result, _header, events = run_scenario(str(path), tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert all(e["ok"] for e in by_kind(events, "check")), by_kind(events, "check")
