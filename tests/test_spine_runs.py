"""Real runs of the spine's scenarios: what the events say equals what the kernel did."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from ipcviz.events.codec import payload
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from tests.conftest import BuiltinTraces, ipcviz, read_trace


def _by_kind(events, kind):
    return [e for e in events if e["kind"] == kind]


def test_pipe_basic_bytes_written_equal_bytes_read_in_order(
    builtin_traces: BuiltinTraces, tmp_path: Path
):
    result, header, events = builtin_traces.copy("pipe-basic", tmp_path)
    assert result.returncode == 0, result.stderr
    assert header["format"] == "ipcviz-trace" and header["scenario"]["id"] == "pipe-basic"
    declared = _by_kind(events, "obj.declare")
    assert declared[0]["obj"] == "p" and declared[0]["type"] == "pipe"
    names = {e["pid"]: e["name"] for e in _by_kind(events, "proc.start")}
    assert set(names.values()) == {"parent", "child"}
    written = b"".join(payload(e) for e in _by_kind(events, "pipe.write"))
    read = b"".join(payload(e) for e in _by_kind(events, "pipe.read"))
    n = header["scenario"]["params"]["messages"]
    assert written == read == b"".join(f"message {i}\n".encode() for i in range(1, n + 1))
    assert all(names[e["pid"]] == "parent" for e in _by_kind(events, "pipe.write"))
    assert all(names[e["pid"]] == "child" for e in _by_kind(events, "pipe.read"))
    # "waiting" is visible: every read either was seen waiting (a begin event of its own) or
    # carries the time its begin record was written (folded: it never waited long enough)
    begins = len(_by_kind(events, "pipe.read.begin"))
    folded = sum("since" in e for e in _by_kind(events, "pipe.read"))
    assert begins + folded == len(_by_kind(events, "pipe.read"))
    assert begins >= 1  # the child blocks on the empty pipe while the parent sleeps
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert events[-1]["kind"] == "session.end" and events[-1]["outcome"] == "passed"


def test_shm_race_counter_matches_the_kernel_and_loses_updates(
    builtin_traces: BuiltinTraces, tmp_path: Path
):
    result, header, events = builtin_traces.copy("shm-race", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    writes = _by_kind(events, "shm.write")
    final = struct.unpack("<q", payload(writes[-1]))[0]
    check = next(e for e in events if e["kind"] == "check")
    assert check["ok"] and f"counter {final}," in check["detail"]
    p = header["scenario"]["params"]
    assert len(writes) == p["workers"] * p["increments"]
    assert final < p["workers"] * p["increments"]


def test_shm_semaphore_counter_exact_and_semaphore_released(
    builtin_traces: BuiltinTraces, tmp_path: Path
):
    result, header, events = builtin_traces.copy("shm-semaphore", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    p = header["scenario"]["params"]
    writes = _by_kind(events, "shm.write")
    assert struct.unpack("<q", payload(writes[-1]))[0] == p["workers"] * p["increments"]
    waits, posts = _by_kind(events, "sem.wait"), _by_kind(events, "sem.post")
    assert len(waits) == len(posts) == p["workers"] * p["increments"]
    # mutual exclusion, from the events: between a wait and its post nobody else waits
    holder = None
    for e in events:
        if e["kind"] == "sem.wait":
            assert holder is None
            holder = e["pid"]
        elif e["kind"] == "sem.post":
            assert holder == e["pid"]
            holder = None


def test_replay_log_equals_live_log(builtin_traces: BuiltinTraces):
    live, trace = builtin_traces.run("pipe-basic")
    replay = ipcviz("replay", str(trace), "--headless")
    assert live.returncode == replay.returncode == 0
    strip = lambda out: [x for x in out.splitlines() if not x.startswith("# ")]  # noqa: E731
    assert strip(live.stdout) == strip(replay.stdout)
    assert len(strip(live.stdout)) > 20


def test_truncated_trace_replays_with_a_notice(builtin_traces: BuiltinTraces, tmp_path: Path):
    trace = builtin_traces("pipe-basic")
    data = trace.read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(data[: len(data) - 25])
    result = ipcviz("replay", str(cut), "--headless")
    assert result.returncode == 0
    assert "cut-off line" in result.stderr
    assert "Traceback" not in result.stderr


def test_default_recording_goes_to_the_xdg_data_dir(private_data_home: Path):
    result = ipcviz("run", "pipe-basic", "--headless", "--quick", check=True)
    traces = list((private_data_home / "ipcviz" / "traces").glob("*.jsonl"))
    assert len(traces) == 1 and str(traces[0]) in result.stdout


def test_own_scenario_file_with_failing_check_exits_1(tmp_path: Path):
    src = tmp_path / "mine.py"
    src.write_text(
        "from ipcviz.scenario import Scenario\n"
        "scenario = Scenario('mine', 'my own', teaches=['T4'])\n"
        "p = scenario.pipe('p', writer='a', reader='b')\n"
        "@scenario.process('a')\n"
        "def a(ctx):\n"
        "    p.write(b'hi')\n"
        "@scenario.process('b')\n"
        "def b(ctx):\n"
        "    ctx.report('got', p.read().decode())\n"
        "@scenario.check('got hello')\n"
        "def c(run):\n"
        "    return run.report('b', 'got') == 'hello'\n"
    )
    result = ipcviz("run", str(src), "--headless")
    assert result.returncode == 1
    assert "check ✗ got hello" in result.stdout


@pytest.mark.parametrize("attempt", range(3))
def test_stream_order_respects_causality_across_processes(tmp_path: Path, attempt: int):
    """Under a mutex the counter's writes happen one after another in real time, so the
    stream must carry them as 1, 2, 3, … and never show a post after the wait it ended
    (the engine merges rings by time with a hold, not in the order it happens to read them).
    Default settings: enough contention on 2 CPUs to catch a misordering."""
    trace = tmp_path / "t.jsonl"
    result = ipcviz("run", "shm-semaphore", "--headless", "--record", str(trace))
    assert result.returncode == 0, result.stdout[-1500:]
    header, events = read_trace(trace)
    values = [e["value"] for e in events if e["kind"] == "shm.write"]
    assert values == list(range(1, len(values) + 1))
    state = State(header=header)
    for e in events:
        apply(state, e)
        mutex = state.objects.get("mutex")
        assert mutex is None or mutex.value >= 0, f"post recorded after its wait at {e['seq']}"
