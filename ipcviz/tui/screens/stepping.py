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
from textual.widgets import Static

from ipcviz import bytefmt
from ipcviz.draw.marks import current_deadlock
from ipcviz.i18n import N_, _
from ipcviz.model.state import Proc, State

STEP_BINDINGS: list[BindingType] = [
    Binding(
        "t",
        "toggle_step",
        N_("step mode"),
        tooltip=N_("step mode on / off: processes wait before each IPC call"),
    ),
    Binding(
        "s", "step_selected", N_("step"), tooltip=N_("step mode: the selected process goes once")
    ),
    Binding("n", "step_random", N_("random"), tooltip=N_("step mode: a random process goes once")),
    *(
        Binding(
            str(i),
            f"step_number({i})",
            f"step #{i}",
            show=False,
            tooltip=N_("step mode: process number N of the table goes once"),
        )
        for i in range(1, 10)
    ),
]


def numbered(state: State) -> list[Proc]:
    """Processes in the order the table shows them (start order): number = index + 1."""
    return sorted(state.procs.values(), key=lambda p: (p.color, p.pid))


class DeadlockBanner(Static):
    """A red line under the status line while a deadlock stands; hidden once it is broken."""

    DEFAULT_CSS = """
    DeadlockBanner { display: none; height: auto; background: $alarm; color: $foreground;
                     text-style: bold; padding: 0 1; }
    """

    def show(self, state: State, live: bool) -> None:
        from ipcviz.model.analysis.holders import stranded
        from ipcviz.model.analysis.waitfor import deadlock_text as in_words

        current = current_deadlock(state)
        # a deadlock that a dead holder explains whole is the holder banner's (one hint: g)
        self.display = current is not None and not stranded(state, current)
        if current is None or not self.display:
            return
        text = bytefmt.safe_text(str(in_words(current)), 300)
        said = _("DEADLOCK: {what}").format(what=text)
        if live:
            said += " — " + _("select a victim and press k to break it")
        self.update(Text(said))


class StepControls:
    """Mixin for ``SessionScreen``: needs ``state``, ``_live_feed``, ``notify``, ProcTable,
    DeadlockBanner."""

    def action_toggle_step(self) -> None:
        feed = self._live_feed(N_("step mode"))  # type: ignore[attr-defined]
        if feed is not None:
            feed.send("step_mode", on=not self.state.step_mode)  # type: ignore[attr-defined]

    def action_step_selected(self) -> None:
        from ipcviz.tui.widgets.panels import ProcTable

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
        feed = self._live_feed(N_("step"))  # type: ignore[attr-defined]
        if feed is not None and not self.state.step_mode:  # type: ignore[attr-defined]
            self.notify(_("step: press t first (step mode)"), severity="warning", markup=False)  # type: ignore[attr-defined]
            return None
        return feed

    def _step(self, proc: Proc | None) -> None:
        feed = self._step_feed()
        if feed is None:
            return
        if proc is None or not proc.gated_op:
            self.notify(_("step: that process is not waiting at its gate"), severity="warning")  # type: ignore[attr-defined]
            return
        feed.send("step", pid=proc.pid)

    def show_deadlock(self) -> None:
        """The banner follows the model: shown while a deadlock stands, gone once resolved."""
        feed = self.feed  # type: ignore[attr-defined]
        shown = self.shown  # type: ignore[attr-defined]
        live = bool(feed is not None and feed.live and shown.outcome is None)
        self.query_one(DeadlockBanner).show(shown, live)  # type: ignore[attr-defined]
