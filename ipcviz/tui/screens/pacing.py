"""Pace keys for the session screen: ``<`` slower, ``>`` faster, ``u`` full speed.

A pace is the engine's step gate opened by a clock (``ipcviz/engine/gate.py``): at most N
IPC operations per second, one at a time, so a lecture hall can follow a queue filling up.
The screen only sends ``{"cmd": "pace", "ops": N}``; the engine records the change, and
the status line shows the pace the *model* holds (what the engine said), not what was asked.
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding, BindingType

from ipcviz.i18n import N_, _

#: The pace ladder (operations per second) that ``<`` and ``>`` walk; ``>`` past the top
#: is full speed, ``<`` from full speed starts at :data:`FIRST_PACE`.
PACES = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0)
FIRST_PACE = 10.0

PACE_BINDINGS: list[BindingType] = [
    Binding(
        "less_than_sign",
        "pace(-1)",
        N_("slower"),
        key_display="<",
        tooltip=N_("processes slower: at most N IPC operations a second, one by one"),
    ),
    Binding(
        "greater_than_sign",
        "pace(1)",
        N_("faster"),
        key_display=">",
        tooltip=N_("processes faster (after the fastest pace: full speed)"),
    ),
    Binding(
        "u",
        "pace(0)",
        N_("full speed"),
        show=False,
        tooltip=N_("no pace: processes at full speed"),
    ),
]


def next_pace(current: float | None, direction: int) -> float | None:
    """The pace after one ``<`` (-1) or ``>`` (+1) from ``current`` (None: full speed);
    a pace given with ``--pace`` that is not on the ladder moves to its neighbour."""
    if direction == 0:
        return None
    if current is None:
        return FIRST_PACE if direction < 0 else None
    if direction < 0:
        lower = [p for p in PACES if p < current]
        return lower[-1] if lower else PACES[0]
    higher = [p for p in PACES if p > current]
    return higher[0] if higher else None


def pace_label(pace: float | None) -> str:
    """``5 ops/s`` or ``full speed``: how the status line says it."""
    return _("full speed") if pace is None else _("{pace} ops/s").format(pace=f"{pace:g}")


class PaceControls:
    """Mixin for ``SessionScreen``: needs ``state``, ``_live_feed`` and ``notify``."""

    def current_pace(self) -> float | None:
        pace = self.state.pace  # type: ignore[attr-defined]
        return float(pace) if isinstance(pace, (int, float)) else None

    def action_pace(self, direction: int) -> None:
        feed: Any = self._live_feed(N_("pace"))  # type: ignore[attr-defined]
        if feed is None:
            return
        current = self.current_pace()
        wanted = next_pace(current, direction)
        if wanted == current:
            self.notify(_("pace: already {pace}").format(pace=pace_label(current)), markup=False)  # type: ignore[attr-defined]
            return
        feed.send("pace", ops=wanted)
