"""The TUI's words in the language now chosen, and how a screen follows a switch (``l``).

Key bindings are declared once, at import, with English descriptions marked ``N_``; Textual
reads ``Screen.active_bindings`` whenever it draws the footer, the help or the command
palette, so :class:`Worded` hands them out translated there, at draw time. A screen that
draws words of its own (titles, column labels) has a ``relabel()`` the app calls when the
language changes (``IpcvizApp.watch_lang``).
"""

from __future__ import annotations

import dataclasses

from textual.binding import ActiveBinding, Binding

from ipcviz.i18n import N_, _, get_lang, other_lang, set_lang

#: Textual's own keys (the command palette, ctrl+q), worded as ours in the footer and help.
N_("palette")
N_("Open the command palette")
N_("Quit")
N_("Quit the app and return to the command prompt.")

#: ``l`` on the screens that are not a session (picker, recent runs).
LANG_BINDING = Binding(
    "l", "toggle_lang", N_("en/ko"), tooltip=N_("the whole screen in English / Korean")
)

_translated: dict[tuple[Binding, str], Binding] = {}


def binding(b: Binding) -> Binding:
    """``b`` with its description and tooltip in the language now chosen."""
    lang = get_lang()
    if lang == "en":
        return b
    key = (b, lang)
    out = _translated.get(key)
    if out is None:
        out = dataclasses.replace(
            b,
            description=_(b.description) if b.description else "",
            tooltip=_(b.tooltip) if b.tooltip else "",
        )
        _translated[key] = out
    return out


def bindings(active: dict[str, ActiveBinding]) -> dict[str, ActiveBinding]:
    """Textual's active bindings, worded in the language now chosen."""
    if get_lang() == "en":
        return active
    return {
        key: ActiveBinding(
            ab.node, binding(ab.binding), ab.enabled, _(ab.tooltip) if ab.tooltip else ""
        )
        for key, ab in active.items()
    }


class Worded:
    """Mixin for a Screen: its footer, help and palette read the bindings in today's
    language. ``relabel`` redraws what the screen words itself (override it)."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return bindings(super().active_bindings)  # type: ignore[misc]

    def relabel(self) -> None:
        """Word again everything this screen drew in the previous language."""

    def action_toggle_lang(self) -> None:
        """``l``: every screen in the other language (the app words them all again)."""
        app = self.app  # type: ignore[attr-defined]
        if "lang" in getattr(type(app), "_reactives", {}):
            app.lang = other_lang()
        else:  # an app of a test's own: this screen only
            set_lang(other_lang())
            self.relabel()
            self.refresh_bindings()  # type: ignore[attr-defined]


def scenario_field(scenario: dict[str, object], field: str) -> str:
    """A scenario's ``title`` / ``description`` from a trace's header, in the language now
    chosen where its author wrote one (``title_ko``), else as written. Untrusted: the
    caller makes it inert."""
    lang = get_lang()
    if lang != "en":
        value = scenario.get(f"{field}_{lang}")
        if value:
            return str(value)
    return str(scenario.get(field, "") or "")
