"""Two processes, each reading first the pipe only the other writes: a deadlock by structure.

a reads p (only b writes p), b reads q (only a writes q): both sleep in read() for ever.
No semaphore anywhere; the cycle goes through the pipes' write ends.
"""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "pipe-cycle",
    "Two pipes read in a circle: deadlock",
    teaches=["T34"],
    description="a waits to read p, whose only writer b waits to read q, whose only writer is a.",
    timeout=60,
)
p = scenario.pipe("p", writer="b", reader="a")
q = scenario.pipe("q", writer="a", reader="b")


@scenario.process("a")
def a(ctx):
    data = p.read(64)  # b writes p only after it has read q: never
    q.write(data)
    ctx.report("through", True)


@scenario.process("b")
def b(ctx):
    data = q.read(64)
    p.write(data)
    ctx.report("through", True)


@scenario.check("the deadlock was named with its cycle through the pipes")
def named(run):
    cycles = run.state.deadlocks
    links = (
        sorted((c["proc"], c["op"], c["waits_for"], c["held_by"]) for c in cycles[0])
        if cycles
        else []
    )
    return links == [("a", "read", "p", "b"), ("b", "read", "q", "a")], str(links)
