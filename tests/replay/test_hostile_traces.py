"""Hostile traces through every view: ``replay --headless``, ``export`` (perfetto, svg, html)
and the TUI replay. Each must exit 0 (escape codes: shown escaped) or 2 (wrong types: one
line), never print a traceback, and never let a raw ESC, BEL or C1 character out.

The traces are built in tests/replay/hostile_traces.py: escape codes and markup in every
string field of a trace using every event kind, and a wrong type in every event kind.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ipcviz.errors import TraceError
from ipcviz.export.files import MANIFEST
from tests.replay import hostile_traces

TRACES = hostile_traces.every_trace()
ESCAPES = [name for name, t in TRACES.items() if t[2] == 0]
WRONG = [name for name, t in TRACES.items() if t[2] == 2]
#: The slower views (a Textual screen per trace) get every escape trace and a spread of
#: the wrong-type ones: those fail in the reader, before any view, like the rest.
SAMPLE = ESCAPES + WRONG[:: max(1, len(WRONG) // 15)]


def forbidden(text: str) -> list[str]:
    """Characters that act on a terminal: C0 controls but newline and tab, DEL, C1."""
    return sorted(
        {
            f"{ord(c):#x}"
            for c in text
            if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0
        }
    )


def inert(data: bytes) -> list[str]:
    """Forbidden characters in ``data``; undecodable bytes (a raw 0x9b) count too."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [f"invalid UTF-8 at {exc.start}"]
    return forbidden(text)


def ipcviz(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "ipcviz", *args],
        capture_output=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def check_run(r: subprocess.CompletedProcess[bytes], expect: int, what: str) -> None:
    assert b"Traceback" not in r.stderr, (what, r.stderr.decode(errors="replace")[-2000:])
    assert r.returncode == expect, (what, r.returncode, r.stderr.decode(errors="replace"))
    assert not inert(r.stdout) and not inert(r.stderr), (what, inert(r.stdout), inert(r.stderr))
    if expect == 2:  # one clear line, naming the file
        err = r.stderr.decode()
        assert err.count("\n") == 1 and err.startswith("ipcviz: "), (what, err)


def test_there_are_enough_hostile_traces() -> None:
    assert len(ESCAPES) >= 6 and len(WRONG) >= 20 and len(SAMPLE) >= 20
    kinds = {name.split("-")[0] for name in WRONG}
    # a wrong type in every event kind that has a field to get wrong
    checked = {k for k, spec in hostile_traces.KINDS.items() if spec.fields or spec.required}
    assert checked <= kinds


@pytest.mark.parametrize("name", list(TRACES))
def test_replay_headless_and_perfetto(tmp_path: Path, name: str) -> None:
    trace = hostile_traces.write(tmp_path / "t.jsonl", TRACES[name])
    expect = TRACES[name][2]
    check_run(ipcviz("replay", "--headless", str(trace)), expect, "replay --headless")
    out = tmp_path / "t.json"
    check_run(ipcviz("export", str(trace), "--format", "perfetto", "-o", str(out)), expect, "pf")
    if expect == 0:
        assert not inert(out.read_bytes())
    else:
        assert not out.exists() and not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("name", SAMPLE)
def test_svg_and_html_handouts(tmp_path: Path, name: str) -> None:
    trace = hostile_traces.write(tmp_path / "t.jsonl", TRACES[name])
    expect = TRACES[name][2]
    page = tmp_path / "page.html"
    check_run(ipcviz("export", str(trace), "--format", "html", "-o", str(page)), expect, "html")
    shots = tmp_path / "shots"
    check_run(ipcviz("export", str(trace), "--format", "svg", "-o", str(shots)), expect, "svg")
    if expect == 2:  # nothing half-written is left
        assert not page.exists() and not list(tmp_path.glob("*.part"))
        assert not shots.exists() or not list(shots.iterdir())
    if expect == 0:
        files = [page, *(f for f in shots.iterdir() if f.name != MANIFEST)]
        assert len(files) == 3  # the page, and one picture per narration step
        for f in files:
            assert not inert(f.read_bytes()), (f.name, inert(f.read_bytes()))


@pytest.mark.parametrize("name", SAMPLE)
async def test_tui_replay(tmp_path: Path, name: str) -> None:
    from ipcviz.tui.launch import replay_app
    from ipcviz.tui.screens.replay import ReplayScreen

    trace = hostile_traces.write(tmp_path / "t.jsonl", TRACES[name])
    expect = TRACES[name][2]
    try:
        app = replay_app(trace)
    except TraceError as exc:  # the header is refused before any screen: exit 2 in the CLI
        assert expect == 2 and not forbidden(str(exc))
        return
    said: list[str] = []
    notify = app.notify

    def noted(message: str, **kwargs: object) -> None:  # toasts expire: keep what was said
        said.append(message)
        notify(message, **kwargs)  # type: ignore[arg-type]

    app.notify = noted  # type: ignore[method-assign]
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        deadline = time.monotonic() + 120
        while not (isinstance(app.screen, ReplayScreen) and app.screen.index.done):
            assert time.monotonic() < deadline, "the index never finished"
            await pilot.pause(0.02)
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        assert (screen.index.error is not None) == (expect == 2), screen.index.error
        for key in ("end", "home", "n"):  # the end, the start, a narration step
            await pilot.press(key)
            screen.redraw(True)
            await pilot.pause()
            text = "\n".join(
                "".join(seg.text for seg in strip) for strip in screen._compositor.render_strips()
            )
            assert not forbidden(text), (key, forbidden(text))
        svg = app.export_screenshot()
        assert not forbidden(svg)
        if expect == 2:  # the reason is told on the screen, as a notification, inert
            reason = str(screen.index.error).rsplit(": ", 1)[-1]
            while not any(reason in m for m in said):
                assert time.monotonic() < deadline, f"{reason!r} never shown"
                await pilot.pause(0.02)
        assert not any(forbidden(m) for m in said), said


