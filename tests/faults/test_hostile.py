"""Hostile bytes from processes are inert: in the headless narrator, its replay, the exporter.

The TUI is tested by the TUI suite (tests/tui/); the matrix row refers to it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.harness import LiveRun, replays

#: Raw bytes that would act on a terminal or on Rich markup if shown as they are.
TERMINAL_BYTES = (b"\x1b", b"\x07", b"\x9b", b"\xc2\x9b")

HOSTILE = r"""
import os
from ipcviz.scenario import Scenario
EVIL = [b"[link=http://x]a[/link]", b"[/x]", b"[bold]", b"\x1b[2J", b"\x1b]52;c;aGk=\x07",
        b"\x9b", b"\xff\xfe", b"\xc2\x9b"]
BIG = b"\x1b[2J" * (1 << 18)  # 1 MiB
scenario = Scenario(
    'hostile', 'hostile \x1b[2J title [bold] \x9b', description='\x1b]52;c;aGk=\x07'
)
p = scenario.pipe('p', writer='a', reader='b')
m = scenario.shared_memory('m', cells=16)

@scenario.process('a')
def a(ctx):
    for x in EVIL:
        p.write(x)
        os.write(1, x + b"\n")
        ctx.report('evil', x.decode('latin-1'))
        m.write_bytes(0, x)
    view = memoryview(BIG)
    while view:
        view = view[p.write(bytes(view[:65536])):]

@scenario.process('b')
def b(ctx):
    want = sum(map(len, EVIL)) + len(BIG)
    got = 0
    while got < want:
        chunk = p.read()
        if not chunk:
            break
        got += len(chunk)
    ctx.report('got', got)
    raise ValueError('\x1b[2J\x9b [link=http://x]bad[/link] \x07')
"""


def _raw_terminal_bytes(data: bytes) -> list[str]:
    return [repr(b) for b in TERMINAL_BYTES if b in data]


@pytest.fixture
def hostile_run(tmp_path: Path) -> LiveRun:
    src = tmp_path / "hostile.py"
    src.write_text(HOSTILE)
    run = LiveRun(tmp_path, src)
    run.finish(120)
    return run


def test_hostile_payloads_are_inert_in_the_headless_narrator(hostile_run: LiveRun, record) -> None:
    run = hostile_run
    live_out, live_err = run.out_path.read_bytes(), run.err_path.read_bytes()
    r = subprocess.run(
        [sys.executable, "-m", "ipcviz", "replay", str(run.trace), "--headless"],
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    raw = {
        "live stdout": _raw_terminal_bytes(live_out),
        "live stderr": _raw_terminal_bytes(live_err),
        "replay stdout": _raw_terminal_bytes(r.stdout),
    }
    _, events = run.events()
    moved = sum(e.get("n", 0) for e in events if e["kind"] == "pipe.read")
    left = run.leaks()
    ok, why = replays(run.trace)
    found = {k: v for k, v in raw.items() if v}
    record(
        "hostile-narrator",
        f"exit {run.rc}; {moved} B through the pipe (1 MiB message included); raw terminal "
        f"bytes in live/replay output: {found or 'none'}; markup printed literally, e.g. "
        + ('"[link=http://x]a[/link]"' if b'"[link=http://x]a[/link]"' in live_out else "?"),
        left,
        "yes" if ok else why,
    )
    assert not found, found
    assert moved >= 1 << 20
    assert b"\\x1b[2J" in live_out and b"\\x9b" in live_out  # shown, escaped
    assert b"[link=http://x]a[/link]" in live_out
    assert b"ValueError" in live_err and live_err.count(b"\n") == 1  # one line
    assert r.returncode == 0
    assert not left and ok, (left, why)


def test_hostile_payloads_are_inert_in_the_perfetto_export(
    hostile_run: LiveRun, record, tmp_path: Path
) -> None:
    try:
        import ipcviz.export  # noqa: F401
    except ImportError:
        pytest.skip("ipcviz.export is not there yet")
    out = tmp_path / "out.json"
    cmd = [sys.executable, "-m", "ipcviz", "export", str(hostile_run.trace)]
    r = subprocess.run(
        [*cmd, "--format", "perfetto", "-o", str(out)],
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    data = out.read_bytes() if out.exists() else b""
    raw = _raw_terminal_bytes(data) + _raw_terminal_bytes(r.stdout + r.stderr)
    try:
        json.loads(data)
        valid = "valid JSON"
    except ValueError as exc:
        valid = f"not JSON: {exc}"
    record(
        "hostile-export",
        f"exit {r.returncode}; {len(data)} B, {valid}; raw terminal bytes: {raw or 'none'}",
        hostile_run.leaks(),
        "yes" if replays(hostile_run.trace)[0] else "no",
    )
    assert r.returncode == 0, r.stderr
    assert valid == "valid JSON" and not raw, (valid, raw)
