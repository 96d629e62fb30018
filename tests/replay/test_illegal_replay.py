"""``ipcviz replay`` of a trace that ``ipcviz verify`` rejects says so at once, with
verify's first reason, and still shows the trace: headless (a line before the first event
line that may show an impossible value, and one on stderr), on the replay screen and in
presenter replay (a red top line, drawn before any state of the trace)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from ipcviz.tui.launch import present_app, replay_app
from ipcviz.tui.screens.present import PresentScreen
from ipcviz.tui.screens.replay import ReplayScreen
from tests.conftest import BuiltinTraces, ipcviz, read_trace

REASON = "legal: pipe.read p: read of"


@pytest.fixture(scope="module")
def traces(
    builtin_traces: BuiltinTraces, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """A real pipe-basic run (legal), and the same with its first read moved first."""
    tmp = tmp_path_factory.mktemp("illegal")
    result, header, events = builtin_traces.copy("pipe-basic", tmp)
    assert result.returncode == 0, result.stderr
    w = next(i for i, e in enumerate(events) if e["kind"] == "pipe.write")
    r = next(i for i, e in enumerate(events) if e["kind"] == "pipe.read" and e["n"] > 0)
    events.insert(w, events.pop(r))  # a read of bytes nobody wrote yet
    for seq, e in enumerate(events):
        e["seq"] = seq
    bad = tmp / "bad.jsonl"
    bad.write_text("".join(json.dumps(x) + "\n" for x in [header, *events]))
    verify = ipcviz("verify", str(bad))
    assert verify.returncode == 1 and verify.stdout.startswith(f"seq {w}: legal: pipe.read")
    return tmp / "pipe-basic.jsonl", bad


def test_headless_replay_says_it_before_the_impossible_line(traces: tuple[Path, Path]) -> None:
    good, bad = traces
    result = ipcviz("replay", str(bad), "--headless")
    assert result.returncode == 0, result.stderr  # still shown
    lines = result.stdout.splitlines()
    notice = [i for i, ln in enumerate(lines) if "NOT A LEGAL HISTORY" in ln]
    assert len(notice) == 1 and REASON in lines[notice[0]], lines[notice[0] if notice else 0]
    reads = [i for i, ln in enumerate(lines) if re.search(r"\] +read \d+ B", ln)]
    assert reads and notice[0] < reads[0]  # said before the read that cannot have happened
    assert "not a legal history" in result.stderr and "ipcviz verify" in result.stderr
    clean = ipcviz("replay", str(good), "--headless")
    assert clean.returncode == 0 and "LEGAL" not in clean.stdout + clean.stderr


async def _until(pilot, cond, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.02)


async def test_replay_screen_says_it_at_the_top(traces: tuple[Path, Path]) -> None:
    good, bad = traces
    _header, events = read_trace(bad)
    app = replay_app(bad)
    async with app.run_test(size=(160, 50)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await _until(pilot, lambda: screen.first_frame_at is not None)
        banner = screen.query_one("#illegal")
        # the whole trace is within the first events indexed: said with the first frame
        assert banner.display and banner.region.height >= 1 and banner.region.y == 0
        text = str(banner.render())
        assert "NOT A LEGAL HISTORY" in text and REASON in text, text
        assert "NOT A LEGAL HISTORY" in app.export_screenshot().replace("&#160;", " ")
        await pilot.press("end")  # and the trace can still be looked at, to its end
        await _until(pilot, lambda: screen.player.pos == len(events) - 1)
        assert banner.display
    app = replay_app(good)
    async with app.run_test(size=(160, 50)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        screen = app.screen
        await _until(pilot, lambda: screen.first_frame_at is not None and screen.index.done)
        await pilot.pause()
        assert not screen.query_one("#illegal").display


async def test_presenter_replay_says_it_too(traces: tuple[Path, Path]) -> None:
    _good, bad = traces
    app = present_app(bad)
    async with app.run_test(size=(140, 44)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, PresentScreen))
        await pilot.pause()
        banner = app.screen.query_one("#illegal")
        assert banner.display and REASON in str(banner.render())
        await pilot.press("right")  # the steps can still be walked
        await pilot.pause()
        assert app.screen.pos == 0
