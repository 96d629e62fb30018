"""Explored runs per second: ``python benchmarks/explore_bench.py [--quick]``.

``ipcviz explore`` runs a scenario hundreds of times, so the cost of one run decides how
far it can search. Measured on ``benchmarks/explore_scenario.py`` (2 workers, 100 operations,
every one chosen at the step gate) with the real explorer: each run a fresh engine forked
from the loaded explorer (``ipcviz/explore/runner.py``), real processes, a real segment.

Side by side, the baseline is what a search would cost without that: the same schedule
run by a fresh ``python -m ipcviz.engine`` per run (as ``ipcviz run --schedule`` does).
Target: ≥ 20 runs/s. The wall-clock rate depends on the machine's load (every step is a
round trip between two processes, and the engine runs at nice 10); the CPU time per run,
and runs per CPU-second, are reported next to it: that is what a run costs whatever the
load (on an idle machine, one job runs at most that many per second, two jobs about twice).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

Result = dict[str, dict[str, object]]
SCENARIO = HERE / "explore_scenario.py"


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def bench_explore(quick: bool) -> Result:
    from ipcviz.engine.client import EngineProcess
    from ipcviz.explore.goals import goal_of
    from ipcviz.explore.search import Explorer, compress
    from ipcviz.explore.strategies import PCT
    from ipcviz.scenario.loader import load, resolve

    path = resolve(str(SCENARIO))
    scenario = load(path)
    names = [p.name for p in scenario.processes]
    n = 15 if quick else 60
    base_n = 3 if quick else 8
    with Explorer(scenario, goal_of(scenario), 60) as explorer:
        first = explorer.run({"prefix": []})  # warm: page cache, lazy imports in the engine
        ops = len(first.steps)
        pct = PCT(names, seed=1, depth=2)
        pct.learn(pct.next_plan() or {}, first)
        plans = [pct.next_plan() or {} for _ in range(n)]
        cpu0, t0 = _children_cpu(), time.monotonic()
        for plan in plans:
            explorer.run(plan)
        wall = time.monotonic() - t0
        cpu = _children_cpu() - cpu0
        # two runs at once (``--jobs 2``, the default on 2 CPUs): the same plans again
        t0 = time.monotonic()
        for i in range(0, n, 2):
            runs = [explorer.start(plan) for plan in plans[i : i + 2]]
            for run in runs:
                explorer.finish(run)
        wall2 = time.monotonic() - t0
    schedule = compress(first.choices)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        for i in range(base_n):
            engine = EngineProcess(
                path,
                Path(tmp) / f"base{i}.jsonl",
                timeout=60,
                extra=["--schedule", schedule],
            )
            for _ in engine.events():
                pass
            engine.terminate()
            engine.close()
        base_wall = (time.monotonic() - t0) / base_n
    per_run = wall / n
    return {
        "explore_runs_per_s": {
            "value": round(1 / per_run, 1),
            "unit": f"runs/s ({ops} ops each, 1 job)",
            "target": ">= 20",
        },
        "explore_runs_per_s_2_jobs": {
            "value": round(n / wall2, 1),
            "unit": f"runs/s ({ops} ops each, 2 jobs)",
            "target": ">= 20",
        },
        "explore_cpu_ms_per_run": {
            "value": round(cpu / n * 1000, 1),
            "unit": "ms CPU per run (engine+workers)",
            "target": "-",
        },
        "explore_runs_per_cpu_s": {  # the load-independent figure: runs per CPU-second
            "value": round(n / cpu, 1) if cpu else 0,
            "unit": "runs per CPU-second",
            "target": ">= 20 (per core, idle)",
        },
        "explore_vs_fresh_engine": {
            "value": round(base_wall / per_run, 2),
            "unit": "x faster than python -m engine",
            "target": "> 1",
        },
    }


def run(quick: bool = False) -> Result:
    return bench_explore(quick)


if __name__ == "__main__":
    for name, r in run("--quick" in sys.argv).items():
        print(f"{name:28} {r['value']:>10} {r['unit']:32} target {r['target']}")
