"""Recent runs: the recorded traces (scenario, date, duration, events, outcome); Enter replays.

Reachable from the picker (``R``). Only each trace's first and last line are read
(:func:`ipcviz.events.runs.list_runs`), so the list opens fast even with big traces.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ipcviz.bytefmt import safe_text
from ipcviz.errors import TraceError
from ipcviz.events.runs import RunInfo, list_runs

OUTCOME_STYLE = {"passed": "#5fd700", "failed": "#ff5f5f", "error": "#ff5f5f"}


class RunsScreen(Screen[None]):
    """A table of recorded runs, newest first."""

    DEFAULT_CSS = """
    RunsScreen { background: #000000; color: #ffffff; }
    RunsScreen #title { height: 1; background: #ffd700; color: #000000; text-style: bold; }
    RunsScreen DataTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "replay", "replay", priority=True),
        Binding("q,escape", "back", "back"),
    ]

    def __init__(self, directory: Path | None = None, lang: str = "en") -> None:
        super().__init__()
        self.directory = directory
        self.lang = lang
        self.runs: dict[str, RunInfo] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text(" recent runs — Enter replays the selected one"), id="title")
        yield DataTable(cursor_type="row", id="runs")
        yield Footer()

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        for col in ("started", "scenario", "duration", "events", "outcome", "file"):
            table.add_column(col, key=col)
        runs = list_runs(self.directory)
        if not runs:
            self.notify("no recorded runs yet", markup=False)
        for run in runs:
            key = str(run.path)
            self.runs[key] = run
            outcome = run.outcome or "incomplete"
            table.add_row(
                Text(run.started),
                Text(run.scenario, style="bold #ffd700"),
                Text(f"{run.duration:.2f} s", justify="right"),
                Text(f"{run.events:,}", justify="right"),
                Text(outcome, style=OUTCOME_STYLE.get(outcome, "#ffaf00")),
                Text(safe_text(run.path.name, 80), style="#8a8a8a"),
                key=key,
            )
        table.focus()

    def selected(self) -> RunInfo | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.runs.get(key or "")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_replay()

    def action_replay(self) -> None:
        from ipcviz.replay import TraceIndex
        from ipcviz.tui.replay_screen import ReplayScreen

        run = self.selected()
        if run is None:
            return
        try:
            index = TraceIndex.open(run.path)
        except TraceError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        screen = ReplayScreen(index, lang=self.lang)
        sessions = getattr(self.app, "sessions", None)
        if isinstance(sessions, list):
            sessions.append(screen)  # so the app stops its indexing on exit
        self.app.push_screen(screen)

    def action_back(self) -> None:
        self.app.pop_screen()
