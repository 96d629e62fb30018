"""The scenario picker (``ipcviz`` with no arguments): Enter runs the selected scenario.

Scenarios come in lecture order (by their first teaching point), grouped by the notes'
sections; each teaching point is shown with a few words saying what it is.

On a small screen (80x24, a projector) the table holds a dozen of the 30-odd scenarios: the
title line says which one is selected of how many, in which section, and how many rows are
above and below; Home/End reach the first and last, PgUp/PgDn a page. The columns are made to
fit the width (the title column, repeated in the description below, goes first), so no
horizontal scroll bar takes a row and the cursor's row is read whole."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.events import Resize
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


#: Below this many rows the description panel takes ``SHORT_ABOUT`` rows (its border
#: included), else ``TALL_ABOUT``: at 24 rows the table keeps a dozen. A fixed height: one
#: that followed the description moved the table's bottom, hiding the cursor's row under it
#: (End showed the last-but-one scenario).
SHORT_BELOW = 30
SHORT_ABOUT = 8
TALL_ABOUT = 12
#: A column's cells are padded one cell each side (DataTable's ``cell_padding``).
PAD = 2
#: The title column is shown only when it has at least this many cells.
MIN_TITLE = 16


class ScenarioTable(DataTable[Text]):
    """The scenarios, one per row. Home and End go to the first and last scenario (a
    DataTable's own Home/End scroll sideways, which a row cursor does not need)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", show=False),
        Binding("end", "scroll_bottom", show=False),
    ]

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """The title line's "↑ above ↓ below" follows the scrolling too (the mouse wheel
        scrolls without moving the cursor)."""
        super().watch_scroll_y(old_value, new_value)
        screen = self.screen
        if isinstance(screen, PickerScreen):
            screen.show_where()


