"""How a process held at its step gate, or caught in a deadlock, is marked in the process
table (pure drawing: rich Text from the model; the step-mode keys are the TUI's,
``ipcviz/tui/screens/stepping.py``)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from ipcviz import bytefmt
from ipcviz.i18n import _, ngettext
from ipcviz.model.state import Proc, State


def gate_text(p: Proc) -> Text | None:
    """``at gate → sem.wait lock_a``: what a held process is about to do."""
    if not p.gated_op or not p.alive:
        return None
    on = f" {bytefmt.safe_text(str(p.gated_obj), 20)}" if p.gated_obj else ""
    # threads of it at their own gates: the step goes to the one shown (its lowest)
    more = (
        " "
        + ngettext("(+{n} thread)", "(+{n} threads)", len(p.gated) - 1).format(n=len(p.gated) - 1)
        if len(p.gated) > 1
        else ""
    )
    said = _("at gate → {op}{obj}{more}").format(
        op=bytefmt.safe_text(str(p.gated_op), 20), obj=on, more=more
    )
    return Text(said, style="bold #5fd7ff")


def current_deadlock(state: State) -> dict[str, Any] | None:
    """The deadlock the engine proved and nobody broke yet (None once it is resolved)."""
    current = state.deadlock
    if isinstance(current, list):  # a trace recorded before "stuck" existed: the cycle only
        current = {"cycle": current}
    return current or None


def deadlock_text(state: State, p: Proc) -> Text | None:
    """``DEADLOCK: waits for lock_b, held by right`` for a process of the current deadlock."""
    current = current_deadlock(state)
    if current is None or not p.alive:
        return None
    from ipcviz.model.analysis.holders import stranded
    from ipcviz.model.analysis.waitfor import wait_text

    if stranded(state, current):  # its holder died: the holder banner says it, with g
        for row in current.get("stuck") or ():
            if row.get("pid") == p.pid:
                what = bytefmt.safe_text(str(row.get("waits_for", "")), 30)
                return Text(
                    _("STRANDED on {obj}: its holder died").format(obj=what),
                    style="bold #ff5f5f",
                )
        return None

    for link in current.get("cycle") or ():
        if link.get("pid") == p.pid:
            what = bytefmt.safe_text(str(wait_text(link)), 80)
            return Text(_("DEADLOCK: {what}").format(what=what), style="bold #ff5f5f")
    for row in current.get("stuck") or ():
        if row.get("pid") == p.pid:
            what = bytefmt.safe_text(f"{row.get('op', '')} {row.get('waits_for', '')}", 30)
            return Text(_("DEADLOCK: {what}").format(what=what.strip()), style="bold #ff5f5f")
    return None
