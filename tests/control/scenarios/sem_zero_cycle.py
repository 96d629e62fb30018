"""Two semaphores that start at 0, each posted only after a wait on the other: deadlock.

Nobody ever took them, so nobody "holds" them: there is no lock here, only two signals
that never come. (The engine posts nothing back when a victim is killed: nothing is held.)
POSIX semaphores; with --quick, System V ones.
"""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "sem-zero-cycle",
    "Two signals, each waited for before it is sent: deadlock",
    teaches=["T34"],
    params={"kind": "posix"},
    quick={"kind": "sysv"},
    timeout=60,
)
if scenario.params["kind"] == "sysv":
    go_a = scenario.sysv_semaphore("go_a", value=0)
    go_b = scenario.sysv_semaphore("go_b", value=0)
else:
    go_a = scenario.semaphore("go_a", value=0)
    go_b = scenario.semaphore("go_b", value=0)


@scenario.process("a")
def a(ctx):
    go_a.wait()  # b posts go_a only after go_b, which a posts only after this: never
    go_b.post()
    ctx.report("through", True)


@scenario.process("b")
def b(ctx):
    go_b.wait()
    go_a.post()
    ctx.report("through", True)


@scenario.check("the deadlock was named with its cycle through the semaphores")
def named(run):
    cycles = run.state.deadlocks
    links = (
        sorted((c["proc"], c["op"], c["waits_for"], c["held_by"]) for c in cycles[0])
        if cycles
        else []
    )
    return links == [("a", "sem", "go_a", "b"), ("b", "sem", "go_b", "a")], str(links)


@scenario.check("nobody got through")
def stuck(run):
    return not any(r.get("through") for r in run.reports.values()), str(run.reports)
