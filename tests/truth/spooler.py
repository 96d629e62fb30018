"""A lecturer's print spooler, from docs/scenarios.md: 4 clients queue print jobs with
priorities on a POSIX queue that holds only 2; a counting POSIX semaphore says how many
pages the printer's buffer still takes (3); the spooler counts what it printed in shared
memory under a System V lock that a clerk reads too. Queues fill, senders block, the
semaphore reaches 0 and the printer posts it back: every job printed once."""

from ipcviz.scenario import Scenario

scenario = Scenario("spooler", "print jobs by priority, a 3-page printer buffer")
jobs = scenario.posix_queue("jobs", max_messages=2, max_message_size=32)
buffer = scenario.semaphore("buffer", value=3)  # free pages in the printer's buffer
printed = scenario.shared_memory("printed", cells={"jobs": 1, "pages": 1})
lock = scenario.sysv_semaphore("lock", value=1)
CLIENTS = 4
JOBS = 6  # per client


@scenario.process("client", count=CLIENTS)
def client(ctx):
    for k in range(JOBS):
        jobs.send(f"{ctx.name}:{k}".encode(), priority=(ctx.index + k) % 3)
    ctx.report("sent", JOBS)


@scenario.process("spooler")
def spooler(ctx):
    seen = []
    for _ in range(CLIENTS * JOBS):
        job, _priority = jobs.receive()
        buffer.wait()  # a page of the buffer
        with lock:
            printed["jobs"] = printed["jobs"] + 1
            printed["pages"] = printed["pages"] + 1
        buffer.post()  # the printer took the page
        seen.append(job.decode())
    ctx.report("seen", seen)


@scenario.process("clerk")
def clerk(ctx):
    last = 0
    for _ in range(20):
        with lock:
            now = printed["jobs"]
        assert now >= last, f"the count went back from {last} to {now}"
        last = now


@scenario.check("every job printed exactly once")
def once(run):
    seen = run.report("spooler", "seen", [])
    want = {f"client{c}:{k}" for c in range(1, CLIENTS + 1) for k in range(JOBS)}
    return sorted(seen) == sorted(want), f"{len(seen)} printed, {len(set(seen))} distinct"


@scenario.check("the shared count says so too")
def counted(run):
    shm = run.state.objects["printed"]
    return shm.cell(0) == CLIENTS * JOBS == shm.cell(1), f"jobs {shm.cell(0)}"


@scenario.check("the buffer is whole again")
def whole(run):
    return run.state.objects["buffer"].value == 3
