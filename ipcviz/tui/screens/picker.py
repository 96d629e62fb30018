"""The scenario picker (``ipcviz`` with no arguments): Enter runs the selected scenario.

Scenarios come in lecture order (by their first teaching point), grouped by the notes'
sections; each teaching point is shown with a few words saying what it is."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ipcviz import bytefmt
from ipcviz.draw import palette as P
from ipcviz.i18n import N_, _, get_lang
from ipcviz.scenario.lecture import first_point, gloss, lecture_order, section_of
from ipcviz.tui.lang import LANG_BINDING, Worded
from ipcviz.tui.messages import OpenRuns, RunScenario

#: The table's columns: (key, label).
COLUMNS = (
    ("section", N_("lecture")),
    ("id", N_("id")),
    ("teaches", N_("teaches")),
    ("title", N_("title")),
)


def authored(scenario: Any, field: str) -> str:
    """A scenario's title or description as its author wrote it in the language now
    chosen (``title_ko``), else in English."""
    lang = get_lang()
    if lang != "en":
        value = getattr(scenario, f"{field}_{lang}", None)
        if value:
            return str(value)
    return str(getattr(scenario, field, "") or "")


class PickerScreen(Worded, Screen[None]):
    """A table of the built-in scenarios and the description of the selected one."""

    DEFAULT_CSS = """
    PickerScreen { background: $background; color: $foreground; }
    PickerScreen #title { height: 1; background: $primary; color: $background; text-style: bold; }
    PickerScreen DataTable { height: 1fr; }
    PickerScreen #about { height: auto; max-height: 12; border: round $frame; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "run", N_("run"), priority=True),
        Binding("R", "runs", N_("recent runs"), key_display="R"),
        Binding("q,escape", "quit_picker", N_("quit")),
        LANG_BINDING,
    ]

    def __init__(self, scenarios: list[Any]) -> None:
        super().__init__()
        self.scenarios = {s.id: s for s in lecture_order(scenarios)}

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        table: DataTable[Text] = DataTable(cursor_type="row", id="scenarios")
        yield table
        yield Static(id="about")
        yield Footer()

    def on_mount(self) -> None:
        self.relabel()
        self.query_one(DataTable).focus()

    def relabel(self) -> None:
        """The table and the description in the language now chosen: rebuilt whole (a few
        dozen rows), the cursor kept on the same scenario."""
        self.query_one("#title", Static).update(
            Text(" " + _("ipcviz — choose a scenario (Enter runs it)"))
        )
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        for key, label in COLUMNS:
            table.add_column(_(label), key=key)
        section = None
        for s in self.scenarios.values():
            here = section_of(first_point(s))
            label = f"{here[0]} {here[1]}".strip() if here != section else ""
            section = here
            teaches = Text(bytefmt.safe_text(str(gloss(first_point(s))), 40), style=P.SKY)
            if len(s.teaches) > 1:
                teaches.append(f" +{len(s.teaches) - 1}", style=P.FRAME)
            table.add_row(
                Text(bytefmt.safe_text(str(label), 60), style=P.bold(P.WHITE)),
                Text(bytefmt.safe_text(s.id, 40), style=P.bold(P.GOLD)),
                teaches,
                Text(bytefmt.safe_text(authored(s, "title"), 80)),
                key=s.id,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
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
            text.append(bytefmt.safe_text(authored(s, "title"), 120) + "\n", style="bold")
            text.append(bytefmt.safe_text(authored(s, "description"), 1000))
            if s.teaches:
                text.append("\n" + _("teaches:") + " ", style="bold")
                text.append(
                    "; ".join(bytefmt.safe_text(str(gloss(t)), 60) for t in s.teaches),
                    style=P.SKY,
                )
        self.query_one("#about", Static).update(text)

    def action_run(self) -> None:
        s = self.selected()
        if s is not None:
            self.post_message(RunScenario(s.source))

    def action_runs(self) -> None:
        self.post_message(OpenRuns())

    def action_quit_picker(self) -> None:
        self.app.exit(0)
