"""The session screen's panels. Each reads the model when the screen's timer says so.

Byte strips, queues and shared-memory grids are drawn by line-rendering widgets
(``render_line`` → ``Strip``), never one widget per byte or cell. Tables are updated by row
key, only where a cell changed. Nothing here parses markup from data: text arrives as
``Text`` or ``Segment`` built from ``ipcviz.bytefmt`` output.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from ipcviz import bytefmt
from ipcviz.draw import palette as P
from ipcviz.draw import render
from ipcviz.draw.eventfmt import EventFormatter, LogLine
from ipcviz.i18n import N_, _, get_lang, ngettext
from ipcviz.model.analysis.races import describe as describe_lost_update
from ipcviz.model.analysis.races import missing as lost_update_count
from ipcviz.model.state import Check, State
from ipcviz.tui.lang import scenario_field

BLANK = Style()  # never None: the NO_COLOR (monochrome) filter reads every style


def cut(strip: Strip, width: int) -> Strip:
    """``strip`` in ``width`` cells; one longer ends in "…", so a cut never passes for the
    whole (an object's title line at 80 columns ended "10 wr", a number without its word)."""
    if strip.cell_length <= width or width < 1:
        return strip.crop(0, width)
    segments = list(strip.crop(0, width - 1))
    style = segments[-1].style if segments else None
    return Strip([*segments, Segment("…", style)], width)


class LineWidget(Widget):
    """A widget that hands out pre-built lines of segments as ``Strip``s (the detail panels,
    the diagram): the drawing is built without Textual, this only shows it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lines: list[render.Line] = []

    def render_line(self, y: int) -> Strip:
        if 0 <= y < len(self.lines):
            return cut(Strip(self.lines[y]), self.size.width)
        return Strip.blank(self.size.width, BLANK)

    def plain_lines(self) -> list[str]:
        """The text shown (for tests)."""
        return ["".join(seg.text for seg in line) for line in self.lines]


class LinesView(LineWidget):
    """Shows a list of pre-built lines of segments; height follows the number of lines."""

    DEFAULT_CSS = """
    LinesView { height: auto; width: 1fr; }
    """

    def set_lines(self, lines: list[render.Line]) -> None:
        """New lines; a new layout whenever the height laid out is not theirs. Compared
        with the height the widget *has*, not with the previous lines: a layout asked for
        while the widget was still being mounted can be lost, and the view then showed one
        line too few (its last: the kernel's reading) until the count changed again."""
        self.lines = lines
        if max(1, len(lines)) != self.size.height:
            self.refresh(layout=True)
        else:
            self.refresh()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self.lines))


class ObjectView(LinesView):
    """One kernel object; drawn by ``render.object_lines`` according to its model class."""

    DEFAULT_CSS = """
    ObjectView { height: auto; margin: 0 0 1 0; }
    """

    def __init__(self, name: str) -> None:
        super().__init__(classes="object")
        self.obj_name = name
        self._sig: tuple[Any, ...] | None = None
        self._width = -1
        self._drawn: tuple[State, int] | None = None  # the last sync's state and rows

    def on_resize(self) -> None:
        """Made again for the new width: a replay standing still draws no frame, and its
        panel got narrower (a scrollbar came) or was laid out after the first sync."""
        if self._drawn is not None and self.size.width != self._width:
            self.sync(*self._drawn)

    def sync(self, state: State, rows: int, force: bool = False) -> None:
        self._drawn = (state, rows)
        obj = state.objects.get(self.obj_name)
        if obj is None:
            return
        width = self.size.width or 80
        # the reading's age as said (it moves with the moment shown, not with the object):
        # without it a panel kept "kernel 12ms ago" while the run went on for seconds
        sig = (render.signature(obj), rows, render.reading_age(obj.kernel, state.t))
        if not force and sig == self._sig and width == self._width:
            if max(1, len(self.lines)) != self.size.height:  # a layout that was lost
                self.refresh(layout=True)
            return
        self._sig, self._width = sig, width
        self.set_lines(render.object_lines(state, obj, width, rows))


