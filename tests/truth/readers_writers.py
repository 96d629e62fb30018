"""Readers–writers (first readers' preference), as in a textbook: the last reader posts
``wrt``, which the first reader took. Writers hold the lock 0.05 s."""

from ipcviz.scenario import Scenario

scenario = Scenario("rw", "Readers and writers", params={"rounds": 3}, quick={"rounds": 3})
mutex = scenario.semaphore("mutex", value=1)
wrt = scenario.semaphore("wrt", value=1)
shm = scenario.shared_memory("shared", cells=2)  # 0: data, 1: reader count


@scenario.process("writer", count=2)
def writer(ctx):
    for _ in range(ctx.params["rounds"]):
        wrt.wait()
        shm[0] = shm[0] + 1
        ctx.sleep(0.05)
        wrt.post()


@scenario.process("reader", count=3)
def reader(ctx):
    for _ in range(ctx.params["rounds"]):
        mutex.wait()
        shm[1] = shm[1] + 1
        if shm[1] == 1:
            wrt.wait()
        mutex.post()
        ctx.report("seen", shm[0])
        mutex.wait()
        shm[1] = shm[1] - 1
        if shm[1] == 0:
            wrt.post()
        mutex.post()


@scenario.check("every write happened")
def writes(run):
    return run.state.objects["shared"].data[:8] == (2 * run.params["rounds"]).to_bytes(8, "little")
