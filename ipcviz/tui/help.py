"""The ``?`` screen: every key of the session screen and what it does."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

EXTRA = [
    ("ctrl+p", "command palette (every action by name)"),
    ("↑/↓", "select a process (for k and p)"),
    ("p", "event log: only the selected process (again: all)"),
    ("o", "event log: cycle through objects"),
    ("ctrl+c", "quit (same as q)"),
]

WHAT = {
    "toggle_pause": "pause / resume the VIEW (the processes keep running)",
    "toggle_freeze": "freeze / unfreeze the processes (SIGSTOP / SIGCONT)",
    "kill": "kill the selected process (SIGKILL)",
    "restart": "restart the scenario from the beginning",
    "faster": "redraw faster (up to 30 frames/s)",
    "slower": "redraw slower (down to 10 frames/s)",
    "toggle_lang": "narration in English / Korean",
    "help": "this help",
    "quit_session": "quit: stop the engine and clean up",
}


class HelpScreen(ModalScreen[None]):
    """Keys and their meaning; any of escape, q, ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; background: #000000 70%; }
    HelpScreen > Vertical { width: auto; max-width: 90%; height: auto; max-height: 90%;
                            border: heavy #ffd700; background: #000000; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "close")]

    def __init__(self, bindings: list[BindingType]) -> None:
        super().__init__()
        self.keys = bindings

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("ipcviz — keys\n\n", style="bold #ffd700")
        for b in self.keys:
            if not isinstance(b, Binding):
                continue
            key = b.key_display or b.key.split(",")[0]
            if key == "space":
                key = "space"
            text.append(f" {key:>7} ", style="bold #000000 on #ffffff")
            text.append(f"  {WHAT.get(b.action, b.description)}\n")
        for key, what in EXTRA:
            text.append(f" {key:>7} ", style="bold #000000 on #ffffff")
            text.append(f"  {what}\n")
        yield Vertical(Static(text))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
