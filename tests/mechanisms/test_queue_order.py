"""Queues are drawn in the order the kernel delivers (T24): a POSIX queue highest priority
first and oldest first within a priority, a System V queue in arrival order.

Real processes: a sender fills both queues while the receiver waits on a semaphore, then
the receiver drains them. The model's queue just before the first receive, and the cells
the TUI draws from it, must list the messages in exactly the order the receiver got them.
"""

from __future__ import annotations

import re
from pathlib import Path

from ipcviz.mechanisms.posix_mq import view as queue_view
from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from tests.mechanisms.helpers import run_file

#: (priority or type, text) in the order they are sent: priorities out of order on purpose,
#: with ties, so both rules (priority first, FIFO within a priority) are exercised.
SENT = [(1, "a"), (5, "b"), (3, "c"), (5, "d"), (0, "e"), (3, "f"), (9, "g"), (1, "h")]

SOURCE = f"""
from ipcviz.scenario import Scenario

SENT = {SENT!r}
scenario = Scenario("queue-order", "queue order", teaches=["T24"])
scenario.step("go", "go", "가")
pq = scenario.posix_queue("pq", max_messages=10, max_message_size=16)
sq = scenario.sysv_queue("sq", max_message_size=16)
sent = scenario.semaphore("sent", value=0)


@scenario.process("sender")
def sender(ctx):
    ctx.step("go")
    for prio, text in SENT:
        pq.send(text.encode(), priority=prio)
        sq.send(text.encode(), mtype=prio + 1)
    sent.post()


@scenario.process("receiver")
def receiver(ctx):
    sent.wait()
    ctx.report("posix", [pq.receive()[0].decode() for _ in SENT])
    ctx.report("sysv", [sq.receive()[0].decode() for _ in SENT])


@scenario.check("received everything")
def everything(run):
    return len(run.report("receiver", "posix", [])) == len(SENT)
"""


def _cells(lines: list) -> list[str]:
    """The message cells of a drawn queue, left to right: ``prio 5·1B "b"`` → ``b``."""
    text = "\n".join("".join(seg.text for seg in line) for line in lines)
    return re.findall(r'(?:prio|type) -?\d+·\d+B "(\w)"', text)


def test_queues_are_held_and_drawn_in_delivery_order(tmp_path: Path):
    result, header, events = run_file(tmp_path, "queue_order", SOURCE)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    got = {
        key: next(e["value"] for e in events if e["kind"] == "report" and e["key"] == key)
        for key in ("posix", "sysv")
    }
    # what the kernel delivered: the rule, checked on the real kernel first
    assert got["posix"] == [t for _, t in sorted(SENT, key=lambda m: -m[0])]  # stable sort
    assert got["sysv"] == [t for _, t in SENT]

    state = State(header=header)
    first_recv = next(i for i, e in enumerate(events) if e["kind"] == "mq.recv")
    for e in events[:first_recv]:
        apply(state, e)
    for name, kind in (("pq", "posix"), ("sq", "sysv")):
        q = state.objects[name]
        assert isinstance(q, QueueObj) and len(q.messages) == len(SENT)
        assert [m[1].decode() for m in q.messages] == got[kind], name
        drawn = _cells(queue_view.queue_lines(state, q, width=400, rows=20))
        assert drawn == got[kind], name
    # the POSIX cells carry their priorities in delivery order: never a lower one first
    prios = [m[0] for m in state.objects["pq"].messages]
    assert prios == sorted(prios, reverse=True)
