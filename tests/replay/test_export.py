"""``ipcviz export --format perfetto``: valid Chrome trace-event JSON that Perfetto opens."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ipcviz.errors import IpcvizError
from ipcviz.export import FORMATS, export, register
from tests.conftest import BuiltinTraces, ipcviz


def check_chrome_trace(doc: Any) -> list[dict[str, Any]]:
    """The structural rules of the trace-event format that Perfetto's importer relies on."""
    assert isinstance(doc, dict) and isinstance(doc["traceEvents"], list)
    events = doc["traceEvents"]
    stacks: dict[tuple[int, int], list[str]] = {}
    flows: dict[int, Counter[str]] = {}
    named = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    for e in events:
        assert e["ph"] in {"M", "X", "B", "E", "i", "C", "s", "f"}, e
        assert isinstance(e["pid"], int) and isinstance(e.get("tid", e["pid"]), int)
        assert isinstance(e["name"], str) and e["name"], e
        if e["ph"] != "M":
            assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
            assert e["pid"] in named, f"track without a process name: {e}"
        if e["ph"] == "X":
            assert e["dur"] > 0, e
        if e["ph"] == "C":
            assert e["args"] and all(isinstance(v, (int, float)) for v in e["args"].values())
        if e["ph"] in "sf":
            flows.setdefault(e["id"], Counter())[e["ph"]] += 1
    for e in sorted((e for e in events if e["ph"] in "BE"), key=lambda e: e["ts"]):
        stack = stacks.setdefault((e["pid"], e["tid"]), [])
        if e["ph"] == "B":
            stack.append(e["name"])
        else:
            assert stack, f"E without B: {e}"
            stack.pop()
    assert all(not s for s in stacks.values()), "B without E"
    assert all(c == Counter({"s": 1, "f": 1}) for c in flows.values()), "unpaired flow"
    # every flow end lies inside a slice of its own track (what Perfetto binds it to)
    slices = [e for e in events if e["ph"] == "X"]
    for e in events:
        if e["ph"] in "sf":
            assert any(
                s["pid"] == e["pid"] and s["ts"] <= e["ts"] <= s["ts"] + s["dur"] for s in slices
            ), f"flow point outside any slice: {e}"
    return events


