"""A worker that raises on the first run only (a marker file tells it it ran before): a
retried run would pass and hide the error; explore must show it (exit 2, trace kept)."""

import os

from ipcviz.scenario import Scenario

scenario = Scenario(
    "first-time-fails", "a worker that raises the first time only", params={"marker": ""}
)
cell = scenario.shared_memory("cell", cells=1)


@scenario.process("a")
def a(ctx):
    cell[0] = 1
    marker = ctx.params["marker"]
    if marker and not os.path.exists(marker):
        with open(marker, "x"):
            pass
        raise RuntimeError("the first run fails")


@scenario.process("b")
def b(ctx):
    cell[0] = 2
