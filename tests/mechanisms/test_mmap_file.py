"""A shared file mapping (mmap of a regular file, MAP_SHARED), added through the registry."""

from __future__ import annotations

import base64
import os
import signal
from pathlib import Path

from ipcviz.scenario.loader import load_builtins
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import LiveFeed
from ipcviz.tui.widgets import Checks, ObjectsPanel
from tests.conftest import BuiltinTraces, ipcviz, run_scenario
from tests.faults.harness import LiveRun, ipcviz_clean, kernel_objects_left, waiting_scenario
from tests.mechanisms.helpers import by_kind, pids_by_name
from tests.tui.helpers import settle


def test_mmap_file_headless_checks_pass_history_is_legal_and_two_addresses(tmp_path: Path):
    result, _header, events = run_scenario("mmap-file", tmp_path)
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
    both = [p for p in probes if {writer, reader} <= set(p["addresses"])]
    assert both, probes
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