def test_pipe_run_exports_tracks_slices_counters_and_flows(
    builtin_traces: BuiltinTraces, tmp_path: Path
) -> None:
    result, _header, events = builtin_traces.copy("pipe-basic", tmp_path)
    assert result.returncode == 0
    out = tmp_path / "out.json"
    res = ipcviz("export", str(tmp_path / "pipe-basic.jsonl"), "--format", "perfetto",
                  "-o", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    trace = check_chrome_trace(json.loads(out.read_text()))
    names = {e["args"]["name"] for e in trace if e["ph"] == "M" and e["name"] == "process_name"}
    assert any(n.startswith("parent (") for n in names)
    assert any(n.startswith("child (") for n in names)
    # one slice per completed read/write; blocking reads last as long as the wait
    writes = [e for e in events if e["kind"] == "pipe.write"]
    reads = [e for e in events if e["kind"] == "pipe.read" and e["n"] > 0]
    slices = [e for e in trace if e["ph"] == "X"]
    assert sum(e["name"] == "pipe.write p" for e in slices) == len(writes)
    assert sum(e["name"] == "pipe.read p" for e in slices) >= len(reads)
    # counters follow the bytes in the pipe, and end empty
    counter = [e["args"]["bytes"] for e in trace if e["ph"] == "C" and e["name"] == "pipe p bytes"]
    assert max(counter) > 0 and counter[-1] == 0
    # a flow arrow from each write to the read that took its bytes
    starts = [e for e in trace if e["ph"] == "s"]
    assert len(starts) >= len(writes)
    assert sum(e["args"]["amount"] for e in starts) == sum(e["n"] for e in writes)


def test_semaphore_counters_and_hostile_payloads(
    builtin_traces: BuiltinTraces, tmp_path: Path
) -> None:
    result, _header, events = builtin_traces.copy("shm-semaphore", tmp_path)
    assert events, result.stderr
    src = (tmp_path / "shm-semaphore.jsonl").read_text().splitlines()
    # inject a hostile payload into a shm write: it must reach args escaped
    for n, line in enumerate(src[1:], 1):
        e = json.loads(line)
        if e["kind"] == "shm.write":
            e["data"] = "G1szMW0bXTUyOzt4B5s="  # ESC[31m ESC]52;;x BEL 0x9b
            src[n] = json.dumps(e)
            break
    trace_path = tmp_path / "hostile.jsonl"
    trace_path.write_text("\n".join(src) + "\n")
    out = tmp_path / "sem.json"
    assert export(trace_path, "perfetto", out) == 0
    text = out.read_text()
    assert "\x1b" not in text and "\\u001b" not in text and "\x9b" not in text
    trace = check_chrome_trace(json.loads(text))
    assert any("\\\\x1b[31m" in json.dumps(e) for e in trace if e["ph"] in "Xi")
    values = [e["args"]["value"] for e in trace if e["ph"] == "C" and "mutex" in e["name"]]
    assert values and min(values) >= 0 and values[-1] == 1


def test_a_counter_changes_inside_the_call_that_changed_it() -> None:
    """A semaphore of 2: a waits from 100 to 900 ns (preempted), b waits from 200 to
    300 and posts at 400. The history (a, b, b's post) is legal; the counter was drawn at
    the stream's newest time, 900 ns, for all three: b's take after its call had
    returned, and 2 → 1 → 0 → 1 at one instant. Each change now lies inside its call,
    in the history's order."""
    from ipcviz.export.perfetto import _Converter

    events = [
        {"seq": 0, "t": 0, "pid": 0, "kind": "obj.declare", "obj": "s", "type": "posix_sem",
         "value": 2},
        {"seq": 1, "t": 0, "pid": 10, "kind": "proc.start", "name": "a"},
        {"seq": 2, "t": 0, "pid": 11, "kind": "proc.start", "name": "b"},
        {"seq": 3, "t": 900, "pid": 10, "kind": "sem.wait", "obj": "s", "since": 100},
        {"seq": 4, "t": 300, "pid": 11, "kind": "sem.wait", "obj": "s", "since": 200},
        {"seq": 5, "t": 400, "pid": 11, "kind": "sem.post", "obj": "s"},
    ]  # fmt: skip
    converter = _Converter({"scenario": {"id": "t"}})
    out = [r for e in events for r in converter.feed(e)]
    samples = [(r["ts"], r["args"]["value"]) for r in out if r.get("ph") == "C"]
    assert samples == [(0.0, 2), (0.1, 1), (0.2, 0), (0.4, 1)]
    # a wait whose begin was folded into it (``since``) is a slice, as an unfolded one
    # is (it was an instant at its end), and each take lies inside its own
    waits = [(r["ts"], r["dur"]) for r in out if r.get("ph") == "X"]
    assert waits == [(0.1, 0.8), (0.2, 0.1)]
    for (ts, _), (begin, dur) in zip(samples[1:3], waits, strict=True):
        assert begin <= ts <= begin + dur


def test_unknown_and_later_formats(tmp_path: Path) -> None:
    with pytest.raises(IpcvizError, match="not available yet"):
        export(tmp_path / "x.jsonl", "pdf", tmp_path / "x.pdf")
    calls = []
    register("pdf", lambda trace, out, force: calls.append((trace, out)) or 0)
    try:
        assert export(tmp_path / "t.jsonl", "pdf", tmp_path / "t.pdf") == 0
        assert calls == [(tmp_path / "t.jsonl", tmp_path / "t.pdf")]
    finally:
        FORMATS.pop("pdf")


def test_unwritable_output_is_a_clear_error(builtin_traces: BuiltinTraces, tmp_path: Path) -> None:
    builtin_traces.copy("pipe-basic", tmp_path)
    res = ipcviz("export", str(tmp_path / "pipe-basic.jsonl"), "--format", "perfetto",
                 "-o", str(tmp_path / "no" / "such" / "dir.json"))  # fmt: skip
    assert res.returncode == 2 and res.stderr.startswith("ipcviz: cannot write")
    assert not list(tmp_path.glob("**/*.part"))