class ObjectsPanel(VerticalScroll):
    """Every declared object, in declaration order; new types appear without code here."""

    DEFAULT_CSS = """
    ObjectsPanel { height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.views: dict[str, ObjectView] = {}
        self.rows = 3

    def sync(self, state: State, force: bool = False) -> None:
        names = list(state.objects)
        if names != list(self.views):
            for name, view in list(self.views.items()):
                if name not in state.objects:
                    view.remove()
                    del self.views[name]
            new = [ObjectView(n) for n in names if n not in self.views]
            for view in new:
                self.views[view.obj_name] = view
            if new:
                self.mount_all(new)
        for view in self.views.values():
            view.sync(state, self.rows, force)

    def reset(self) -> None:
        for view in self.views.values():
            view.remove()
        self.views.clear()


PROC_COLUMNS = ("name", "pid", "state", "cpu", "cpu#")
#: The process table's column labels (keys stay English: cells are updated by key).
PROC_LABELS = {
    "name": N_("name"),
    "pid": N_("pid"),
    "state": N_("state"),
    "cpu": N_("cpu"),
    "cpu#": N_("cpu#"),
}
#: How a run ended, as the status line and the checks panel say it (big, in capitals).
OUTCOMES = {
    "passed": N_("PASSED"),
    "failed": N_("FAILED"),
    "undecided": N_("UNDECIDED"),
    "error": N_("ERROR"),
    "timeout": N_("TIMEOUT"),
    "stopped": N_("STOPPED"),
    "incomplete": N_("INCOMPLETE"),
}


def _check_mark(c: Check) -> tuple[str, str]:
    """✓, ✗, or ? for a check the run could not decide (a worker killed): never ✗ for it."""
    if c.ok:
        return "✓", render.GOOD
    return ("?", render.WARN) if c.undecided else ("✗", render.BAD)


def outcome_word(outcome: str) -> str:
    """``PASSED`` (``통과``): a run's outcome, in the language now chosen; an outcome no
    table knows (a trace's own word) inert, in capitals."""
    word = OUTCOMES.get(outcome)
    return _(word) if word else bytefmt.safe_text(outcome, 20).upper()


class ProcTable(DataTable):
    """Processes by pid; cells are updated by key and only when their value changed."""

    DEFAULT_CSS = """
    ProcTable { height: auto; max-height: 12; scrollbar-size-horizontal: 0; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._cells: dict[int, dict[str, Any]] = {}
        self._age: str | None = None  # the caption's words (``render.cpu_age``)
        self._widths: list[int] = []  # the columns' widths the last sync drew with

    def on_mount(self) -> None:
        for col in PROC_COLUMNS:
            self.add_column(_(PROC_LABELS[col]), key=col)

    def relabel(self) -> None:
        """Column labels in the language now chosen (their keys stay)."""
        for col in PROC_COLUMNS:
            column = self.columns.get(ColumnKey(col))
            if column is not None:
                column.label = Text(_(PROC_LABELS[col]))
                column.content_width = max(column.content_width, column.label.cell_len)
        self._require_update_dimensions = True
        self.refresh()

    def sync(self, state: State) -> None:
        self._redraw_if_measured()
        for pid in [pid for pid in self._cells if pid not in state.procs]:
            # (a replay stepped back before the process started)
            self.remove_row(str(pid))
            del self._cells[pid]
        room = self._state_room()
        for pid, p in state.procs.items():
            color = render.color_of(state, pid)
            cpu, num = render.cpu_text(p)
            cells = {
                "name": Text("● " + bytefmt.safe_text(p.name, 24), style=f"bold {color}"),
                "pid": Text(str(pid), style=color),
                "state": render.fit(render.proc_state_text(state, p, room), room),
                "cpu": cpu,
                "cpu#": num,
            }
            old = self._cells.get(pid)
            if old is None:
                self.add_row(*(cells[c] for c in PROC_COLUMNS), key=str(pid))
                self._cells[pid] = cells
                continue
            for col, value in cells.items():
                if old[col] != value:
                    self.update_cell(str(pid), col, value, update_width=col == "state")
                    old[col] = value
        self._say_age(render.cpu_age(state))

    def _redraw_if_measured(self) -> None:
        """DataTable measures its columns when idle, after the rows are added, and keeps
        the lines it drew before (its caches know no widths): the header stayed drawn
        with the old widths over rows drawn with the new ones (``name pid state`` packed
        to the left above wider columns, until something else cleared them). Once the
        widths changed, everything is drawn again."""
        widths = [c.get_render_width(self) for c in self.ordered_columns]
        if widths != self._widths:
            self._widths = widths
            self._clear_caches()
            self.refresh()

    def _say_age(self, said: str | None) -> None:
        """The cpu columns' age, on the table's bottom border (set only when its words
        change: a new caption redraws the table)."""
        if said != self._age:
            self._age = said
            self.border_subtitle = Text(said, style=render.KERNEL) if said else None

    def _state_room(self) -> int:
        """Cells the state column has before the table runs out of width (it does not
        scroll sideways): a longer state is cut, ending in "…"."""
        width = self.size.width or 80
        others = sum(
            c.get_render_width(self) for k, c in self.columns.items() if k.value != "state"
        )
        return max(8, width - others - 2 * self.cell_padding - 1)

    def reset(self) -> None:
        self.clear()
        self._cells.clear()
        self._say_age(None)

    def selected_pid(self) -> int | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:
            return None
        return int(key.value) if key.value is not None else None


class EventLog(Widget):
    """The last events, newest at the bottom. Each line was worded when its event was applied
    (``eventfmt.record``): it shows the state of that moment, not the current one."""

    DEFAULT_CSS = """
    EventLog { height: 1fr; min-height: 3; }
    """

    def __init__(self, formatter: EventFormatter, keep: int = 2000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entries: deque[LogLine] = deque(maxlen=keep)
        self.formatter = formatter
        self.only_pid: int | None = None
        self.only_obj: str | None = None
        self._lines: list[render.Line] = []

    def matches(self) -> Callable[[LogLine], bool]:
        pid, obj = self.only_pid, self.only_obj
        return lambda line: (
            (pid is None or line.entry.pid == pid) and (obj is None or line.entry.obj == obj)
        )

    def sync(self) -> None:
        """Draw the newest lines that fit (and pass the filters); only those are laid out."""
        height = max(1, self.size.height or 10)
        width = max(20, self.size.width or 80)
        keep = self.matches()
        picked: list[LogLine] = []
        for line in reversed(self.entries):
            if keep(line):
                picked.append(line)
                if len(picked) >= height:
                    break
        picked.reverse()
        self._lines = [self.formatter.line(line, width) for line in picked]
        self.refresh()

    def on_resize(self) -> None:
        """Picked again for the new height: a replay stands still (no frame comes) while a
        panel above it appears (the checks, at the end) and the log gets shorter."""
        self.sync()

    def render_line(self, y: int) -> Strip:
        # the newest ``height`` lines, oldest on top: lines picked for a taller log than
        # it now is lose their oldest, never their newest (the replay at its end showed
        # the 11 lines before the last 11, not the last ones)
        i = y + max(0, len(self._lines) - self.size.height)
        if 0 <= i < len(self._lines):
            return cut(Strip(self._lines[i]), self.size.width)
        return Strip.blank(self.size.width, BLANK)

    def plain_lines(self) -> list[str]:
        """The lines shown (the newest that fit), for tests."""
        height = self.size.height or len(self._lines)
        shown = self._lines[max(0, len(self._lines) - height) :]
        return ["".join(seg.text for seg in line) for line in shown]


class ClampedText(Static):
    """A Static of wrapped text that never hides a cut: when the layout gives it fewer rows
    than its text needs, its last row ends in "…" (a bare Static would drop the rest)."""

    _full: Text = Text()

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        self._full = content if isinstance(content, Text) else Text(str(content))
        super().update(content, layout=layout)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        if not width:
            return 0
        return len(self._full.wrap(self.app.console, width))

    def render(self) -> Any:
        width, height = self.size.width, self.size.height
        if width <= 0 or height <= 0:
            return self._full
        lines = list(self._full.wrap(self.app.console, width))
        if len(lines) <= height:
            return self._full
        return Text("\n").join(render.clamp(lines, width, height))


class Narration(ClampedText):
    """The current step's text in the chosen language, with its teaching points."""

    DEFAULT_CSS = """
    Narration { height: auto; max-height: 8; padding: 0 1; }
    """

    def show(self, state: State, lang: str) -> None:
        info = state.step_info()
        text = Text()
        sc = state.header.get("scenario", {})
        if info is None:
            text.append(bytefmt.safe_text(scenario_field(sc, "description"), 400), style=P.LIGHT)
        else:
            body = info.get(lang) or info.get("en", "")
            tags = " ".join(bytefmt.safe_text(str(t), 8) for t in info.get("teaches", []))
            if tags:
                text.append(f" {tags} ", style=P.on(P.BLACK, P.GOLD))
                text.append(" ")
            text.append(bytefmt.safe_text(str(body).strip(), 600), style=P.bold(P.WHITE))
        self.update(text)


class Checks(ClampedText):
    """Drift (model vs kernel), worker errors and, at the end, the scenario's checks."""

    DEFAULT_CSS = """
    Checks { height: auto; max-height: 10; padding: 0 1; }
    """

    def show(self, state: State, brief: bool = False) -> None:
        """Everything (``brief``: one line, for a short screen: see ``brief_line``)."""
        if brief:
            line = self.brief_line(state)
            self.display = bool(line.plain)
            self.update(line)
            return
        text = Text()
        for name, d in state.drift.items():
            text.append(" " + _("DRIFT") + " ", style=render.BAD)
            # both values are as the engine saw them when it found the drift: that long ago
            when = render.reading_age(d, state.t)
            said = (
                _("{obj}: {field} model={model} kernel={kernel} (seen {when})")
                if when
                else _("{obj}: {field} model={model} kernel={kernel}")
            )
            text.append(
                " "
                + said.format(
                    obj=bytefmt.safe_text(str(name), 20),
                    field=bytefmt.safe_text(str(d.get("field")), 20),
                    model=bytefmt.safe_text(str(d.get("model")), 20),
                    kernel=bytefmt.safe_text(str(d.get("kernel")), 20),
                    when=when,
                )
                + "\n",
                style=P.bold(P.PINK),
            )
        lost = state.lost_updates
        if lost:  # shared memory without a lock (T31): how many, and the latest overlap
            missing = _("LOST UPDATES: {n} missing").format(n=lost_update_count(state))
            text.append(f" {missing} ", style=render.WARN)
            text.append(
                " "
                + ngettext(
                    "({n} overwrite; an overwritten value can be built on again)",
                    "({n} overwrites; an overwritten value can be built on again)",
                    len(lost),
                ).format(n=len(lost))
                + "\n"
            )
            text.append(f" {bytefmt.safe_text(str(describe_lost_update(lost[-1])), 220)}\n")
        for err in state.errors[-3:]:
            text.append(
                _("error: {what}").format(what=bytefmt.safe_text(str(err), 160)) + "\n",
                style=P.bold(P.RED),
            )
        for c in state.checks:
            mark, style = _check_mark(c)
            text.append(f" {mark} ", style=style)
            description, detail = c.text(get_lang())  # the author's Korean, where written
            detail = f": {bytefmt.safe_text(str(detail), 120)}" if detail else ""
            text.append(f" {bytefmt.safe_text(str(description), 160)}{detail}\n")
        if state.outcome:
            style = render.GOOD if state.outcome == "passed" else render.WARN
            text.append(f" {outcome_word(state.outcome)} ", style=style)
            text.append("  " + _("exit code {code}").format(code=state.exit_code))
        text.rstrip()
        self.display = bool(text.plain)
        self.update(text)

    @staticmethod
    def brief_line(state: State) -> Text:
        """What the panel says, in one line: drift, lost updates and errors first (each
        named), then how many checks passed and failed with the first failure's words,
        then the outcome. Cut at the right (``…``) by the panel when longer."""
        text = Text(no_wrap=True, overflow="ellipsis")
        if state.drift:
            names = ", ".join(bytefmt.safe_text(str(n), 20) for n in state.drift)
            text.append(" " + _("DRIFT") + " ", style=render.BAD)
            text.append(f" {names}  ", style=P.bold(P.PINK))
        if state.lost_updates:
            missing = _("LOST UPDATES: {n} missing").format(n=lost_update_count(state))
            text.append(f" {missing} ", style=render.WARN)
            text.append("  ")
        if state.errors:
            said = _("error: {what}").format(what=bytefmt.safe_text(str(state.errors[-1]), 80))
            text.append(said + "  ", style=P.bold(P.RED))
        passed = sum(1 for c in state.checks if c.ok)
        failed = [c for c in state.checks if not c.ok and not c.undecided]
        unsure = sum(1 for c in state.checks if c.undecided)
        if state.checks:
            text.append(f" ✓ {passed} ", style=render.GOOD)
            if failed:
                text.append(" ")
                text.append(f" ✗ {len(failed)} ", style=render.BAD)
            if unsure:
                text.append(" ")
                text.append(f" ? {unsure} ", style=render.WARN)
            text.append("  ")
        if state.outcome:
            style = render.GOOD if state.outcome == "passed" else render.WARN
            text.append(f" {outcome_word(state.outcome)} ", style=style)
            text.append("  " + _("exit code {code}").format(code=state.exit_code) + "  ")
        if failed:
            description, _detail = failed[0].text(get_lang())
            text.append("✗ " + bytefmt.safe_text(str(description), 160))
        text.rstrip()
        return text


class StatusLine(Static):
    """One line: scenario, events, view/engine state, redraw rate."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $status; color: $foreground; }
    """

    def show(
        self,
        state: State,
        *,
        paused: bool,
        fps: int,
        live: bool,
        filt: str,
        behind: int = 0,
        pace: float | None = None,
        world: State | None = None,
        stopping: bool = False,
    ) -> None:
        """``state``: what the screen shows (a paused view: the moment it paused);
        ``world``: the model now, whose step mode and freeze the line says; ``stopping``:
        ``q`` was pressed and the engine is being stopped."""
        world = world if world is not None else state
        sc = state.header.get("scenario", {})
        text = Text()
        sid = bytefmt.safe_text(str(sc.get("id", "?")), 30)
        text.append(f" {sid} ", style=P.on(P.BLACK, P.GOLD))
        if stopping:  # first: the screen will not take keys that act on the run meanwhile
            text.append(" " + _("STOPPING…") + " ", style=render.WARN)
        if pace is not None:  # the processes are paced (engine/gate.py): said before the
            # title, so an 80-column line still shows it
            text.append(
                " " + _("PACE {pace} ops/s").format(pace=f"{pace:g}") + " ",
                style=P.on(P.BLACK, P.SKY),
            )
        # What makes the screen not the world now is said before the title too: after it,
        # an 80- or 120-column line cut it off, and a paused view looked like a live one.
        if world.step_mode:  # the engine's gates are closed (t): one operation per step
            text.append(" " + _("STEP MODE") + " ", style=P.on(P.BLACK, P.SKY))
        if world.frozen:
            text.append(" " + _("FROZEN") + " ", style=P.on(P.BLACK, P.STEEL))
        if paused:
            text.append(" " + _("VIEW PAUSED") + " ", style=render.WARN)
        if state.drift:
            text.append(" " + _("DRIFT") + " ", style=render.BAD)
        title = Text(f" {bytefmt.safe_text(scenario_field(sc, 'title'), 60)}")
        said = Text(ngettext("{n} event", "{n} events", state.count).format(n=state.count) + "  ")
        if state.outcome:
            style = render.GOOD if state.outcome == "passed" else render.WARN
            said.append(f" {outcome_word(state.outcome)} ", style=style)
        # the title gives way to the count and the outcome: at 80 columns the line was cut
        # to "…EPIPE  29", a number without its word
        room = self.size.width - text.cell_len - said.cell_len - 2
        if self.size.width and title.cell_len > room:
            title.truncate(max(0, room), overflow="ellipsis")
        text.append(f"{title.plain}  ", style="bold")
        text.append_text(said)
        if state.outcome:
            text.append(" ")
        if behind > 10_000:  # more arrives than a frame's budget can apply
            text.append(
                " "
                + ngettext("{n} event behind", "{n} events behind", behind).format(n=behind)
                + " ",
                style=render.WARN,
            )
            text.append(" ")
        if pace is None and not state.step_mode and live and state.outcome is None and state.header:
            text.append(_("full speed") + " · ", style=P.SILVER)
        where = _("live") if live else _("recorded")
        text.append(f"{where} · {fps} fps", style=P.SILVER)
        if filt:
            text.append(
                " · " + _("log: {which}").format(which=bytefmt.safe_text(filt, 30)),
                style=P.SILVER,
            )
        self.update(text)


class IllegalBanner(Static):
    """The top line of a replay whose trace is no legal history (``ipcviz verify``'s
    reason): plain Text, never markup, since the reason quotes the untrusted trace."""

    DEFAULT_CSS = """
    IllegalBanner { dock: top; height: auto; max-height: 3; background: $danger;
                    color: $foreground; text-style: bold; padding: 0 1; }
    """

    def __init__(self, notice: str) -> None:
        super().__init__(Text(bytefmt.safe_text(notice, 400)), id="illegal", markup=False)
