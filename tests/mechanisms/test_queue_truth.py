"""A queue on screen never holds more than the kernel lets it: a send that waited on a full
queue enters it when the wait ends (it used to be stamped when the wait began)."""

from __future__ import annotations

from pathlib import Path

from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from tests.conftest import ipcviz, read_trace


def test_the_model_never_shows_more_messages_than_the_queue_holds(tmp_path: Path):
    trace = tmp_path / "t.jsonl"
    result = ipcviz("run", "mq-priority", "--headless", "--record", str(trace))
    assert result.returncode == 0, result.stdout[-1500:]
    header, events = read_trace(trace)
    state = State(header=header)
    blocked_sends = 0
    for e in events:
        apply(state, e)
        if e["kind"] == "mq.send.begin":
            blocked_sends += 1  # a begin of its own: this send was seen waiting
        q = state.objects.get("q")
        if isinstance(q, QueueObj) and q.max_messages:
            assert len(q.messages) <= q.max_messages, f"over the limit at seq {e['seq']}"
    assert blocked_sends >= 1  # the scenario did fill the queue and make a send wait


NONBLOCKING = """
from ipcviz.scenario import Scenario

scenario = Scenario("mq-nonblock", "try_send and try_receive on a queue of 2")
q = scenario.posix_queue("q", max_messages=2, max_message_size=64)
# forced, not waited for: the receiver is refused on the empty queue before the sender
# starts, and the sender is refused on the full queue before the receiver goes on
start = scenario.semaphore("start", value=0)
go = scenario.semaphore("go", value=0)


@scenario.process("snd")
def snd(ctx):
    start.wait()
    refused, i = 0, 0
    while i < 8:
        if q.try_send(f"m{i}".encode(), priority=i % 3):
            i += 1
        else:
            refused += 1
            if refused == 1:
                go.post()
            ctx.sleep(0.01)
    ctx.report("refused", refused)


@scenario.process("rcv")
def rcv(ctx):
    got, empty = 0, 0
    if q.try_receive() is None:  # nothing was sent yet: refused
        empty += 1
    start.post()
    go.wait()
    while got < 8:
        if q.try_receive() is None:
            empty += 1
            ctx.sleep(0.005)
        else:
            got += 1
    ctx.report("empty", empty)
"""


def test_a_refused_nonblocking_send_or_receive_is_shown_where_the_queue_was_full_or_empty(
    tmp_path: Path,
):
    """try_send on a full queue and try_receive on an empty one (EAGAIN) left no record:
    the lecture's point (O_NONBLOCK: a full queue refuses instead of blocking) was not on
    the screen, and a receive that came after the refused send could be shown before it,
    with the queue never full ("[1 queued]" where the kernel held 2). Each refusal is an
    ``mq.again`` event now, legal only on a full (send) or empty (receive) queue."""
    source = tmp_path / "nonblock.py"
    source.write_text(NONBLOCKING)
    trace = tmp_path / "t.jsonl"
    result = ipcviz("run", str(source), "--headless", "--record", str(trace))
    assert result.returncode == 0, result.stdout[-1500:]
    header, events = read_trace(trace)
    reports = {e["key"]: e["value"] for e in events if e["kind"] == "report"}
    again = [e for e in events if e["kind"] == "mq.again"]
    assert sum(bool(e["send"]) for e in again) == reports["refused"] > 0
    assert sum(not e["send"] for e in again) == reports["empty"] > 0
    assert [e for e in events if e["kind"] == "order.conflict"] == []
    state = State(header=header)
    for e in events:
        if e["kind"] == "mq.again":
            q = state.objects["q"]
            assert isinstance(q, QueueObj)
            assert len(q.messages) == (2 if e["send"] else 0), e
        apply(state, e)
    verify = ipcviz("verify", str(trace))
    assert verify.returncode == 0 and "legal history" in verify.stdout, verify.stdout[-1500:]
    assert "refused (EAGAIN)" in result.stdout


TYPED_NOWAIT = """
from ipcviz.scenario import Scenario

scenario = Scenario("sysv-nowait", "msgrcv IPC_NOWAIT of one type")
q = scenario.sysv_queue("q")


@scenario.process("snd")
def snd(ctx):
    for i in range(6):
        q.send(f"t{1 + i % 2}-{i}".encode(), mtype=1 + i % 2)
        ctx.sleep(0.01)


@scenario.process("rcv")
def rcv(ctx):
    got, none = [], 0
    while len(got) < 3:
        m = q.try_receive(2)
        if m is None:
            none += 1
            ctx.sleep(0.004)
        else:
            got.append(m[0].decode())
    while len(got) < 6:
        got.append(q.receive(1)[0].decode())
    ctx.report("none", none)
    ctx.report("got", got)
"""


def test_a_typed_nonblocking_system_v_receive_keeps_its_type(tmp_path: Path):
    """``try_receive(2)`` on a System V queue recorded no begin, so the type it asked for
    was lost: each receive of a type-2 message past an older type-1 one was "receive
    returned a message other than the one the kernel selects" (an order.conflict a
    message, ``ipcviz verify`` failing), and a refusal (ENOMSG) was not shown at all."""
    source = tmp_path / "typed_nowait.py"
    source.write_text(TYPED_NOWAIT)
    trace = tmp_path / "t.jsonl"
    result = ipcviz("run", str(source), "--headless", "--record", str(trace))
    assert result.returncode == 0, result.stdout[-1500:]
    header, events = read_trace(trace)
    reports = {e["key"]: e["value"] for e in events if e["kind"] == "report"}
    assert reports["got"][:3] == ["t2-1", "t2-3", "t2-5"]
    assert [e for e in events if e["kind"] == "order.conflict"] == [], result.stdout[-1500:]
    again = [e for e in events if e["kind"] == "mq.again"]
    assert len(again) == reports["none"] > 0 and all(e["want"] == 2 for e in again)
    verify = ipcviz("verify", str(trace))
    assert verify.returncode == 0 and "legal history" in verify.stdout, verify.stdout[-1500:]
    state = State(header=header)
    for e in events:
        apply(state, e)
    q = state.objects["q"]
    assert isinstance(q, QueueObj) and q.receivers_waiting == []  # nobody left "waiting"
    assert "no such message, refused (ENOMSG)" in result.stdout
