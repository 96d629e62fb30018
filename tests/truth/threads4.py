"""Four threads of one worker write one pipe and a segment (docs/scenarios.md, threads)."""

import sys
import threading

from ipcviz.scenario import Scenario

scenario = Scenario("threads", "four threads of one worker write a pipe and a segment")
p = scenario.pipe("p", writer="w", reader="r")
m = scenario.shared_memory("m", cells=4)
N = 300


@scenario.process("w")
def w(ctx):
    sys.setswitchinterval(1e-6)  # threads switch all the time

    def run(i):
        for k in range(N):
            p.write(bytes([65 + i]) * (10 + i))
            m[i] = k

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@scenario.process("r")
def r(ctx):
    n = 0
    while data := p.read(65536):
        n += len(data)
    ctx.report("n", n)


@scenario.check("every byte of every thread was read")
def all_read(run):
    return run.report("r", "n") == N * (10 + 11 + 12 + 13)
