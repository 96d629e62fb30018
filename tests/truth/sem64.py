"""64 processes take turns on one semaphore around a shared counter (docs/scenarios.md)."""

from ipcviz.scenario import Scenario

scenario = Scenario("sem64", "64 processes, one lock", params={"rounds": 20}, quick={"rounds": 20})
lock = scenario.semaphore("lock", value=1)
shm = scenario.shared_memory("counter", cells=1)


@scenario.process("p", count=64)
def worker(ctx):
    for _ in range(ctx.params["rounds"]):
        with lock:
            shm[0] = shm[0] + 1


@scenario.check("no update was lost under the lock")
def none_lost(run):
    return run.state.objects["counter"].data[:8] == (64 * run.params["rounds"]).to_bytes(
        8, "little"
    )
