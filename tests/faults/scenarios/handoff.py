"""A correct program in which a lock's taker exits without posting: another posts it.

``taker`` takes ``lock`` and ends; ``waiter`` blocks on it; ``giver`` (alive all along,
not stuck: it polls the kernel) waits until the waiter sleeps on the lock, then posts it.
The taker died "holding" it, the lock is at 0, a waiter sleeps on it: and yet nobody is
stranded. ipcviz must never say a holder died here.
"""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "handoff",
    "A lock handed over: taken by one, posted by another",
    teaches=["T33"],
    timeout=60,
    schedule="taker,waiter*",
)
lock = scenario.semaphore("lock", value=1)


@scenario.process("taker")
def taker(ctx):
    lock.wait()


@scenario.process("waiter")
def waiter(ctx):
    lock.wait()
    ctx.report("got", True)


@scenario.process("giver")
def giver(ctx):
    # asleep in a poll loop (nanosleep: it wakes by itself), never stuck in IPC
    ctx.wait_for_wchan(ctx.pid_of("waiter"), ("futex", "sem"), seconds=30)
    lock.post()


@scenario.check("the waiter got the lock the giver posted")
def got(run):
    return bool(run.report("waiter", "got")), str(run.reports)
