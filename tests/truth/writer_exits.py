"""The writer exits without closing its end: the reader's end of file comes from the exit."""

from ipcviz.scenario import Scenario

scenario = Scenario("writer-exits", "End of file by exit", params={"n": 3}, quick={"n": 3})
p = scenario.pipe("p", writer="w", reader="r")


@scenario.process("w")
def w(ctx):
    for _ in range(ctx.params["n"]):
        p.write(b"x")


@scenario.process("r")
def r(ctx):
    while p.read(10):
        pass
