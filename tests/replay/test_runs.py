"""``list_runs`` / ``ipcviz runs``: recorded traces summarised from their first and last line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.replay_bench import write_synthetic_trace
from ipcviz.events.runs import list_runs, run_info
from tests.conftest import BuiltinTraces, ipcviz


def test_runs_lists_finished_crashed_and_skips_foreign(
    builtin_traces: BuiltinTraces, tmp_path: Path, private_data_home: Path
) -> None:
    result, header, events = builtin_traces.copy("pipe-basic", tmp_path)
    assert result.returncode == 0
    traces = private_data_home / "ipcviz" / "traces"
    traces.mkdir(parents=True)
    shutil.copy(tmp_path / "pipe-basic.jsonl", traces / "a.jsonl")
    big = traces / "b.jsonl"
    write_synthetic_trace(big, 30_000)  # no session.end: a run that crashed
    with big.open("ab") as f:
        f.write(b'{"t":1,"seq":99999999,"ki')  # and a cut-off last line
    (traces / "c.jsonl").write_bytes(b"\x1b]52;c;aGk=\x07 not a trace\n")
    (traces / "notes.txt").write_text("ignored")

    runs = {r.path.name: r for r in list_runs()}
    assert sorted(runs) == ["a.jsonl", "b.jsonl"]
    a = runs["a.jsonl"]
    assert (a.scenario, a.outcome, a.events) == ("pipe-basic", "passed", len(events))
    assert a.started == header["start"] and a.duration == events[-1]["t"] / 1e9
    b = runs["b.jsonl"]
    assert (b.scenario, b.outcome, b.events) == ("synthetic", None, 30_000)
    assert run_info(big) == b

    res = ipcviz("runs")
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert len(lines) == 2 and "\x1b" not in res.stdout
    assert any("pipe-basic" in ln and "passed" in ln for ln in lines)
    assert any("synthetic" in ln and "incomplete" in ln and "30000 events" in ln for ln in lines)


def test_no_runs_yet(private_data_home: Path) -> None:
    assert list_runs() == []
    res = ipcviz("runs")
    assert res.returncode == 0 and "no recorded runs" in res.stdout


def test_runs_pads_by_cells_so_korean_lines_up(private_data_home: Path) -> None:
    """A Korean scenario id and Korean outcomes take two cells a character: the columns
    after them still start at the same cell on every line."""
    import json

    from rich.cells import cell_len

    traces = private_data_home / "ipcviz" / "traces"
    traces.mkdir(parents=True)
    for second, scenario, outcome in [
        (1, "파이프-기초", "passed"),
        (2, "pipe-basic", "timeout"),
        (3, "세마포어", "stopped"),
    ]:
        header = {
            "format": "ipcviz-trace",
            "version": 1,
            "scenario": {"id": scenario, "title": scenario},
            "start": f"2026-01-01T00:00:0{second}+00:00",
        }
        end = {"t": 10**9, "seq": 0, "pid": 0, "kind": "session.end", "outcome": outcome}
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (header, end))
        (traces / f"{second}.jsonl").write_text(text)
    res = ipcviz("runs", "--lang", "ko")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 3 and any("파이프-기초" in ln for ln in lines)
    assert "시간 초과" in lines[1] and "통과" in lines[2] and "timeout" not in res.stdout
    # where the duration and the path start, in cells: the same on every line
    durations = {cell_len(ln[: ln.index("1.00s")]) for ln in lines}
    paths = {cell_len(ln[: ln.index(str(traces))]) for ln in lines}
    assert len(durations) == 1 and len(paths) == 1, res.stdout


def test_runs_shows_a_hostile_file_name_inert(private_data_home: Path) -> None:
    """A trace's file name is untrusted too (a trace copied into the directory): escape
    codes and bytes that are not UTF-8 in it are shown escaped, never sent to the terminal."""
    import json
    import os
    import subprocess
    import sys

    from tests.replay.test_hostile_traces import inert

    traces = private_data_home / "ipcviz" / "traces"
    traces.mkdir(parents=True)
    header = {"format": "ipcviz-trace", "version": 1, "scenario": {"id": "x", "title": "x"}}
    end = {"t": 10**9, "seq": 0, "pid": 0, "kind": "session.end", "outcome": "passed"}
    text = "".join(json.dumps(r) + "\n" for r in (header, end)).encode()
    for name in (b"a\x1b[2J\x1b]0;pwned\x07\x9b.jsonl", b"b\xff\xfe.jsonl"):
        with open(os.path.join(os.fsencode(traces), name), "wb") as f:
            f.write(text)
    res = subprocess.run(
        [sys.executable, "-m", "ipcviz", "runs"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert res.returncode == 0 and b"Traceback" not in res.stderr, res.stderr
    assert len(res.stdout.splitlines()) == 2 and not inert(res.stdout), res.stdout
    # (a byte that is not UTF-8 is shown as itself, ``\xff``: the name's own bytes)
    assert b"a\\x1b[2J" in res.stdout and b"b\\xff\\xfe.jsonl" in res.stdout


def test_a_program_run_is_listed_by_its_command(tmp_path: Path, private_data_home: Path) -> None:
    """``ipcviz run -- PROG`` records the scenario id ``program`` for every program: the
    list names the command instead (inert, its arguments' boundaries kept)."""
    traces = private_data_home / "ipcviz" / "traces"
    traces.mkdir(parents=True)
    trace = traces / "p.jsonl"
    res = ipcviz("run", "--headless", "--record", str(trace), "--", "sh", "-c", "exit 0")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert run_info(trace).scenario == "-- sh -c 'exit 0'"
    listed = ipcviz("runs")
    assert "-- sh -c 'exit 0'" in listed.stdout and " program " not in listed.stdout


@pytest.mark.skipif(
    shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler"
)
def test_a_c_file_run_is_listed_as_the_user_ran_it(
    tmp_path: Path, private_data_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ipcviz run lab.c -- ARGS`` runs a binary in the build cache: the list and the
    trace's description showed that cache path (``-- ~/.cache/ipcviz/c/HASH/lab``), a
    file the user never named. They show what the user ran: ``lab.c -- -x 'a b'``."""
    import json

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "lab.c").write_text("int main(void) { return 0; }\n")
    traces = private_data_home / "ipcviz" / "traces"
    traces.mkdir(parents=True)
    trace = traces / "c.jsonl"
    here = str(Path(__file__).resolve().parents[2])  # this ipcviz, from another directory
    path = os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
    argv = ["run", "lab.c", "--headless", "--record", str(trace), "--", "-x", "a b", "--"]
    res = subprocess.run(
        [sys.executable, "-m", "ipcviz", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # the user's directory, where lab.c is
        env={**os.environ, "PYTHONPATH": path},
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    shown = "lab.c -- -x 'a b' --"
    assert run_info(trace).scenario == shown
    listed = ipcviz("runs").stdout
    assert shown in listed and str(tmp_path / "cache") not in listed, listed
    header = json.loads(trace.read_text().splitlines()[0])
    assert header["scenario"]["description"] == f"ipcviz run {shown}"
    assert header["ran"] == ["lab.c", "--", "-x", "a b", "--"]


def test_a_program_run_of_many_words_quotes_only_what_it_shows(tmp_path: Path, monkeypatch) -> None:
    """A header's ``program`` is untrusted: half a million words (a 6 MB line, under the
    trace's limit) quoted whole for a 60-column name cost a second a trace in ``ipcviz runs``:
    only the words shown are quoted (counted here, not timed)."""
    import json

    from ipcviz import bytefmt

    trace = tmp_path / "p.jsonl"
    header = {"format": "ipcviz-trace", "version": 1, "scenario": {"id": "program"}}
    header["program"] = ["a\x1b"] * 500_000
    trace.write_text(json.dumps(header) + "\n")
    calls = []
    quote = bytefmt.shell_word
    monkeypatch.setattr(bytefmt, "shell_word", lambda w: calls.append(w) or quote(w))
    name = run_info(trace).scenario
    assert name.startswith("-- $'a\\x1b' $'a\\x1b'") and name.endswith(")"), name
    assert "\x1b" not in name and len(calls) < 60, len(calls)


def test_a_run_still_recording_is_listed_so_and_stopped_once_it_ended(
    tmp_path: Path, private_data_home: Path
) -> None:
    """A trace with no ``session.end`` was always "incomplete", the word for a run that
    was cut off, even while its run was going on in another terminal. A run whose engine
    is alive (its session registry) is "recording"; once stopped, its own end is shown."""
    import signal

    src = tmp_path / "sleeper.py"
    src.write_text(
        "from ipcviz.scenario import Scenario\n"
        "scenario = Scenario('sleeper', 'sleeps', timeout=600)\n"
        "@scenario.process('w')\n"
        "def w(ctx):\n"
        "    ctx.report('up', 1)\n"
        "    ctx.sleep(600)\n"
    )
    traces = private_data_home / "ipcviz" / "traces"
    traces.mkdir(parents=True)
    trace = traces / "live.jsonl"
    run = subprocess.Popen(
        [sys.executable, "-m", "ipcviz", "run", str(src), "--headless", "--record", str(trace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert run.stdout is not None
        for line in run.stdout:  # the worker reported: the run is going on
            if b"reports up" in line:
                break
        assert _outcomes() == [("sleeper", "recording")]
    finally:
        run.send_signal(signal.SIGINT)
        run.communicate(timeout=120)
    assert _outcomes() == [("sleeper", "stopped")]  # (the CLI exits after the engine's end)


def _outcomes() -> list[tuple[str, str]]:
    """``ipcviz runs``: (scenario, outcome) of each line (its words: started, scenario,
    duration, count, "events", outcome, path)."""
    listed = ipcviz("runs")
    assert listed.returncode == 0, listed.stderr
    return [(w[1], w[5]) for w in (ln.split() for ln in listed.stdout.splitlines())]
