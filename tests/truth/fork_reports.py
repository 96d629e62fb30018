"""fork-reports (written from docs/scenarios.md): a parent forks three children; each
sends three reports into one System V queue while the parent takes all nine."""

import os

from ipcviz.scenario import Scenario

scenario = Scenario("fork-reports", "Forked children report through one queue", timeout=30)
q = scenario.sysv_queue("reports")


@scenario.process("parent")
def parent(ctx):
    kids = []
    for k in range(3):
        pid = ctx.fork(f"child{k}")
        if pid == 0:
            for i in range(3):
                q.send(f"c{k}-{i}".encode())
            os._exit(0)
        kids.append(pid)
    for _ in range(9):
        q.receive()
    for pid in kids:
        os.waitpid(pid, 0)
