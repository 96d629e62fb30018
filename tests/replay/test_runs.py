"""``list_runs`` / ``ipcviz runs``: recorded traces summarised from their first and last line."""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.replay_bench import write_synthetic_trace
from ipcviz.events.runs import list_runs, run_info
from tests.conftest import ipcviz, run_scenario


def test_runs_lists_finished_crashed_and_skips_foreign(
    tmp_path: Path, private_data_home: Path
) -> None:
    result, header, events = run_scenario("pipe-basic", tmp_path)
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
