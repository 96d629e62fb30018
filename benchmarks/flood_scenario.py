"""Benchmark scenario: workers write shared memory as fast as they can (one event per write),
so the engine, not the workers, is the bottleneck. Workers pin themselves to the last CPU;
the benchmark pins the engine to the first."""

import os

from ipcviz.scenario import Scenario

scenario = Scenario("flood", "Engine throughput benchmark", params={"writes": 200000})
cells = scenario.shared_memory("cells", cells=16)


@scenario.process("flood", count=2)
def flood(ctx):
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})
    for i in range(ctx.params["writes"]):
        cells[i & 15] = i
    ctx.report("writes", ctx.params["writes"])


@scenario.check("no event lost")
def none_lost(run):
    expected = sum(r["writes"] for r in run.reports.values())
    got = run.counts.get("shm.write", 0)
    return got == expected, f"{got} of {expected}"
