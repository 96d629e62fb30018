"""The engine's own CPU per event on one scenario, for several code trees side by side:
what ``run.py``'s ``e2e_engine_cpu_us_per_event`` measures, alternated between trees so a
busy machine's load falls on each alike.

    python benchmarks/engine_cpu.py SCENARIO TREE [TREE ...] [--pairs N]

Each TREE is a checkout whose ``ipcviz`` runs (``PYTHONPATH``); its engine's stream is
read raw and its CPU read from ``/proc`` at ``session.end`` (it exits after the last flush).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def engine_cpu(tree: Path, scenario: Path, trace: Path) -> tuple[float, int]:
    """(engine CPU seconds, events in the trace) of one run of ``scenario`` by ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipcviz.engine", str(scenario), "--trace", str(trace)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tree,
        start_new_session=True,
    )
    assert proc.stdout is not None
    cpu, tick = 0.0, os.sysconf("SC_CLK_TCK")
    while chunk := proc.stdout.read1(1 << 20):
        if b'"kind":"session.end"' in chunk:
            with open(f"/proc/{proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    proc.wait()
    with trace.open("rb") as f:
        events = sum(1 for _ in f) - 1  # the header is not an event
    return cpu, events


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", type=Path)
    ap.add_argument("trees", type=Path, nargs="+")
    ap.add_argument("--pairs", type=int, default=5)
    args = ap.parse_args()
    per_event: dict[Path, list[float]] = {t: [] for t in args.trees}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.pairs):
            for i, tree in enumerate(args.trees):
                cpu, events = engine_cpu(
                    tree.resolve(), args.scenario.resolve(), Path(tmp) / f"{k}.{i}"
                )
                per_event[tree].append(cpu / events * 1e6)
                print(f"{tree}: {events} events, {cpu:.2f} s, {per_event[tree][-1]:.2f} us/event")
    for tree, values in per_event.items():
        print(f"{tree}: median {statistics.median(values):.2f} us/event "
              f"({min(values):.2f}-{max(values):.2f}, {len(values)} runs)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
