"""A lecturer's System V lab, from docs/scenarios.md: 6 tellers move money between 4
accounts in one System V segment, each transfer under one System V semaphore taken with
SEM_UNDO; a 7th process is killed while it holds the semaphore, and the kernel's undo
lets the others go on. The total never changes."""

import os
import signal

from ipcviz.scenario import Scenario

scenario = Scenario("sysv-bank", "tellers, one ledger, one lock with SEM_UNDO")
ledger = scenario.sysv_shared_memory("ledger", cells=4)
lock = scenario.sysv_semaphore("lock", value=1, undo=True)
ready = scenario.sysv_semaphore("ready", value=0)
TELLERS = 6
START = 1000


@scenario.process("opener")
def opener(ctx):
    with lock:
        for i in range(4):
            ledger[i] = START
    for _ in range(TELLERS):
        ready.post()


@scenario.process("teller", count=TELLERS)
def teller(ctx):
    ready.wait()
    me = ctx.index
    for k in range(40):
        src, dst = (me + k) % 4, (me + k + 1) % 4
        with lock:
            ledger[src] = ledger[src] - 7
            ledger[dst] = ledger[dst] + 7


@scenario.process("crasher")
def crasher(ctx):
    lock.wait()  # takes the lock and dies holding it: SEM_UNDO gives it back
    os.kill(os.getpid(), signal.SIGKILL)


@scenario.check("the total is what the opener put in")
def total(run):
    data = run.state.objects["ledger"].data
    cells = [int.from_bytes(data[i * 8 : i * 8 + 8], "little", signed=True) for i in range(4)]
    return sum(cells) == 4 * START
