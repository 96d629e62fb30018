"""A scenario with a bug of its own (a worker raises): explore says so, exit 2."""

from ipcviz.scenario import Scenario

scenario = Scenario("raises", "a worker that raises")
cell = scenario.shared_memory("cell", cells=1)


@scenario.process("a")
def a(ctx):
    cell[0] = 1
    raise RuntimeError("boom")


@scenario.process("b")
def b(ctx):
    cell[0] = 2