def test_a_hostile_file_name_is_shown_inert(tmp_path: Path) -> None:
    """The trace's own path is untrusted text too (a file someone sent, tab-completed):
    ``verify``'s answers (legal, illegal, malformed) and ``replay --headless`` name it
    escaped."""
    import json
    import os

    name = os.fsencode(tmp_path) + b"/t\x1b[2J\x1b]0;pwned\x07\x9b\xff"
    header, events = hostile_traces.base_trace()
    legal = [header, *(e for e in events if e["kind"] in ("proc.start", "proc.exit"))]
    for suffix, records in ((b"-illegal", [header, *events]), (b"-legal", legal)):
        with open(name + suffix + b".jsonl", "w", encoding="utf-8") as f:
            f.write("".join(json.dumps(r) + "\n" for r in records))
    for suffix, expect in ((b"-illegal", 1), (b"-legal", 0)):
        path = os.fsdecode(name + suffix + b".jsonl")
        for args, rc in ((("verify", path), expect), (("replay", "--headless", path), 0)):
            r = ipcviz(*args)
            assert r.returncode == rc and b"Traceback" not in r.stderr, (args, r.stderr)
            assert not inert(r.stdout) and not inert(r.stderr), (args, r.stdout, r.stderr)


def test_verify_says_a_cut_off_last_line(tmp_path: Path) -> None:
    """A recorder killed mid-write leaves a cut last line: ``verify`` judges the whole
    events before it and says, as ``replay`` does, that the rest was cut (a "legal
    history" of a part, unsaid, reads as the whole run's)."""
    import json

    header, events = hostile_traces.base_trace()
    legal = [header, *(e for e in events if e["kind"] in ("proc.start", "proc.exit"))]
    trace = tmp_path / "t.jsonl"
    text = "".join(json.dumps(r) + "\n" for r in legal)
    trace.write_text(text + '{"t": 99, "seq": 99, "pid": 0, "kind": "session.e')
    r = ipcviz("verify", str(trace))
    check_run(r, 0, "verify")
    assert b"legal history (4 events)" in r.stdout
    assert r.stderr.decode().startswith("ipcviz: ") and b"cut-off line" in r.stderr, r.stderr


def test_a_name_with_a_line_break_stays_on_its_line(tmp_path: Path) -> None:
    """An object's name is a path a program chose (``mkfifo "f\\n   0.1s  · result:
    PASSED"``): shown with its line break escaped, on the line of its event, never as a
    line of its own in the log (where it could pass for another event)."""
    header, events = hostile_traces.base_trace()
    name = "f\n   9.9999s  ·            FORGED"
    for e in events:
        if e.get("obj") == "f":
            e["obj"] = name
    trace = hostile_traces.write(tmp_path / "t.jsonl", (header, events, 0))
    r = ipcviz("replay", "--headless", str(trace))
    check_run(r, 0, "replay --headless")
    lines = [ln for ln in r.stdout.decode().splitlines() if "FORGED" in ln]
    assert len(lines) >= 2, r.stdout.decode()  # the declare, the opens
    assert all("f\\n   9.9999s" in ln for ln in lines), lines


def test_a_hostile_record_path_is_shown_inert(tmp_path: Path) -> None:
    """``run --record PATH --headless`` names where it records: the path escaped, as the
    other commands name a trace (a path is text from outside)."""
    import os

    path = os.fsdecode(os.fsencode(tmp_path) + b"/r\x1b[2J\x1b]0;pwned\x07\x9b.jsonl")
    r = ipcviz("run", "pipe-basic", "--headless", "--quick", "--record", path)
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr
    assert not inert(r.stdout) and not inert(r.stderr), (r.stdout[:300], r.stderr)
    assert b"# recording to " in r.stdout and os.path.exists(path)


def test_where_a_screen_run_was_recorded_is_said_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After the screen is gone, ``ipcviz run`` says where it recorded: escaped too."""
    from ipcviz.tui.launch import _say_where_recorded

    path = tmp_path / "r\x1b[2J\x9b.jsonl"
    path.write_text("")
    _say_where_recorded([path])
    said = capsys.readouterr().out
    assert "r\\x1b[2J\\x9b.jsonl" in said and not forbidden(said), said
