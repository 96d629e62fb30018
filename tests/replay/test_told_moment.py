"""The log's time column: the moment a call is told at, within the call, in the order told.

A call's stamp is its end. A new user (helper nu2) read, in the log of a legal order,
"1.0569s client1 sent "1 3" …; the call took 2.7 ms" followed by "1.0543s server received
"1 3"": a receive 2.6 ms before the send it took. A call is now told at the moment the
history has reached (``State.moment``: the latest begin of anything before it), capped at
its own end: each time is within its call, and the times go forward wherever the order
lets them (an order that respects real time always does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ipcviz.events.trace import TraceReader
from ipcviz.narrate.headless import Narrator
from ipcviz.scenario.loader import load_builtins
from tests.conftest import BuiltinTraces

MS = 1_000_000
HEADER: dict[str, Any] = {"kind": "session.start", "version": 1, "scenario": {"id": "t"}}


def _told(events: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(time told, event) of each event the log tells, fed in order."""
    narrator, told = Narrator(HEADER, "en"), []
    for seq, e in enumerate(events):
        entry = narrator.entry({**e, "seq": seq})
        if entry is not None:
            told.append((entry.t, e))
    return told


def test_a_receive_is_never_told_before_the_send_it_took() -> None:
    """Stamps inverted (the receive returned before the send did), the order legal."""
    events = [
        {"t": 0, "pid": 0, "kind": "obj.declare", "obj": "q", "type": "posix_mq",
         "max_messages": 4, "max_message_size": 64},
        {"t": 0, "pid": 10, "kind": "proc.start", "name": "client"},
        {"t": 0, "pid": 11, "kind": "proc.start", "name": "server"},
        {"t": 3 * MS, "since": 1 * MS, "pid": 10, "kind": "mq.send", "obj": "q",
         "prio": 0, "data": "MQ=="},
        {"t": 2 * MS, "since": MS // 2, "pid": 11, "kind": "mq.recv", "obj": "q",
         "prio": 0, "data": "MQ=="},
    ]  # fmt: skip
    told = _told(events)
    sent, received = told[-2][0], told[-1][0]
    assert [e["kind"] for _, e in told[-2:]] == ["mq.send", "mq.recv"]
    assert sent <= received, (sent, received)
    for t, e in told[-2:]:
        assert e["since"] <= t <= e["t"], (t, e)


def test_an_instant_keeps_its_own_time() -> None:
    """What has no begin (a start, an exit) is told at its stamp."""
    told = _told([
        {"t": 5 * MS, "pid": 10, "kind": "proc.start", "name": "a"},
        {"t": 7 * MS, "pid": 10, "kind": "proc.exit", "code": 0},
    ])  # fmt: skip
    assert [t for t, _ in told] == [5 * MS, 7 * MS]


@pytest.mark.parametrize("name", [s.id for s in load_builtins() if not s.id.startswith("c/")])
def test_every_builtin_log_tells_each_call_within_it_and_in_order(
    builtin_traces: BuiltinTraces, name: str
) -> None:
    """Each built-in scenario's recording (the shared ``--quick`` one): every call told
    between its begin and its end, and no time before the one above it unless that is
    past its end (an order that does not respect real time, which verify would name)."""
    _, trace = builtin_traces.run(name)
    reader = TraceReader.open(Path(trace))
    narrator, last = Narrator(reader.header, "en"), 0
    for e in reader.events():
        entry = narrator.entry(e)
        if entry is None:
            continue
        since = e.get("since")
        begun = since if isinstance(since, int) and since < e["t"] else e["t"]
        assert begun <= entry.t <= e["t"], (entry.t, e)
        assert entry.t >= last or e["t"] < last, (last, entry.t, e)
        last = max(last, entry.t)
