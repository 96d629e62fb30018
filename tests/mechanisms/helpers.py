"""Running small scenario files through the real CLI and engine, and reading their traces."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from tests.conftest import read_trace, run_scenario


def run_file(tmp_path: Path, name: str, source: str, *extra: str, timeout: float = 60):
    """Write a scenario file, run it headless (--quick) and return (result, header, events)."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return run_scenario(str(path), tmp_path, *extra, timeout=timeout)


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


__all__ = ["by_kind", "pids_by_name", "read_trace", "run_file", "states_at_probes"]
