"""The scenario picker (``ipcviz`` with no arguments): Enter runs the selected scenario."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ipcviz import bytefmt


class PickerScreen(Screen[None]):
    """A table of the built-in scenarios and the description of the selected one."""

    DEFAULT_CSS = """
    PickerScreen { background: #000000; color: #ffffff; }
    PickerScreen #title { height: 1; background: #ffd700; color: #000000; text-style: bold; }
    PickerScreen DataTable { height: 1fr; }
    PickerScreen #about { height: auto; max-height: 12; border: round #8a8a8a; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "run", "run", priority=True),
        Binding("R", "runs", "recent runs", key_display="R"),
        Binding("q,escape", "quit_picker", "quit"),
    ]

    def __init__(self, scenarios: list[Any]) -> None:
        super().__init__()
        self.scenarios = {s.id: s for s in scenarios}

    def compose(self) -> ComposeResult:
        yield Static(Text(" ipcviz — choose a scenario (Enter runs it)"), id="title")
        table: DataTable[Text] = DataTable(cursor_type="row", id="scenarios")
        yield table
        yield Static(id="about")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("id", key="id")
        table.add_column("title", key="title")
        table.add_column("teaches", key="teaches")
        for s in self.scenarios.values():
            table.add_row(
                Text(bytefmt.safe_text(s.id, 40), style="bold #ffd700"),
                Text(bytefmt.safe_text(s.title, 80)),
                Text(" ".join(bytefmt.safe_text(t, 8) for t in s.teaches), style="#87d7ff"),
                key=s.id,
            )
        table.focus()
        self._describe()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_run()

    def selected(self) -> Any | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.scenarios.get(key or "")

    def _describe(self) -> None:
        s = self.selected()
        text = Text()
        if s is not None:
            text.append(bytefmt.safe_text(s.title, 120) + "\n", style="bold")
            text.append(bytefmt.safe_text(s.description, 1000))
        self.query_one("#about", Static).update(text)

    def action_run(self) -> None:
        s = self.selected()
        if s is not None:
            self.app.start_scenario(s.source)  # type: ignore[attr-defined]

    def action_runs(self) -> None:
        from ipcviz.tui.runs_screen import RunsScreen

        self.app.push_screen(RunsScreen(lang=getattr(self.app, "lang", "en")))

    def action_quit_picker(self) -> None:
        self.app.exit(0)
