"""The step gate's cost: ``python benchmarks/gate_bench.py [--quick]``.

Free-running, ``tracer.gate(code, obj)`` must be a flag check: one byte read from the ring's
mmap, no syscall. Measured against the cheapest possible Python call (a no-op method with
the same arguments) and against ``tracer.emit`` (the record every operation writes anyway),
side by side in one process. The tracer target itself (``tracer_overhead_ratio``, gates in
place on every wrapper) is measured by ``benchmarks/run.py``.

Step mode is a different regime (a pipe round trip per operation, chosen by the engine):
its rate is reported for reference, from a seeded ``shm-race`` run through the real CLI.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

Result = dict[str, dict[str, object]]


class _Noop:
    __slots__ = ()

    def gate(self, code: int, obj: int) -> None:
        return None


def _per_call_ns(fn, n: int) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(n):
        fn(31, 0)
    return (time.perf_counter_ns() - t0) / n


def bench_free_gate(quick: bool) -> Result:
    from ipcviz.tracer.current import Tracer
    from ipcviz.tracer.ring import Ring

    ring = Ring(1 << 22)  # room for a whole batch of emits
    tracer = Tracer()
    tracer.attach(ring)  # the real flag: byte 24 of the ring's shared mapping, value 0
    assert ring.gate_flag() == 0
    n = 200_000 if quick else 1_000_000
    gate, noop = [], []
    emit_ns = []
    for _ in range(5 if quick else 9):
        noop.append(_per_call_ns(_Noop().gate, n))
        gate.append(_per_call_ns(tracer.gate, n))
        ring.drain([], 1 << 30)
        m = min(n, 20_000)
        t0 = time.perf_counter_ns()
        for _ in range(m):
            tracer.emit(31, 0)
        emit_ns.append((time.perf_counter_ns() - t0) / m)
        ring.drain([], 1 << 30)
    ring.close()
    g, b, e = statistics.median(gate), statistics.median(noop), statistics.median(emit_ns)
    return {
        "gate_free_ns": {"value": round(g, 1), "unit": "ns per gate", "target": "-"},
        "gate_free_vs_noop_call": {
            "value": round(g / b, 2),
            "unit": "x no-op call",
            "target": "<= 2",
        },
        "gate_free_vs_emit": {"value": round(g / e, 2), "unit": "x tracer.emit", "target": "< 1"},
    }


def bench_step_rate(quick: bool) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "seeded.jsonl"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ipcviz",
                "run",
                "shm-race",
                "--headless",
                "--quick",
                "--seed",
                "1",
                "--record",
                str(trace),
            ],
            capture_output=True,
            check=True,
            timeout=300,
        )
        events = [json.loads(line) for line in trace.read_text().splitlines()[1:]]
    steps = [e["t"] for e in events if e["kind"] == "gate.step"]
    rate = (len(steps) - 1) / ((steps[-1] - steps[0]) / 1e9)
    return {
        "step_mode_ops_per_s": {
            "value": round(rate),
            "unit": "ops/s (seeded, reference)",
            "target": "-",
        }
    }


def run(quick: bool = False) -> Result:
    return {**bench_free_gate(quick), **bench_step_rate(quick)}


if __name__ == "__main__":
    for name, r in run("--quick" in sys.argv).items():
        print(f"{name:28} {r['value']:>10} {r['unit']:28} target {r['target']}")
