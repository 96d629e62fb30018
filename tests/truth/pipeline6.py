"""Six pipe stages, written from docs/scenarios.md: each stage reads, adds one, passes on."""

from ipcviz.scenario import Scenario

scenario = Scenario("pipeline6", "Six pipe stages", params={"n": 300}, quick={"n": 300})
STAGES = 6
pipes = [scenario.pipe(f"p{i}", writer=f"stage{i}", reader=f"stage{i + 1}") for i in range(STAGES)]


@scenario.process("stage0")
def source(ctx):
    for i in range(ctx.params["n"]):
        pipes[0].write(i.to_bytes(4, "little"))
    pipes[0].close_write()


def _stage(k):
    def run(ctx):
        total = 0
        while data := pipes[k - 1].read_exactly(4):
            total += 1
            if k < STAGES:
                pipes[k].write((int.from_bytes(data, "little") + 1).to_bytes(4, "little"))
        if k < STAGES:
            pipes[k].close_write()
        ctx.report("count", total)

    return run


for _k in range(1, STAGES + 1):
    scenario.process(f"stage{_k}")(_stage(_k))


@scenario.check("every number went through every stage")
def through(run):
    return run.report(f"stage{STAGES}", "count") == run.params["n"]
