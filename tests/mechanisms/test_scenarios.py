"""The built-in scenarios: each object type is exercised, checks pass, and there is no drift."""

from __future__ import annotations

import json
from pathlib import Path

from ipcviz.events.codec import payload
from ipcviz.mechanisms import registry
from tests.anyprog.test_programs import NO_GCC, NO_STRACE
from tests.conftest import BuiltinTraces, ipcviz, read_trace
from tests.mechanisms.helpers import by_kind, pids_by_name

TYPES = set(registry.TYPES)  # every registered type has a built-in scenario
HAVE_C_TOOLS = not (NO_GCC or NO_STRACE)  # the C examples (c/NAME) are compiled and traced


def test_builtin_scenarios_cover_every_type_and_never_drift(builtin_traces: BuiltinTraces):
    listing = json.loads(ipcviz("list", "--json", check=True).stdout)
    ids = [s["id"] for s in listing if not s["id"].startswith("c/") or HAVE_C_TOOLS]
    assert {"fifo-named", "mq-priority", "sysv-mq-typed", "shell-pipeline", "sysv-shm"} <= set(ids)
    types: set[str] = set()
    for sid in ids:
        result, trace = builtin_traces.run(sid)  # recorded once per session, shared
        _header, events = read_trace(trace)
        drift = by_kind(events, "drift")
        assert not drift, (sid, drift)
        if sid in {"fifo-named", "mq-priority", "sysv-mq-typed", "shell-pipeline", "sysv-shm"}:
            assert result.returncode == 0, (sid, result.stdout[-3000:])
            assert [e for e in events if e["kind"].startswith("probe.")], sid
        types |= {e["type"] for e in by_kind(events, "obj.declare")}
    assert types >= TYPES, TYPES - types


def test_fifo_named_opens_by_path_and_the_file_outlives_the_processes(
    builtin_traces: BuiltinTraces, tmp_path: Path
):
    result, _header, events = builtin_traces.copy("fifo-named", tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    decl = next(e for e in by_kind(events, "obj.declare") if e["obj"] == "f")
    assert decl["type"] == "fifo" and "/files." in decl["path"]  # the session's files dir
    pids = pids_by_name(events)
    opens = by_kind(events, "pipe.open")
    assert {(e["pid"], e["end"]) for e in opens} == {(pids["writer"], 1), (pids["reader"], 0)}
    # The writer asked first and waited until the reader arrived. The wait is its own
    # pipe.open.begin event, or, when the engine had not published that yet as the open
    # completed (a loaded machine), folded into the open as ``since``: asked at that time.
    open_w = next(e for e in opens if e["pid"] == pids["writer"])
    open_r = next(e for e in opens if e["pid"] == pids["reader"])
    begin_w = next(
        (e for e in by_kind(events, "pipe.open.begin") if e["pid"] == pids["writer"]), None
    )
    asked_w = begin_w["t"] if begin_w is not None else open_w["since"]
    assert begin_w is None or begin_w["seq"] < open_w["seq"]
    assert asked_w < open_r.get("since", open_r["t"])
    waited = next(e for e in by_kind(events, "check") if "open()" in e["description"])
    assert waited["ok"], waited
    outlives = next(e for e in by_kind(events, "check") if "still exists" in e["description"])
    assert outlives["ok"]
    last_exit = max(e["seq"] for e in by_kind(events, "proc.exit"))
    assert outlives["seq"] > last_exit
    assert not Path(decl["path"]).exists()  # removed by the engine at the end
    assert not Path(decl["path"]).parent.exists()


def test_shell_pipeline_pipes_are_found_and_probed(builtin_traces: BuiltinTraces, tmp_path: Path):
    result, _header, events = builtin_traces.copy("shell-pipeline", tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    out = b"".join(payload(e) for e in by_kind(events, "proc.output"))
    want = sum("7" in str(i) for i in range(1, 200001))
    assert out.strip() == str(want).encode()
    auto = [e for e in by_kind(events, "obj.declare") if e.get("discovered")]
    assert len(auto) == 2 and all(e["type"] == "pipe" for e in auto)
    assert all(e["obj"] == f"auto-{e['kernel_name'][6:-1]}" for e in auto)
    probes = [e for e in by_kind(events, "probe.pipe") if e["obj"].startswith("auto-")]
    full = [e for e in probes if e["nbytes"] == e["capacity"]]
    assert full, "wc starts late: the pipes should have filled up"
    for e in probes:
        data = payload(e)
        assert len(data) == min(e["nbytes"], 4096)
        assert set(data) <= set(b"0123456789\n")
