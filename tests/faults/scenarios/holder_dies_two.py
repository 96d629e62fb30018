"""A lock's holder dies without posting it while two waiters sleep on it.

Forced by the declared schedule (no sleeps): the holder takes the lock, each waiter blocks
on it in the kernel (``waiter1*``: until it is asleep), then the holder returns holding
it. The two waiters are stranded by the dead holder; neither waits for the other.
"""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "holder-dies-two",
    "A lock's holder dies while two processes wait on it",
    teaches=["T33"],
    timeout=60,
    schedule="holder,waiter1*,waiter2*,holder*",
)
lock = scenario.semaphore("lock", value=1)


@scenario.process("holder")
def holder(ctx):
    lock.wait()
    lock.try_wait()  # busy: one more step while holding it, so both waiters block first


@scenario.process("waiter", count=2)
def waiter(ctx):
    lock.wait()
    ctx.report("got", True)
    lock.post()
