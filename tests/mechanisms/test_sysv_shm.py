"""System V shared memory, added through the mechanism registry: real segments, real runs."""

from __future__ import annotations

import base64
import os
import signal
from pathlib import Path

from ipcviz.scenario.loader import load_builtins
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import LiveFeed
from ipcviz.tui.widgets.panels import Checks, ObjectsPanel
from tests.conftest import BuiltinTraces, ipcviz
from tests.faults.harness import LiveRun, ipcviz_clean, kernel_objects_left, waiting_scenario
from tests.mechanisms.helpers import by_kind, pids_by_name
from tests.tui.helpers import settle


def _shmids() -> set[int]:
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {int(line.split()[1]) for line in lines}


def test_sysv_shm_headless_checks_pass_history_is_legal_and_probes_see_two_addresses(
    builtin_traces: BuiltinTraces,
    tmp_path: Path,
):
    result, _header, events = builtin_traces.copy("sysv-shm", tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert all(e["ok"] for e in by_kind(events, "check")), by_kind(events, "check")
    assert not by_kind(events, "drift")
    decl = next(e for e in by_kind(events, "obj.declare") if e["obj"] == "slot")
    assert decl["type"] == "sysv_shm" and decl["key"] >> 24 == 0x1C and decl["id"] >= 0
    verify = ipcviz("verify", str(tmp_path / "sysv-shm.jsonl"))
    assert verify.returncode == 0 and "legal history" in verify.stdout, verify.stdout
    # The narration "shmat" is probed while its process waits at its gate: both workers
    # have the segment attached, at different addresses, and the kernel counts them.
    pids = pids_by_name(events)
    probes = [e for e in by_kind(events, "probe.shm") if e["obj"] == "slot"]
    both = [
        p for p in probes if {str(pids["producer"]), str(pids["consumer"])} <= set(p["addresses"])
    ]
    assert both, probes
    addresses = both[0]["addresses"]
    assert addresses[str(pids["producer"])] != addresses[str(pids["consumer"])]
    assert both[0]["nattch"] >= 2
    # the kernel's bytes (read through the engine's read-only attachment) are the model's
    last = base64.b64decode(probes[-1]["data"])
    assert int.from_bytes(last[:8], "little") == 25  # the last square of --quick's 5 values
    assert decl["id"] not in _shmids()  # removed at the end


async def test_sysv_shm_in_the_tui(tmp_path: Path) -> None:
    """A live run on the session screen: the segment is drawn as cells, the checks pass."""
    source = Path(next(s.source for s in load_builtins() if s.id == "sysv-shm"))
    app = IpcvizApp(lambda: LiveFeed(source, tmp_path / "live.jsonl", quick=True))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await settle(pilot, timeout=60)
        view = screen.query_one(ObjectsPanel).views["slot"]
        text = "\n".join(view.plain_lines())
        shown = screen.query_one(Checks).render()
        checks = getattr(shown, "plain", str(shown))
        screen.stop()
    assert "sysv_shm" in text and "4 cells" in text and "nattch=" in text, text
    assert "✗" not in checks and "✓" in checks, checks


def test_clean_removes_a_killed_sessions_sysv_segment(tmp_path: Path) -> None:
    """Engine and viewer SIGKILLed: nobody detaches or removes the segment; ``ipcviz clean``
    finds it by the key registered before shmget, and removes it."""
    scenario = waiting_scenario(tmp_path, "scenario.sysv_shared_memory('seg', cells=4)\n")
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
        decl = next(e for e in by_kind(events, "obj.declare") if e["obj"] == "seg")
        assert kernel_objects_left(events) == [f"sysv_shm id {decl['id']}"]
        cleaned = ipcviz_clean()
        assert kernel_objects_left(events) == [], cleaned
        assert not run.leaks(tuple(workers.values())), cleaned
    finally:
        run.kill_everything()


def test_sysv_shm_in_every_export(builtin_traces: BuiltinTraces, tmp_path: Path) -> None:
    """Perfetto, SVG and HTML handouts draw the segment like any shared memory."""
    run, trace = builtin_traces.run("sysv-shm")
    assert run.returncode == 0, run.stdout[-2000:]
    for fmt in ("perfetto", "svg", "html"):
        out = tmp_path / f"out.{fmt}"
        ipcviz("export", "--format", fmt, "-o", str(out), str(trace), check=True)
        files = sorted(out.iterdir()) if out.is_dir() else [out]
        assert files and any("sysv_shm" in f.read_text() for f in files), fmt
