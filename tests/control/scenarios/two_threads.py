"""One worker, two threads, each writing the pipe twice (its own letter); r reads it all.

Stepped over the control channel (tests/control/test_step_threads.py): each thread waits
at a gate of its own, so a step lets exactly the chosen thread go.
"""

import threading

from ipcviz.scenario import Scenario

scenario = Scenario("two-threads", "two threads of one worker write a pipe", timeout=60)
p = scenario.pipe("p", writer="w", reader="r")


@scenario.process("w")
def w(ctx):
    def write(letter: bytes) -> None:
        for _ in range(2):
            p.write(letter * 4)

    threads = [threading.Thread(target=write, args=(c,)) for c in (b"A", b"B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@scenario.process("r")
def r(ctx):
    n = 0
    while data := p.read(64):
        n += len(data)
    ctx.report("n", n)


@scenario.check("every byte of both threads was read")
def all_read(run):
    return run.report("r", "n") == 16
