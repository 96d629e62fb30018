"""Headless replay throughput: ``ipcviz replay TRACE --headless`` on a real recording of 64
processes taking turns on one semaphore (~128,000 events), in events per CPU-second.

The baseline, run side by side in the same run on the same file: a bare Python that reads
the lines and ``json.loads`` each one (the least any reader of a JSON Lines trace does).
The ratio says how much reading, checking, folding and narrating cost on top of that.
Run alone: ``python benchmarks/replay_headless_bench.py [TRACE]``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "truth" / "sem64.py"
ROUNDS = "rounds=500"  # ~128,000 events
BASELINE = "import json, sys\nfor line in open(sys.argv[1], 'rb'):\n    json.loads(line)\n"


def _cpu(cmd: list[str], out: Path | None = None) -> float:
    """CPU seconds (user + system) of ``cmd`` run to the end; stdout to ``out`` or nowhere."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out if out is not None else os.devnull, "wb") as sink:
        subprocess.run(
            cmd,
            stdout=sink,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=True,
        )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def measure(trace: Path, rounds: int = 3) -> dict[str, float]:
    """Best of ``rounds`` for the replay and for the baseline, alternating."""
    replay = [sys.executable, "-m", "ipcviz", "replay", str(trace), "--headless"]
    base = [sys.executable, "-c", BASELINE, str(trace)]
    r = b = float("inf")
    for _ in range(rounds):
        r = min(r, _cpu(replay))
        b = min(b, _cpu(base))
    with trace.open("rb") as f:
        events = sum(1 for _ in f) - 1
    return {"replay_cpu": r, "baseline_cpu": b, "events": events}


def bench_replay_headless(quick: bool) -> dict[str, dict]:
    with tempfile.TemporaryDirectory(prefix="ipcviz-bench-") as tmp:
        trace = Path(tmp) / "sem64.jsonl"
        run = [sys.executable, "-m", "ipcviz", "run", str(SCENARIO), "--headless", "--set", ROUNDS]
        _cpu([*run, "--record", str(trace)])
        m = measure(trace, 1 if quick else 3)
    rate = m["events"] / m["replay_cpu"]
    return {
        "replay_headless_events_per_s": {
            "value": round(rate),
            "unit": f"events per CPU-second, replay --headless of {m['events']:,} events "
            f"({m['replay_cpu']:.2f} s)",
            "target": ">= 500000",
            "ok": rate >= 500_000,
        },
        "replay_headless_over_json": {
            "value": round(m["replay_cpu"] / m["baseline_cpu"], 2),
            "unit": f"× the CPU time of reading + json.loads of the same lines "
            f"({m['baseline_cpu']:.2f} s)",
            "target": "-",
            "ok": True,
        },
    }


if __name__ == "__main__":
    if len(sys.argv) == 2 and not sys.argv[1].startswith("-"):
        m = measure(Path(sys.argv[1]))
        print(
            f"{m['events']:,} events: replay {m['replay_cpu']:.2f} s CPU "
            f"({m['events'] / m['replay_cpu']:,.0f} events/s), json.loads baseline "
            f"{m['baseline_cpu']:.2f} s, ratio {m['replay_cpu'] / m['baseline_cpu']:.2f}"
        )
    else:
        for key, val in bench_replay_headless("--quick" in sys.argv).items():
            print(f"{key:30} {val['value']:>10}  {val['unit']}")
