"""Step mode with a two-thread worker, over the engine's control channel: each thread of
the worker waits at a gate of its own, and a step lets exactly the chosen thread go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ipcviz.draw.marks import gate_text
from ipcviz.model.reducer import apply_all
from ipcviz.model.state import Proc, State
from tests.conftest import ipcviz
from tests.control.test_step_mode import Live

SCENARIO = str(Path(__file__).parent / "scenarios" / "two_threads.py")


def _proc(live: Live, name: str) -> Proc:
    assert live.until(lambda s: any(p.name == name for p in s.procs.values()))
    return next(p for p in live.state.procs.values() if p.name == name)


def _writes(events: list[dict[str, Any]], pid: int) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == "pipe.write" and e["pid"] == pid]


def _refused(events: list[dict[str, Any]]) -> int:
    return sum(1 for e in events if e.get("action") == "step" and e.get("ok") is False)


def _step(live: Live, w: Proc, **target: Any) -> int:
    """Step ``w`` (its ``thread``, if given); wait until that thread is back at its gate
    and everything the engine emitted after the step is in (a refused step after it: the
    engine handles commands in order, its stream is ordered). The thread stepped."""
    thread = target.get("thread", min(w.gated))
    steps, refused = live.state.kinds.get("gate.step", 0), _refused(live.events)
    live.engine.send("step", pid=w.pid, **target)

    def back(s: State) -> bool:
        return s.kinds.get("gate.step", 0) == steps + 1 and thread in w.gated

    assert live.until(back)
    live.engine.send("step", pid=w.pid, thread=99)  # no such thread waits: refused
    assert live.until(lambda s: _refused(live.events) == refused + 1)
    return thread


def test_a_step_lets_exactly_the_chosen_thread_go(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    live = Live(SCENARIO, trace, timeout=120)
    try:
        w = _proc(live, "w")
        # both threads wait, each at its own gate, to write (thread 0, w's main thread,
        # waits in join, at no gate)
        assert live.until(lambda s: sorted(w.gated) == [1, 2])
        assert {op for op, _ in w.gated.values()} == {"pipe.write"}
        assert w.gated_op == "pipe.write"
        # step thread 2 by name: its write, and only its, goes through
        before = len(_writes(live.events, w.pid))
        assert _step(live, w, thread=2) == 2
        writes = _writes(live.events, w.pid)
        assert len(writes) == before + 1 and writes[-1].get("thread") == 2
        steps = [e for e in live.events if e["kind"] == "gate.step"]
        assert steps[-1]["pid"] == w.pid and steps[-1]["thread"] == 2
        assert sorted(w.gated) == [1, 2]  # thread 1 still waits; 2 is back for its 2nd write
        # a step of the process (as the TUI sends it) lets its lowest thread go: the one
        # the model shows (gated_op)
        assert _step(live, w) == 1
        writes = _writes(live.events, w.pid)
        assert len(writes) == before + 2 and writes[-1].get("thread") == 1
        # thread 2's second write, then it ends: it waits at no gate any more
        live.engine.send("step", pid=w.pid, thread=2)
        assert live.until(lambda s: len(_writes(live.events, w.pid)) == before + 3)
        assert _writes(live.events, w.pid)[-1].get("thread") == 2
        # back to free-running: the run completes and passes
        live.engine.send("step_mode", on=False)
        assert live.until(lambda s: s.outcome is not None) or live.state.outcome
        assert live.state.outcome == "passed"
    finally:
        live.close()
    result = ipcviz("verify", str(trace))
    assert result.returncode == 0 and "legal history" in result.stdout, result.stdout[:2000]


def test_the_model_shows_each_waiting_thread_of_a_process() -> None:
    """Two threads of one process at their gates: the process shows the lowest-numbered
    one's operation (the one a step of the process lets go) and says another waits; a
    step of one thread leaves the other's operation shown."""
    state = State(header={"scenario": {"objects": []}})
    wait = {"t": 1, "pid": 7, "kind": "gate.wait"}
    apply_all(
        state,
        [
            {"t": 0, "seq": 0, "pid": 7, "kind": "proc.start", "name": "w"},
            {**wait, "seq": 1, "op": "mq.send", "obj": "q", "thread": 2, "gate_fd": 9},
            {**wait, "seq": 2, "op": "pipe.write", "obj": "p", "thread": 1, "gate_fd": 8},
        ],
    )
    w = state.procs[7]
    assert (w.gated_op, w.gated_obj) == ("pipe.write", "p")
    text = gate_text(w)
    assert text is not None and text.plain == "at gate → pipe.write p (+1 thread)"
    step = {"t": 2, "seq": 3, "pid": 7, "kind": "gate.step", "op": "pipe.write", "by": "user"}
    apply_all(state, [{**step, "thread": 1}])
    assert (w.gated_op, w.gated_obj) == ("mq.send", "q") and list(w.gated) == [2]
    apply_all(state, [{**step, "seq": 4, "op": "mq.send", "thread": 2}])
    assert w.gated_op is None and not w.gated and gate_text(w) is None