def column_widths(natural: dict[str, int], width: int) -> dict[str, int]:
    """Each column's width so the table fits in ``width`` cells: the title column (the
    description repeats it) goes first, cut to what is left or left out, then the glosses
    are cut; a column of 0 is not shown."""
    widths = dict(natural)
    fixed = widths["section"] + widths["id"] + widths["teaches"] + 3 * PAD
    left = width - fixed - PAD
    if left >= MIN_TITLE:
        widths["title"] = min(widths["title"], left)
        return widths
    widths["title"] = 0
    widths["teaches"] = max(8, min(widths["teaches"], width - fixed + widths["teaches"]))
    return widths


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

    DEFAULT_CSS = f"""
    PickerScreen {{ background: $background; color: $foreground; }}
    PickerScreen #top {{ height: 1; background: $primary; color: $background; }}
    PickerScreen #title {{ width: 1fr; height: 1; text-style: bold; }}
    PickerScreen #where {{ width: auto; height: 1; padding: 0 1; }}
    PickerScreen DataTable {{ height: 1fr; overflow-x: hidden; }}
    PickerScreen #about {{ height: {TALL_ABOUT}; border: round $frame; padding: 0 1; }}
    PickerScreen.-short #about {{ height: {SHORT_ABOUT}; }}
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "run", N_("run"), priority=True),
        Binding("R", "runs", N_("recent runs"), key_display="R"),
        Binding("q,escape", "quit_picker", N_("quit")),
        LANG_BINDING,
    ]

    def __init__(self, scenarios: list[Any]) -> None:
        super().__init__()
        self._made_for = 0  # the width the columns were made for
        self.scenarios = {s.id: s for s in lecture_order(scenarios)}

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Static(id="title")
            yield Static(id="where")
        yield ScenarioTable(cursor_type="row", id="scenarios")
        yield Static(id="about")
        yield Footer()

    def on_mount(self) -> None:
        self.relabel()
        self.query_one(DataTable).focus()

    def on_resize(self, event: Resize) -> None:
        """Columns made again for the new width; a short screen gives the table the rows."""
        self.set_class(event.size.height < SHORT_BELOW, "-short")
        if event.size.width != self._made_for:
            self.relabel()
        else:
            self._describe()  # cut to the panel's new height
        self.call_after_refresh(self.show_where)  # once the table has its new height

    def relabel(self) -> None:
        """The table and the description in the language now chosen: rebuilt whole (a few
        dozen rows), the cursor kept on the same scenario."""
        self.query_one("#title", Static).update(
            Text(" " + _("ipcviz — choose a scenario (Enter runs it)"))
        )
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        rows = list(self._rows())
        natural = {
            key: max([cell_len(_(label))] + [r[i].cell_len for r in rows])
            for i, (key, label) in enumerate(COLUMNS)
        }
        # the table's width, less its vertical scroll bar
        self._made_for = self.size.width
        widths = column_widths(natural, self.size.width - 2) if self.size.width else natural
        shown = [i for i, (key, _label) in enumerate(COLUMNS) if widths[key]]
        for i in shown:
            key, label = COLUMNS[i]
            table.add_column(_(label), key=key, width=widths[key])
        for s, cells in zip(self.scenarios.values(), rows, strict=True):
            for i in shown:  # a cell cut to its column ends in "…" (a table crops it bare)
                cells[i].truncate(widths[COLUMNS[i][0]], overflow="ellipsis")
            table.add_row(*(cells[i] for i in shown), key=s.id)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self._describe()

    def _rows(self) -> Iterator[list[Text]]:
        """Each scenario's cells, in ``COLUMNS`` order; a section's name on its first row."""
        section = None
        for s in self.scenarios.values():
            here = section_of(first_point(s))
            label = f"{here[0]} {here[1]}".strip() if here != section else ""
            section = here
            teaches = Text(bytefmt.safe_text(str(gloss(first_point(s))), 40), style=P.SKY)
            if len(s.teaches) > 1:
                teaches.append(f" +{len(s.teaches) - 1}", style=P.FRAME)
            yield [
                Text(bytefmt.safe_text(str(label), 60), style=P.bold(P.WHITE)),
                Text(bytefmt.safe_text(s.id, 40), style=P.bold(P.GOLD)),
                teaches,
                Text(bytefmt.safe_text(authored(s, "title"), 80)),
            ]

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

    def show_where(self) -> None:
        """The title line's right end: the selected scenario's section, its place among
        all, and how many rows the table hides above and below (none when all fit)."""
        table = self.query_one(DataTable)
        s = self.selected()
        text = Text()
        if s is not None:
            section = " ".join(str(x) for x in section_of(first_point(s))).strip()
            if section:
                text.append(bytefmt.safe_text(section, 40) + " · ", style="bold")
            text.append(_("{n} of {total}").format(n=table.cursor_row + 1, total=table.row_count))
            seen = max(0, table.scrollable_content_region.height - table.header_height)
            above = round(table.scroll_y)
            below = max(0, table.row_count - above - seen)
            if seen and (above or below):
                text.append(f"  ↑{above} ↓{below}")
        self.query_one("#where", Static).update(text)

    def _describe(self) -> None:
        self.show_where()
        s = self.selected()
        text = Text()
        if s is not None:
            title = Text(bytefmt.safe_text(authored(s, "title"), 120), style="bold")
            about = Text(bytefmt.safe_text(authored(s, "description"), 1000))
            teaches = Text()
            if s.teaches:
                teaches.append(_("teaches:") + " ", style="bold")
                teaches.append(
                    "; ".join(bytefmt.safe_text(str(gloss(t)), 60) for t in s.teaches),
                    style=P.SKY,
                )
            text = Text("\n").join(
                [title, self._fitted(about, title, teaches)] + ([teaches] if s.teaches else [])
            )
        self.query_one("#about", Static).update(text)

    def _fitted(self, about: Text, *others: Text) -> Text:
        """The description cut to the rows the panel has left after ``others`` (its title
        and what it teaches), its last row ending in "…": a panel cut by its height would
        lose the teaching points and end mid-sentence with nothing saying so."""
        width = self.size.width - 4  # the panel's border and padding
        if width <= 0:
            return about
        rows = (SHORT_ABOUT if self.has_class("-short") else TALL_ABOUT) - 2  # its border
        console = self.app.console
        rows -= sum(len(t.wrap(console, width)) for t in others if t)
        lines = about.wrap(console, width)
        if len(lines) <= rows:
            return about
        kept = list(lines)[: max(1, rows)]
        last = kept[-1]
        last.rstrip()
        if last.cell_len >= width:
            last.truncate(width - 1)
        last.append("…")
        return Text("\n").join(kept)

    def action_run(self) -> None:
        s = self.selected()
        if s is not None:
            self.post_message(RunScenario(s.source))

    def action_runs(self) -> None:
        self.post_message(OpenRuns())

    def action_quit_picker(self) -> None:
        self.app.exit(0)
