"""32 senders on one POSIX queue of 10 messages, one receiver (docs/scenarios.md)."""

from ipcviz.scenario import Scenario

scenario = Scenario("senders32", "32 senders, one queue", params={"each": 20}, quick={"each": 20})
q = scenario.posix_queue("q", max_messages=10, max_message_size=64)


@scenario.process("sender", count=32)
def sender(ctx):
    for i in range(ctx.params["each"]):
        q.send(f"{ctx.index}:{i}".encode(), priority=i % 3)


@scenario.process("receiver")
def receiver(ctx):
    for _ in range(32 * ctx.params["each"]):
        q.receive()
    ctx.report("got", 32 * ctx.params["each"])


@scenario.check("every message arrived")
def arrived(run):
    return run.report("receiver", "got") == 32 * run.params["each"]
