"""Running small scenario files through the real CLI and engine, and reading their traces."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from tests.conftest import read_trace, run_scenario
from tests.faults.harness import LiveRun, wait_for


def run_file(tmp_path: Path, name: str, source: str, *extra: str, timeout: float = 60):
    """Write a scenario file, run it headless (--quick) and return (result, header, events)."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return run_scenario(str(path), tmp_path, *extra, timeout=timeout)


def run_held(
    tmp_path: Path, name: str, source: str, what: str, ready: Callable[[Path], Any]
) -> tuple[dict[str, Any], list[dict[str, Any]], LiveRun]:
    """Run a scenario whose processes wait for the file ``go`` (``{go!r}`` in ``source``)
    until ``ready(trace)`` holds, then let them go: held on a condition of the trace, never
    for a fixed time (a loaded machine probes less in it). The run must pass; returns
    (header, events, run)."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source).replace("{go!r}", repr(str(tmp_path / "go"))))
    run = LiveRun(tmp_path, path, "--quick", trace=tmp_path / f"{name}.jsonl")
    try:
        wait_for(what, lambda: ready(run.trace))
        run.go()
        assert run.finish() == 0, run.stderr[-3000:]
    finally:
        if run.proc.poll() is None:
            run.kill_everything()
    header, events = read_trace(run.trace)
    return header, events, run


def by_kind(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == kind]


def pids_by_name(events: list[dict[str, Any]]) -> dict[str, int]:
    return {e["name"]: e["pid"] for e in by_kind(events, "proc.start")}


def states_at_probes(header: dict[str, Any], events: list[dict[str, Any]]):
    """Yield (probe event, model state right after it) for every object probe."""
    state = State(header=header)
    for e in events:
        apply(state, e)
        if e["kind"].startswith("probe.") and "obj" in e:
            yield e, state


__all__ = [
    "by_kind",
    "pids_by_name",
    "read_trace",
    "run_file",
    "run_held",
    "states_at_probes",
]
