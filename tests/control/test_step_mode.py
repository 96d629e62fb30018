"""Step mode driven over the engine's control channel, as the TUI drives it."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any

from ipcviz.engine.client import EngineProcess
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.scenario.loader import resolve


class Live:
    """A real engine; its events are read by a thread and applied to a model here."""

    def __init__(self, scenario: str, trace: Path, timeout: float = 0.0, **options: Any) -> None:
        # step: the gates are closed before the workers start, so none can finish first
        options = options or {"step": True}
        self.engine = EngineProcess(
            resolve(scenario), trace, timeout=timeout, quick=True, **options
        )
        self.q: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        self.state: State | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for e in self.engine.events():
            self.q.put(e)
        self.q.put(None)

    def until(self, pred, timeout: float = 30.0) -> bool:
        """Apply events until ``pred(state)`` holds; False if the stream ended first."""
        deadline = time.monotonic() + timeout
        while True:
            if self.state is not None and pred(self.state):
                return True
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; last events: {self.events[-5:]}"
            e = self.q.get(timeout=left)
            if e is None:
                return False
            if self.state is None:
                self.state = State(header=e)
                continue
            self.events.append(e)
            apply(self.state, e)

    def gated(self, s: State) -> dict[str, str]:
        return {p.name: p.gated_op for p in s.procs.values() if p.gated_op}

    def close(self) -> int:
        self.engine.send("stop")
        self.until(lambda s: False)
        rc = self.engine.wait(30)
        self.engine.close()
        return rc


def step_in_order(live: Live, names: str) -> None:
    """Step these processes (by number: "13" = inc1, inc3), each back at its gate before
    the next: shm-race loses an update for sure only if the steps make it (see below)."""
    procs = {p.name: p for p in live.state.procs.values()}
    for n in names:
        steps = live.state.kinds.get("gate.step", 0)
        p = procs[f"inc{n}"]
        assert live.until(lambda s, p=p: p.gated_op is not None)
        live.engine.send("step", pid=p.pid)
        # The gate.step is the engine's answer to the command, not the operation itself:
        # wait until p is back at its next gate (its gate.step cleared gated_op, a new
        # gate.wait set it), else the next process may run before p's operation did.
        assert live.until(
            lambda s, k=steps + 1, p=p: s.kinds.get("gate.step", 0) == k and p.gated_op is not None
        )


def _refused(events: list[dict[str, Any]]) -> bool:
    return any(e.get("action") == "step" and e.get("ok") is False for e in events)


def test_step_mode_lets_exactly_one_operation_through(tmp_path: Path):
    live = Live("shm-race", tmp_path / "t.jsonl")
    try:
        # every worker stops at its gate; the model knows what each is about to do
        assert live.until(lambda s: len(live.gated(s)) == 3)
        assert set(live.gated(live.state).values()) <= {"shm.read", "shm.write"}
        n_ops = live.state.kinds["shm.read"] + live.state.kinds["shm.write"]
        inc2 = next(p for p in live.state.procs.values() if p.name == "inc2")
        before = inc2.gated_op
        live.engine.send("step", pid=inc2.pid)
        # inc2 performs that one operation and stops at its next gate
        assert live.until(lambda s: s.kinds["gate.step"] == 1 and inc2.gated_op is not None)
        # a process not at its gate cannot be stepped; the refusal is recorded. The engine
        # handles commands in order and its stream is ordered, so once the refusal is in,
        # everything the engine emitted after the step is in too: nothing else may have moved.
        live.engine.send("step", pid=12345678)
        assert live.until(lambda s: _refused(live.events))
        ops = [e for e in live.events if e["kind"] in ("shm.read", "shm.write")]
        assert len(ops) == n_ops + 1 and ops[-1]["pid"] == inc2.pid
        assert ops[-1]["kind"] == before
        assert inc2.gated_op != before  # read then write: the next one is the other
        assert live.state.kinds["gate.step"] == 1 and len(live.gated(live.state)) == 3
        live.engine.send("step_random")
        assert live.until(lambda s: s.kinds["gate.step"] == 2)
        # Whatever the random step was, these four leave a stale read that is written over a
        # newer value: an update is lost (the scenario's check), not left to the scheduler.
        step_in_order(live, "1313")
        # back to free-running: the run completes and passes
        live.engine.send("step_mode", on=False)
        assert live.until(lambda s: s.outcome is not None) or live.state.outcome
        assert live.state.outcome == "passed"
        assert not live.gated(live.state)
    finally:
        live.close()


def test_time_waiting_for_the_user_does_not_count_against_the_timeout(tmp_path: Path):
    live = Live("shm-race", tmp_path / "t.jsonl", timeout=1.0)
    try:
        assert live.until(lambda s: len(live.gated(s)) == 3)
        time.sleep(1.5)  # longer than the run's timeout, all of it spent waiting at gates
        step_in_order(live, "1212")  # read, read, write, write: inc1's update is lost
        live.engine.send("step_mode", on=False)
        assert live.until(lambda s: s.outcome is not None) or live.state.outcome
        why = [e for e in live.events if e["kind"] in ("error", "check")]
        assert live.state.outcome == "passed", why
    finally:
        live.close()
