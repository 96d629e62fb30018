"""Two processes open two FIFOs in opposite order: each waits in open() for the other.

a opens f1 for reading then f2 for writing; b opens f2 for reading then f1 for writing.
open() of a FIFO blocks until the other end is opened too: both wait for ever.
"""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "fifo-cycle",
    "Two FIFOs opened in opposite order: deadlock",
    teaches=["T34"],
    timeout=60,
)
f1 = scenario.fifo("f1")
f2 = scenario.fifo("f2")


@scenario.process("a")
def a(ctx):
    f1.open_read()  # needs a writer on f1: b opens f1 only after f2, which needs a
    f2.open_write()
    ctx.report("through", True)


@scenario.process("b")
def b(ctx):
    f2.open_read()
    f1.open_write()
    ctx.report("through", True)


@scenario.check("the deadlock was named with its cycle through the FIFOs")
def named(run):
    cycles = run.state.deadlocks
    links = (
        sorted((c["proc"], c["op"], c["waits_for"], c["held_by"]) for c in cycles[0])
        if cycles
        else []
    )
    return links == [("a", "open", "f1", "b"), ("b", "open", "f2", "a")], str(links)
