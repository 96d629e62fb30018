"""A correct program in which a lock's taker exits without posting: another posts it.

``taker`` takes ``lock``, tells the waiter through a pipe, and ends; ``waiter`` reads that,
then blocks on the lock; ``giver`` (alive all along, never stuck: it polls /proc, asleep
in nanosleep) waits until the taker is dead and the waiter sleeps on the lock, then posts
it. The taker died "holding" the lock, the lock is at 0, a waiter sleeps on it: and yet
nobody is stranded. ipcviz must never say a holder died here. Plain ordering, no sleeps
that decide anything (the giver's polling only waits).
"""

import time

from ipcviz.scenario import Scenario

scenario = Scenario(
    "handoff",
    "A lock handed over: taken by one, posted by another",
    teaches=["T33"],
    timeout=60,
)
lock = scenario.semaphore("lock", value=1)
go = scenario.pipe("go", writer="taker", reader="waiter")


@scenario.process("taker")
def taker(ctx):
    lock.wait()
    go.write(b"!")


@scenario.process("waiter")
def waiter(ctx):
    go.read(1)  # the taker holds the lock by now
    lock.wait()
    ctx.report("got", True)


def _dead(pid: int, seconds: float = 30.0) -> bool:
    """Whether ``pid`` is a zombie or gone (polled: asleep in nanosleep, never stuck)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rpartition(")")[2].split()[0] in ("Z", "X"):
                    return True
        except OSError:
            return True
        time.sleep(0.005)
    return False


@scenario.process("giver")
def giver(ctx):
    dead = _dead(ctx.pid_of("taker"))
    wchan = ctx.wait_for_wchan(ctx.pid_of("waiter"), "futex", seconds=30)
    ctx.report("taker_dead", dead)
    ctx.report("waiter_asleep", "futex" in wchan)
    lock.post()


@scenario.check("the waiter got the lock the giver posted")
def got(run):
    return bool(run.report("waiter", "got")), str(run.reports)
