"""Readers–writers (readers first): a correct program that must never be called a deadlock.

The classic solution: ``mutex`` guards the reader count; the first reader in takes ``wrt``
and the LAST reader out posts it, often a different process. So ``wrt`` is not a lock held
by one process: who took it says nothing about who will give it back. A writer holds
``wrt`` for a while (0.25 s) while readers queue behind it: everybody waits, nobody is stuck.

Shared cells: 0 reader count, 1 a writer is inside, 2 the data (writes so far),
3 readers inside.
"""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "readers-writers",
    "Readers and writers: the last reader lets the writer in",
    teaches=["T32", "T33"],
    description="The first reader in takes wrt; the last reader out posts it.",
    params={"readers": 2, "rounds": 3, "writes": 2, "hold": 0.25},
    quick={"readers": 2, "rounds": 3, "writes": 2, "hold": 0.25},
    timeout=60,
)
scenario.step("read", "Readers share the data; a writer waits for the last one to leave.", "")
cells = scenario.shared_memory("cells", cells=4)
mutex = scenario.semaphore("mutex", value=1)
wrt = scenario.semaphore("wrt", value=1)


@scenario.process("reader", count=scenario.params["readers"])
def reader(ctx):
    if ctx.index == 0:
        ctx.step("read")
    bad = seen = 0
    for _ in range(ctx.params["rounds"]):
        mutex.wait()
        cells[0] = cells[0] + 1
        if cells[0] == 1:
            wrt.wait()  # the first reader in keeps writers out
        cells[3] = cells[3] + 1
        mutex.post()
        bad += cells[1] != 0  # a writer inside while we read: the algorithm is broken
        seen = cells[2]  # the data
        mutex.wait()
        cells[3] = cells[3] - 1
        cells[0] = cells[0] - 1
        if cells[0] == 0:
            wrt.post()  # the last reader out lets writers in
        mutex.post()
    ctx.report("bad", bad)
    ctx.report("seen", seen)


@scenario.process("writer")
def writer(ctx):
    bad = 0
    for _ in range(ctx.params["writes"]):
        wrt.wait()
        cells[1] = 1
        bad += cells[3] != 0  # a reader inside while we write: broken
        ctx.sleep(ctx.params["hold"])
        cells[2] = cells[2] + 1
        bad += cells[3] != 0
        cells[1] = 0
        wrt.post()
    ctx.report("bad", bad)


@scenario.check("no reader ever saw a writer inside, nor a writer a reader")
def exclusive(run):
    bad = {name: r.get("bad") for name, r in run.reports.items()}
    return all(v == 0 for v in bad.values()) and len(bad) == len(run.exits), str(bad)


@scenario.check("every process finished normally")
def finished(run):
    return all(x["code"] == 0 for x in run.exits.values()), str(run.exits)


@scenario.check("the data holds every write, the reader count is back to 0")
def counts(run):
    data = run.state.objects["cells"].data
    cell = lambda i: int.from_bytes(data[8 * i : 8 * i + 8], "little", signed=True)  # noqa: E731
    ok = cell(0) == 0 and cell(3) == 0 and cell(2) == run.params["writes"]
    return ok, f"count {cell(0)}, inside {cell(3)}, data {cell(2)}"
