"""Benchmark scenario: 64 processes take turns on one semaphore around a shared counter, as
tests/truth/sem64.py with enough rounds for ~128,000 events (replay throughput)."""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "sem64-bench", "64 processes, one lock", params={"rounds": 500}, quick={"rounds": 500}
)
lock = scenario.semaphore("lock", value=1)
shm = scenario.shared_memory("counter", cells=1)


@scenario.process("p", count=64)
def worker(ctx):
    for _ in range(ctx.params["rounds"]):
        with lock:
            shm[0] = shm[0] + 1
