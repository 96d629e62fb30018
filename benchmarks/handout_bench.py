"""Handout benchmark: size and time of ``ipcviz export --format html`` of a real recording
with 200 narration steps, against the same lecture with 400 steps in the same run.

The recordings are real runs of benchmarks/handout_scenario.py (a writer that sends one
message through a pipe under a semaphore, then narrates a step). Linear output means the
400-step page costs about twice the 200-step one, in bytes and in seconds; the per-step
numbers say how large and slow a step is. Run alone: ``python benchmarks/handout_bench.py``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = Path(__file__).resolve().parent / "handout_scenario.py"


def _ipcviz(*args: str, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run ``python -m ipcviz ARGS``; (wall seconds, CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "ipcviz", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdin=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise RuntimeError(f"ipcviz {' '.join(args)} failed: {res.stderr.strip()[-500:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def record(path: Path, steps: int) -> Path:
    """A real run of the handout scenario with ``steps`` narration steps, recorded."""
    _ipcviz(
        "run", str(SCENARIO), "--headless", "--quick", "--record", str(path),
        env={"HANDOUT_STEPS": str(steps)},
    )  # fmt: skip
    return path


def measure(trace: Path, page: Path) -> dict[str, float]:
    wall, cpu = _ipcviz("export", str(trace), "--format", "html", "-o", str(page))
    return {"bytes": page.stat().st_size, "wall": wall, "cpu": cpu}


def bench_handout(quick: bool) -> dict[str, dict]:
    """HTML handout of 200 narration steps, and 400 as the side-by-side comparison."""
    with tempfile.TemporaryDirectory(prefix="ipcviz-bench-") as tmp:
        d = Path(tmp)
        m = {n: measure(record(d / f"h{n}.jsonl", n), d / f"h{n}.html") for n in (200, 400)}
    a, b = m[200], m[400]
    return {
        "handout_html_kb_per_step": {
            "value": round(a["bytes"] / 200 / 1024, 1),
            "unit": f"KiB per narration step (200 steps: {a['bytes'] / 2**20:.2f} MiB page)",
            "target": "-",
            "ok": True,
        },
        "handout_html_ms_per_step": {
            "value": round(a["cpu"] / 200 * 1000, 1),
            "unit": f"ms CPU per step (200 steps: {a['cpu']:.1f} s CPU, {a['wall']:.1f} s wall)",
            "target": "-",
            "ok": True,
        },
        "handout_size_400_over_200": {
            "value": round(b["bytes"] / a["bytes"], 3),
            "unit": "page size, 400 steps / 200 steps (linear: about 2)",
            "target": "<= 2.2",
            "ok": b["bytes"] / a["bytes"] <= 2.2,
        },
        "handout_cpu_400_over_200": {
            "value": round(b["cpu"] / a["cpu"], 3),
            "unit": f"export CPU time, 400 steps / 200 steps ({b['cpu']:.1f} s / {a['cpu']:.1f} s)",
            "target": "<= 2.2",
            "ok": b["cpu"] / a["cpu"] <= 2.2,
        },
    }


if __name__ == "__main__":
    for key, val in bench_handout("--quick" in sys.argv).items():
        print(f"{key:28} {val['value']:>10}  {val['unit']}")
