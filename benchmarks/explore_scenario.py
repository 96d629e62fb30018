"""The benchmark's scenario for ``explore``: 100 operations at the step gate, nothing else.

Two workers add 1 to a shared counter 25 times each (a read and a write per increment),
with no narration step and no kernel probe of their own: what is measured is the cost of
an explored run itself (fork the engine and the workers, 100 gate round trips, check, clean
up), not the scenario's extras.
"""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "explore-bench",
    "100 operations at the step gate",
    params={"increments": 25},
    timeout=60,
)
counter = scenario.shared_memory("counter", cells=1)


@scenario.process("inc", count=2)
def increment(ctx):
    for _ in range(ctx.params["increments"]):
        counter[0] = counter[0] + 1
    ctx.report("done", ctx.params["increments"])


@scenario.check("every increment counted")
def counted(run):
    total = sum(r["done"] for r in run.reports.values())
    final = int.from_bytes(run.state.objects["counter"].data[0:8], "little", signed=True)
    return final == total, f"counter {final}, increments {total}"
