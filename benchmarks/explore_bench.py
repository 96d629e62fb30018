"""Explored runs per second: ``python benchmarks/explore_bench.py [--quick]``.

``ipcviz explore`` runs a scenario hundreds of times, so the cost of one run decides how
far it can search. Measured on ``benchmarks/explore_scenario.py`` (2 workers, 100 operations,
every one chosen at the step gate) with the real explorer: each run a fresh engine forked
from the loaded explorer (``ipcviz/explore/runner.py``), real processes, a real segment,
a check, a full cleanup. Target: ≥ 20 runs per second.

Side by side, in the same run, two baselines:

- ``fresh engine``: the same schedule run by a fresh ``python -m ipcviz.engine`` per run (as
  ``ipcviz run --schedule`` does): what a search would cost without forking the explorer;
- ``free run``: the same forked run with no step gate (the workers run free): the floor of a
  run (fork, objects, trace, check, cleanup); the ratio to it is what the 100 round trips
  through the gate cost.

The wall-clock rates depend on the machine's load (the 1-minute load average is printed
with them): every step is a round trip between two processes, and the engine runs at nice
10. The CPU time per run, and runs per CPU-second, are what a run costs whatever the load.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

Result = dict[str, dict[str, object]]
SCENARIO = HERE / "explore_scenario.py"
TARGET = 20.0  # runs per second, for a scenario of 100 operations (issue 17)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _rate(explorer: Any, plans: list[dict[str, Any]], jobs: int) -> float:
    """Runs per second, ``jobs`` at once (as ``explore --jobs``); every run must end
    (passed, or its check failed: a race), not time out or fail to run."""
    t0 = time.monotonic()
    for i in range(0, len(plans), jobs):
        runs = [explorer.start(plan) for plan in plans[i : i + jobs]]
        for run in runs:
            result = explorer.finish(run)
            assert result.outcome in ("passed", "failed"), (result.outcome, result.errors)
    return len(plans) / (time.monotonic() - t0)


def bench_explore(quick: bool) -> Result:
    from ipcviz.engine.client import EngineProcess
    from ipcviz.explore.goals import goal_of
    from ipcviz.explore.search import Explorer, compress
    from ipcviz.explore.strategies import PCT
    from ipcviz.scenario.loader import load, resolve

    path = resolve(str(SCENARIO))
    scenario = load(path)
    names = [p.name for p in scenario.processes]
    n = 16 if quick else 60
    base_n = 3 if quick else 8
    with Explorer(scenario, goal_of(scenario), 60) as explorer:
        first = explorer.run({"prefix": []})  # warm: page cache, lazy imports in the engine
        ops = len(first.steps)
        pct = PCT(names, seed=1, depth=2)
        pct.learn(pct.next_plan() or {}, first)
        plans = [pct.next_plan() or {} for _ in range(n)]
        cpu0 = _children_cpu()
        one = _rate(explorer, plans, 1)
        cpu = _children_cpu() - cpu0
        two = _rate(explorer, plans, 2)  # ``--jobs 2``, the default on 2 CPUs: same plans
        free = _rate(explorer, [{"free": True}] * n, 1)
    schedule = compress(first.choices)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        for i in range(base_n):
            engine = EngineProcess(
                path, Path(tmp) / f"base{i}.jsonl", timeout=60, schedule=schedule
            )
            for _ in engine.events():
                pass
            engine.terminate()
            engine.close()
        fresh = base_n / (time.monotonic() - t0)
    load1 = os.getloadavg()[0]
    ncpu = os.cpu_count() or 1
    where = f"{ops} ops, load {load1:.1f} on {ncpu} CPUs"
    met = lambda v: f">= {TARGET:g} ({'met' if v >= TARGET else 'NOT met'})"  # noqa: E731
    return {
        "explore_runs_per_s": {"value": round(one, 1), "unit": f"runs/s (1 job, {where})",
                               "target": met(one)},
        "explore_runs_per_s_2_jobs": {"value": round(two, 1),
                                      "unit": f"runs/s (2 jobs, {where})", "target": met(two)},
        "baseline_fresh_engine_runs_per_s": {"value": round(fresh, 1),
                                             "unit": "runs/s (python -m ipcviz.engine each)",
                                             "target": "-"},
        "explore_vs_fresh_engine": {"value": round(one / fresh, 2),
                                    "unit": "x the fresh-engine rate (1 job)", "target": "> 1"},
        "baseline_free_runs_per_s": {"value": round(free, 1),
                                     "unit": "runs/s (forked, no step gate, 1 job)",
                                     "target": "-"},
        "explore_vs_free_run": {"value": round(one / free, 2),
                                "unit": "x the free-run rate (the gate's cost)", "target": "-"},
        "explore_cpu_ms_per_run": {"value": round(cpu / n * 1000, 1),
                                   "unit": "ms CPU per run (engine+workers)", "target": "-"},
        "explore_runs_per_cpu_s": {"value": round(n / cpu, 1) if cpu else 0,
                                   "unit": "runs per CPU-second", "target": f">= {TARGET:g}"},
    }  # fmt: skip


def run(quick: bool = False) -> Result:
    return bench_explore(quick)


if __name__ == "__main__":
    for name, r in run("--quick" in sys.argv).items():
        print(f"{name:34} {r['value']:>8} {r['unit']:44} target {r['target']}")
