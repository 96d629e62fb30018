"""A lock's holder dies without posting it; the waiter is left asleep on it.

Forced by the declared schedule (no sleeps): the holder takes the lock first, then the
waiter blocks on it in the kernel, then the holder ends without posting: it returns (``exit``) or
kills itself with SIGKILL (``kill``). The semaphore: posix, sysv, or sysv-undo (System V
with SEM_UNDO: the kernel gives the unit back when the holder dies, the waiter gets it).
Chosen by the environment (the objects exist before any setting is read):
``HOLDER_DIES=posix,exit`` (the default), ``sysv-undo,kill``, …
"""

import os
import signal

from ipcviz.scenario import Scenario

scenario = Scenario(
    "holder-dies",
    "A lock's holder dies without posting it",
    teaches=["T33"],
    timeout=60,
    schedule="holder,waiter*,holder*",
)
kind, how = os.environ.get("HOLDER_DIES", "posix,exit").split(",")
if kind == "posix":
    lock = scenario.semaphore("lock", value=1)
else:
    lock = scenario.sysv_semaphore("lock", value=1, undo=kind == "sysv-undo")


@scenario.process("holder")
def holder(ctx):
    lock.wait()
    # one more operation while holding it (busy: it is taken): the schedule lets the
    # waiter block on the lock first, so the holder dies with a waiter asleep on it
    lock.try_wait()
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    # returns holding the lock: nobody posts it


@scenario.process("waiter")
def waiter(ctx):
    lock.wait()
    ctx.report("got", True)
    lock.post()


@scenario.check("the waiter got the lock")
def got(run):
    return bool(run.report("waiter", "got")), str(run.reports)
