"""Step mode keys for the session screen, and how gates and deadlocks are drawn.

``t`` toggles step mode (the engine closes every worker's gate), ``s`` lets the selected
process perform exactly one operation, ``1``..``9`` the process with that number (the order
of the process table), ``n`` a random waiting one. The TUI only sends commands; the engine
(``ipcviz.engine.gate``) decides and records every step, so the trace shows who moved.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding, BindingType

from ipcviz import bytefmt
from ipcviz.model.state import Proc, State

STEP_BINDINGS: list[BindingType] = [
    Binding("t", "toggle_step", "step mode"),
    Binding("s", "step_selected", "step"),
    Binding("n", "step_random", "step random"),
    *(Binding(str(i), f"step_number({i})", f"step #{i}", show=False) for i in range(1, 10)),
]


def numbered(state: State) -> list[Proc]:
    """Processes in the order the table shows them (start order): number = index + 1."""
    return sorted(state.procs.values(), key=lambda p: (p.color, p.pid))


def gate_text(p: Proc) -> Text | None:
    """``at gate → sem.wait lock_a``: what a held process is about to do."""
    if not p.gated_op or not p.alive:
        return None
    on = f" {bytefmt.safe_text(str(p.gated_obj), 20)}" if p.gated_obj else ""
    return Text(f"at gate → {bytefmt.safe_text(p.gated_op, 20)}{on}", style="bold #5fd7ff")


def deadlock_text(state: State, p: Proc) -> Text | None:
    """``DEADLOCK: waits for lock_b, held by right`` for a process in the current cycle."""
    for link in state.extra.get("deadlock") or ():
        if link.get("pid") == p.pid and p.alive:
            what = bytefmt.safe_text(str(link.get("waits_for")), 20)
            who = bytefmt.safe_text(str(link.get("held_by")), 20)
            return Text(f"DEADLOCK: waits for {what}, held by {who}", style="bold #ff5f5f")
    return None


class StepControls:
    """Mixin for ``SessionScreen``: needs ``state``, ``_live_feed``, ``notify``, ProcTable."""

    _deadlock_seen: Any = None

    def action_toggle_step(self) -> None:
        feed = self._live_feed("step mode")  # type: ignore[attr-defined]
        if feed is not None:
            feed.send("step_mode", on=not self.state.extra.get("step_mode", False))  # type: ignore[attr-defined]

    def action_step_selected(self) -> None:
        from ipcviz.tui.widgets import ProcTable

        pid = self.query_one(ProcTable).selected_pid()  # type: ignore[attr-defined]
        self._step(self.state.procs.get(pid) if pid is not None else None)  # type: ignore[attr-defined]

    def action_step_number(self, n: int) -> None:
        procs = numbered(self.state)  # type: ignore[attr-defined]
        self._step(procs[n - 1] if 0 < n <= len(procs) else None)

    def action_step_random(self) -> None:
        feed = self._step_feed()
        if feed is not None:
            feed.send("step_random")

    def _step_feed(self) -> Any:
        feed = self._live_feed("step")  # type: ignore[attr-defined]
        if feed is not None and not self.state.extra.get("step_mode"):  # type: ignore[attr-defined]
            self.notify("step: press t first (step mode)", severity="warning", markup=False)  # type: ignore[attr-defined]
            return None
        return feed

    def _step(self, proc: Proc | None) -> None:
        feed = self._step_feed()
        if feed is None:
            return
        if proc is None or not proc.gated_op:
            self.notify("step: that process is not waiting at its gate", severity="warning")  # type: ignore[attr-defined]
            return
        feed.send("step", pid=proc.pid)

    def show_deadlock(self) -> None:
        """Once per deadlock: name the cycle and say how to break it."""
        cycle = self.state.extra.get("deadlock")  # type: ignore[attr-defined]
        if not cycle or cycle is self._deadlock_seen:
            self._deadlock_seen = cycle or None
            return
        self._deadlock_seen = cycle
        from ipcviz.model.analysis.waitfor import cycle_text

        self.notify(  # type: ignore[attr-defined]
            bytefmt.safe_text(cycle_text(cycle), 300)
            + " — select a victim and press k to break it",
            title="DEADLOCK",
            severity="error",
            timeout=30,
            markup=False,
        )
