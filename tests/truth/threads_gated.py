"""Three threads of one worker pass the step gate one operation at a time: two write a pipe
and send to a small queue (they block in the kernel when it is full), the third receives.
Run with --seed N, --schedule or --step (tests/truth/test_threads_gated.py)."""

import threading

from ipcviz.scenario import Scenario

scenario = Scenario("threads-gated", "three threads of one worker, each stepped by the gate")
p = scenario.pipe("p", writer="w", reader="r")
q = scenario.posix_queue("q", max_messages=2, max_message_size=64)
K = 5


@scenario.process("w")
def w(ctx):
    got = []

    def send(i):
        for k in range(K):
            p.write(bytes([65 + i]) * (4 + i))
            q.send(b"%d:%d" % (i, k))

    def receive():
        for _ in range(2 * K):
            got.append(q.receive()[0])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    threads.append(threading.Thread(target=receive))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ctx.report("received", len(got))


@scenario.process("r")
def r(ctx):
    n = 0
    while data := p.read(65536):
        n += len(data)
    ctx.report("n", n)


@scenario.check("every byte of both writing threads was read")
def all_read(run):
    return run.report("r", "n") == K * (4 + 5)


@scenario.check("every message was received")
def all_received(run):
    return run.report("w", "received") == 2 * K
