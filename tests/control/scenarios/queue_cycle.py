"""Two processes, each receiving first from the queue only the other sends to: deadlock.

POSIX message queues; with --quick, System V ones.
"""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "queue-cycle",
    "Two queues received from in a circle: deadlock",
    teaches=["T34"],
    params={"kind": "posix"},
    quick={"kind": "sysv"},
    timeout=60,
)
if scenario.params["kind"] == "sysv":
    to_a = scenario.sysv_queue("to_a")
    to_b = scenario.sysv_queue("to_b")
else:
    to_a = scenario.posix_queue("to_a")
    to_b = scenario.posix_queue("to_b")


@scenario.process("a")
def a(ctx):
    msg = to_a.receive()  # b sends to_a only after it received from to_b: never
    to_b.send(msg if isinstance(msg, bytes) else msg[0])
    ctx.report("through", True)


@scenario.process("b")
def b(ctx):
    msg = to_b.receive()
    to_a.send(msg if isinstance(msg, bytes) else msg[0])
    ctx.report("through", True)


@scenario.check("the deadlock was named with its cycle through the queues")
def named(run):
    cycles = run.state.deadlocks
    links = (
        sorted((c["proc"], c["op"], c["waits_for"], c["held_by"]) for c in cycles[0])
        if cycles
        else []
    )
    return links == [("a", "recv", "to_a", "b"), ("b", "recv", "to_b", "a")], str(links)
