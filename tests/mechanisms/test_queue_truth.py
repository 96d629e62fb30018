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
