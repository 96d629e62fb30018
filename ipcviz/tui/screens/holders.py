"""A lock whose holder died, on the session screen: a banner, a notice, a way out.

The engine reports ``holder.died`` only with the kernel's proof (engine/deadlock.py): the
holder is dead, the semaphore at 0, and nobody left can post it. Live, the banner offers
the recovery: ``g`` posts it on the dead holder's behalf (what SEM_UNDO would have done),
``q`` ends the run. It stays while the dead process still holds the semaphore.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Static

from ipcviz import bytefmt
from ipcviz.i18n import N_, _
from ipcviz.model.analysis.holders import current, holder_text
from ipcviz.model.state import State

HOLDER_BINDINGS: list[BindingType] = [
    Binding(
        "g",
        "recover_holder",
        N_("post for dead holder"),
        show=False,
        tooltip=N_("a holder died with the semaphore taken: post it on its behalf"),
    )
]


class HolderBanner(Static):
    """A red line while a dead holder strands its waiters; hidden once given back."""

    DEFAULT_CSS = """
    HolderBanner { display: none; height: auto; background: $alarm; color: $foreground;
                   text-style: bold; padding: 0 1; }
    """

    def show(self, state: State, live: bool) -> list[dict[str, Any]]:
        reports = current(state)
        self.display = bool(reports)
        if reports:
            text = "; ".join(bytefmt.safe_text(str(holder_text(r)), 300) for r in reports)
            said = _("HOLDER DIED: {what}").format(what=text)
            if live:
                said += " — " + _("g: post it on the dead holder's behalf · q: end the run")
            self.update(Text(said))
        return reports


class HolderControls:
    """Mixin for ``SessionScreen``: needs ``state``, ``feed``, ``_live_feed``, ``notify``."""

    _holders_told: set[tuple[str, int]]

    def show_holders(self) -> None:
        """The banner follows the model; in a live run a new report is also a notification,
        once."""
        feed = self.feed  # type: ignore[attr-defined]
        shown = self.shown  # type: ignore[attr-defined]
        live = bool(feed is not None and feed.live and shown.outcome is None)
        reports = self.query_one(HolderBanner).show(shown, live)  # type: ignore[attr-defined]
        if not live:
            return  # a replay: the banner tells it, no notice pops up on every seek
        told = self.__dict__.setdefault("_holders_told", set())
        for r in reports:
            key = (str(r.get("obj")), int(r.get("holder", 0)))
            if key not in told:
                told.add(key)
                self.notify(  # type: ignore[attr-defined]
                    bytefmt.safe_text(str(holder_text(r)), 300)
                    + " "
                    + _("Press g to post it on its behalf, or q to end the run."),
                    title=_("holder died"),
                    severity="error",
                    markup=False,
                )

    def action_recover_holder(self) -> None:
        if not current(self.state):  # type: ignore[attr-defined]
            self.notify(
                _("post for dead holder: no dead holder strands anyone"), severity="warning"
            )  # type: ignore[attr-defined]
            return
        feed = self._live_feed(N_("post for dead holder"))  # type: ignore[attr-defined]
        if feed is not None:
            feed.send("recover")
