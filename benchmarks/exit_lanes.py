"""An exit's cost in a forking flood: ``python benchmarks/exit_lanes.py``.

The engine places each process's ``proc.exit`` after that process's latest record, of any
of its threads (``Linearizer.add_event``). It used to find those by scanning the stamp of
every lane of every process ever started: a flood of N children cost N per exit, N² in
all, and a stop under load took a minute. The ratio printed is the CPU per exit with many
processes started over the CPU per exit with few, side by side in one run: about 1 when
an exit reads only its own lanes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ipcviz.engine.linearize import Linearizer
from ipcviz.model.state import State


def per_exit(n: int) -> float:
    """CPU seconds per ``proc.exit`` once ``n`` processes have started."""
    lin = Linearizer(State(), 0, [], lambda *a: {}, lambda e: e)
    for pid in range(1000, 1000 + n):
        lin.started(pid, pid)
    t = time.process_time()
    for pid in range(1000, 1000 + n):
        lin.add_event({"kind": "proc.exit", "pid": pid}, pid + 5, pid)
    return (time.process_time() - t) / n


def main() -> None:
    few, many = 100, 5000
    a, b = min(per_exit(few) for _ in range(5)), min(per_exit(many) for _ in range(3))
    print(f"per exit: {a * 1e6:.2f} us with {few} processes, {b * 1e6:.2f} us with {many}")
    print(f"exit_lanes_ratio {b / a:.2f}  ({many} / {few} processes; ~1: no scan of all)")


if __name__ == "__main__":
    main()
