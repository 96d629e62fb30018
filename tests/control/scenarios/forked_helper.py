"""A worker waits on a pipe that only a child it forked itself will write, after a pause.

The child is no scenario process: only the kernel knows it. The worker sleeps in read()
and is the only scenario process; the program can still move (the child will write), so
it is no deadlock.
"""

import os
import time

from ipcviz.scenario import Scenario

scenario = Scenario(
    "forked-helper",
    "A worker's own child writes its pipe later",
    teaches=["T4"],
    params={"pause": 0.5},
    timeout=60,
)
p = scenario.pipe("p", writer="main", reader="main")


@scenario.process("main")
def main(ctx):
    child = os.fork()
    if child == 0:  # not instrumented: a plain write, then gone
        time.sleep(ctx.params["pause"])
        os.write(p.write_fd, b"late")
        os._exit(0)
    p.close_write()  # only the child can write now
    data = p.read(64)
    os.waitpid(child, 0)
    ctx.report("got", data.decode())


@scenario.check("the worker got the child's bytes")
def got(run):
    return run.report("main", "got") == "late", str(run.reports)
