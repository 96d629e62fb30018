"""The ``?`` screen: every key of the screen it was opened on, and what it does.

Read from that screen's bindings when it opens (its own BINDINGS, inherited ones, the
app's), so the list cannot go stale: a key added to a screen is listed with its
``tooltip`` (or, failing that, its footer description).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ipcviz.draw import palette as P
from ipcviz.i18n import N_, _
from ipcviz.tui.lang import Worded

KEY_STYLE = P.on(P.BLACK, P.WHITE)


@dataclass
class KeyHelp:
    """One line of the help: the key(s) and what they do."""

    keys: str
    what: str


def keys_of(screen: Screen) -> list[KeyHelp]:
    """The keys that work on ``screen`` now, in its declaration order (a subclass's own
    keys first), then the app's.

    Textual's own generic screen keys (tab, copy) and the focused widget's keys (a table's
    cursor keys) are left out: they are not ipcviz's. A run of digit keys bound to the
    same action with different arguments (1..9: step process #N) is one line.
    """
    app = screen.app
    lines: list[KeyHelp] = []
    index: dict[tuple[str, str], KeyHelp] = {}
    digits: dict[str, KeyHelp] = {}
    declared: dict[str, int] = {}  # action → its place in the most derived BINDINGS first
    for cls in type(screen).__mro__:
        for b in cls.__dict__.get("BINDINGS", []):
            if isinstance(b, Binding):
                declared.setdefault(b.action, len(declared))
    active = screen.active_bindings.values()
    mine = sorted(
        (ab for ab in active if ab.node is screen),
        key=lambda ab: declared.get(ab.binding.action, len(declared)),
    )
    ours = mine + [ab for ab in active if ab.node is app]
    for ab in ours:
        binding = ab.binding
        if binding.action.startswith(("app.", "screen.")) or binding.system:
            continue
        what = binding.tooltip or binding.description or binding.action
        display = app.get_key_display(binding)
        base = binding.action.split("(")[0]
        if binding.key.isdigit() and base in digits:  # 1..9 → "1–9"
            group = digits[base]
            group.keys = f"{group.keys.split('–')[0]}–{display}"
            continue
        known = index.get((binding.action, what))
        if known is not None:  # plus,equals_sign: the same binding under two keys
            if display not in known.keys.split(" "):
                known.keys += f" {display}"
            continue
        line = KeyHelp(display, what)
        index[(binding.action, what)] = line
        if binding.key.isdigit():
            digits[base] = line
        lines.append(line)
    return lines


class HelpScreen(Worded, ModalScreen[None]):
    """Keys and their meaning; any of escape, q, ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; background: $background 70%; }
    HelpScreen > VerticalScroll { width: auto; max-width: 96%; height: auto; max-height: 96%;
                                  border: heavy $primary; background: $background;
                                  padding: 0 0 0 1; overflow-x: hidden;
                                  scrollbar-size-vertical: 1;
                                  border-title-color: $primary; border-title-style: bold; }
    /* its right padding is where the scroll bar goes when the list is taller than the box */
    HelpScreen Static { width: auto; height: auto; padding-right: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", N_("close"))
    ]

    def __init__(self, keys: list[KeyHelp], extra: list[KeyHelp] | None = None) -> None:
        super().__init__()
        self.keys = [*keys, *(extra or [])]

    def compose(self) -> ComposeResult:
        width = max((cell_len(k.keys) for k in self.keys), default=1)
        text = Text()
        for i, k in enumerate(self.keys):
            if i:
                text.append("\n")
            keys = " " * (width - cell_len(k.keys)) + k.keys  # right-aligned, by cells
            text.append(f" {keys} ", style=KEY_STYLE)
            text.append(f"  {k.what}")
        box = VerticalScroll(Static(text, id="help-keys"))
        box.border_title = _("ipcviz — keys  (esc closes)")
        yield box

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
