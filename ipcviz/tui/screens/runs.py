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
from ipcviz.draw import palette as P
from ipcviz.events.runs import RunInfo, list_runs
from ipcviz.i18n import N_, _, set_lang
from ipcviz.session.cleanup import live_sessions
from ipcviz.tui.lang import LANG_BINDING, Worded
from ipcviz.tui.messages import ReplayRun

OUTCOME_STYLE = {"passed": P.GREEN, "failed": P.RED, "error": P.RED}


#: The table's columns: (key, label).
COLUMNS = (
    ("started", N_("started")),
    ("scenario", N_("scenario")),
    ("duration", N_("duration")),
    ("events", N_("events")),
    ("outcome", N_("outcome")),
    ("file", N_("file")),
)
#: How a run ended, in the table (a trace's own word: as it is, inert).
OUTCOMES = {
    "passed": N_("passed"),
    "failed": N_("failed"),
    "undecided": N_("undecided"),
    "error": N_("error"),
    "timeout": N_("timeout"),
    "stopped": N_("stopped"),
    "recording": N_("recording"),
    "incomplete": N_("incomplete"),
}


class RunsScreen(Worded, Screen[None]):
    """A table of recorded runs, newest first."""

    DEFAULT_CSS = """
    RunsScreen { background: $background; color: $foreground; }
    RunsScreen #title { height: 1; background: $primary; color: $background; text-style: bold; }
    RunsScreen DataTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "replay", N_("replay"), priority=True),
        Binding("q,escape", "back", N_("back")),
        LANG_BINDING,
    ]

    def __init__(self, directory: Path | None = None, lang: str | None = None) -> None:
        super().__init__()
        self.directory = directory
        if lang is not None:
            set_lang(lang)
        self.runs: dict[str, RunInfo] = {}
        self._listed: list[RunInfo] = []
        self._live: set[str] = set()  # sessions whose engine runs: their runs record

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield DataTable(cursor_type="row", id="runs")
        yield Footer()

    def on_mount(self) -> None:
        self._listed = list_runs(self.directory)
        self._live = live_sessions() if self._listed else set()
        if not self._listed:
            self.notify(_("no recorded runs yet"), markup=False)
        self.relabel()
        self.query_one(DataTable).focus()

    def relabel(self) -> None:
        """The title and the table in the language now chosen (the cursor kept)."""
        self.query_one("#title", Static).update(
            Text(" " + _("recent runs — Enter replays the selected one"))
        )
        table: DataTable[Text] = self.query_one(DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        for key, label in COLUMNS:
            table.add_column(_(label), key=key)
        for run in self._listed:
            key = str(run.path)
            self.runs[key] = run
            # no end yet: still recording (its engine runs), else cut off
            outcome = run.outcome or ("recording" if run.session in self._live else "incomplete")
            word = OUTCOMES.get(outcome)
            table.add_row(
                Text(safe_text(str(run.started), 40)),
                Text(safe_text(str(run.scenario), 40), style=P.bold(P.GOLD)),
                Text(f"{run.duration:.2f} s", justify="right"),
                Text(f"{run.events:,}", justify="right"),
                Text(
                    _(word) if word else safe_text(str(outcome), 20),
                    style=OUTCOME_STYLE.get(outcome, P.AMBER),
                ),
                Text(safe_text(run.path.name, 80), style=P.FRAME),
                key=key,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def selected(self) -> RunInfo | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.runs.get(key or "")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_replay()

    def action_replay(self) -> None:
        run = self.selected()
        if run is not None:
            self.post_message(ReplayRun(run.path))

    def action_back(self) -> None:
        self.app.pop_screen()
