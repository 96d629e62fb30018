"""What a trace file may be: a regular file with lines of at most MAX_LINE bytes.

A 1 GiB line (a sparse file: no disk needed) is refused after reading MAX_LINE bytes, so
replay's peak memory stays small; a FIFO or a device given as a trace is refused at once
instead of hanging the reader.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ipcviz.errors import TraceError
from ipcviz.events.trace import MAX_LINE, TraceReader
from tests.replay import hostile_traces

GIB = 1 << 30
#: Peak RSS allowed for a replay that meets a 1 GiB line (KiB, as ru_maxrss counts): the
#: interpreter and its imports, plus at most MAX_LINE of line. Unbounded, it was 2.1 GB.
RSS_LIMIT_KIB = 200 * 1024

# Runs one ipcviz command as its only child and prints the child's peak RSS (KiB): the
# RUSAGE_CHILDREN maximum of this fresh process covers that one child and nothing else.
MEASURE = """
import json, resource, subprocess, sys
r = subprocess.run([sys.executable, "-m", "ipcviz", *sys.argv[1:]], capture_output=True,
                   stdin=subprocess.DEVNULL, timeout=600)
print(json.dumps({"rc": r.returncode, "err": r.stderr.decode(errors="replace"),
                  "out": len(r.stdout),
                  "maxrss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def measured(*args: str) -> dict:
    r = subprocess.run(
        [sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, timeout=900
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def huge_line_trace(path: Path, header_line: bool = False) -> Path:
    """A valid header, a few events, then a 1 GiB line (a hole: NUL bytes, no disk used)."""
    header, events = hostile_traces.base_trace()
    with path.open("wb") as f:
        if not header_line:
            f.write(json.dumps(header).encode() + b"\n")
            for e in events[:5]:
                f.write(json.dumps(e).encode() + b"\n")
        f.truncate(f.tell() + GIB)
        f.seek(0, os.SEEK_END)
        f.write(b"\n")
    return path


@pytest.mark.parametrize("where", ["event", "header"])
def test_a_1_gib_line_is_refused_with_bounded_memory(tmp_path: Path, where: str) -> None:
    trace = huge_line_trace(tmp_path / "huge.jsonl", header_line=where == "header")
    assert trace.stat().st_size > GIB
    for args in (
        ["replay", "--headless", str(trace)],
        ["export", str(trace), "--format", "perfetto", "-o", str(tmp_path / "o.json")],
    ):
        m = measured(*args)
        assert m["rc"] == 2, m
        assert m["err"].count("\n") == 1 and "Traceback" not in m["err"], m
        assert f"is longer than {MAX_LINE >> 20} MiB" in m["err"], m
        assert ("line 1" if where == "header" else "line 7") in m["err"], m
        assert m["maxrss"] < RSS_LIMIT_KIB, f"peak RSS {m['maxrss']} KiB: {args[0]}"


def test_a_line_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    header, events = hostile_traces.base_trace()
    compact = {"separators": (",", ":")}
    line = json.dumps(events[0], **compact)
    pad = MAX_LINE - len(line) - len(',"pad":""')
    big = json.dumps({**events[0], "pad": "x" * pad}, **compact)
    assert len(big) == MAX_LINE
    path = tmp_path / "edge.jsonl"
    path.write_text(json.dumps(header) + "\n" + big + "\n")
    assert len(list(TraceReader.open(path).events())) == 1
    path.write_text(json.dumps(header) + "\n" + big[:-1] + ',"y":1}\n')  # one byte longer
    with pytest.raises(TraceError, match="longer than"):
        list(TraceReader.open(path).events())


def test_a_fifo_given_as_a_trace_exits_2_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "trace.jsonl"
    os.mkfifo(fifo)  # nobody writes: opening it for reading would block forever
    for args in (
        ["replay", "--headless", str(fifo)],
        ["replay", str(fifo)],  # the TUI: refused before any screen
        ["export", str(fifo), "--format", "perfetto", "-o", str(tmp_path / "o.json")],
        ["export", str(fifo), "--format", "html", "-o", str(tmp_path / "o.html")],
    ):
        r = subprocess.run(
            [sys.executable, "-m", "ipcviz", *args],
            capture_output=True,
            text=True,
            timeout=120,  # a hang fails here; a correct run takes well under a second
            stdin=subprocess.DEVNULL,
        )
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr == f"ipcviz: {fifo} is not a regular file: a trace is a file\n"


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null"])
def test_devices_are_not_traces(path: str) -> None:
    with pytest.raises(TraceError, match="not a regular file"):
        TraceReader.open(path)


def test_a_directory_is_not_a_trace(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="is a directory"):
        TraceReader.open(tmp_path)
