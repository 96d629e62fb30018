"""Presenter mode (``--present``): a lecture-hall layout that moves one narration step at a time.

The narration is the dominant element, in large type at every size (``bigtext``: a 3×5
pixel font in half blocks where the whole text fits so, else in quadrant blocks, 2 cells a
letter, ~38 letters a line at 80 columns); the step counter a small badge. Below it the
diagram view takes the rest of the rows (``v`` switches to the detail panels: processes and
kernel objects). The event log is hidden. A narration too long for its rows is paged:
→ shows the next page before it goes on to the next step, ← the previous page; the badge
says "page 1 of 2" and the hint row "more: → next page". Text the font cannot draw
(Korean: no Hangul font is at hand) is laid out in bands: one clause a line, bold, dark on
a bright band, a blank row between lines.

- Live (``ipcviz run X --present``, or the picker with ``ipcviz --present``): the engine runs
  with ``--present`` and holds the world at each narration step (ipcviz/engine/gate.py);
  → sends ``{"cmd": "continue"}``. ← shows the previous step's text again (the processes
  cannot be un-run); → then walks forward through what was shown before continuing.
- Replay (``ipcviz replay TRACE --present``): → and ← move the whole screen to the next /
  previous narration step of the recording.
- ``l`` switches English / Korean live (the session screen's own action).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType

from ipcviz import bytefmt, i18n
from ipcviz.draw import palette as P
from ipcviz.draw.bigtext import ROWS, bands, fit
from ipcviz.draw.eventfmt import LogWindow
from ipcviz.i18n import N_, _, ngettext
from ipcviz.model.state import State
from ipcviz.replay import TraceIndex
from ipcviz.tui.feed import Feed
from ipcviz.tui.lang import scenario_field
from ipcviz.tui.screens.session import SessionScreen, illegal_banner
from ipcviz.tui.widgets.panels import Checks, Narration, outcome_word

#: Each language named in itself: the hint that says what ``l`` switches to.
LANG_NAMES = {"en": "English", "ko": "한국어"}

#: How many events the (hidden) event log keeps in replay, as in the session screen.
LOG_TAIL = 500
#: The layout of text the large font cannot draw (Korean): bands of ordinary type.
BANDS = "bands"


class PresentScreen(SessionScreen):
    """The session screen in presenter layout, with → / ← over narration steps."""

    COMPACT = False  # its short screens have their own layout (``-short``, ``-tiny``)

    DEFAULT_CSS = """
    PresentScreen #main #left { width: 50%; }
    PresentScreen #main #left #procs { height: 10; max-height: 10; }
    PresentScreen #main #left #narration {
        height: 1fr; max-height: 100%; padding: 1 3;
        border: heavy $primary; border-title-color: $primary; border-title-style: bold;
    }
    PresentScreen #main #left #checks { max-height: 6; }
    PresentScreen #main #left #log-box { display: none; }
    PresentScreen.-narrow #main #left { width: 100%; height: 2fr; }
    PresentScreen.-narrow #main #right { width: 100%; height: 1fr; }
    PresentScreen.-narrow #main #left #procs { max-height: 6; }
    PresentScreen.-short #main #left { height: 3fr; }
    PresentScreen.-short #main #left #procs { height: 6; max-height: 6; }
    PresentScreen.-short #main #left #narration { padding: 0 1; min-height: 7; }
    PresentScreen.-short #main #left #checks { max-height: 8; }
    PresentScreen.-short.-ended #main #left #procs { display: none; }
    PresentScreen.-short.-diagram #main #left #narration { min-height: 0; }
    PresentScreen.-tiny #main #left #procs { display: none; }
    PresentScreen.-tiny #main #left #narration { padding: 0 1; }
    PresentScreen.-diagram #main { layout: vertical; }
    PresentScreen.-diagram #main #left { width: 100%; height: auto; max-height: 65%; }
    PresentScreen.-diagram #main #left #procs { display: none; }
    PresentScreen.-diagram #main #left #narration { height: auto; padding: 0 1; }
    PresentScreen.-diagram #main #left #checks { max-height: 3; }
    PresentScreen.-diagram.-ended #main #left #checks { max-height: 8; }
    PresentScreen.-diagram #main #right { width: 100%; height: 1fr; }
    """
    DIAGRAM_FIRST = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right", "next_step", N_("continue"), key_display="→", priority=True),
        Binding("left", "previous_step", N_("previous"), key_display="←", priority=True),
        *SessionScreen.BINDINGS,  # listed again so that ? (help) shows every key
    ]

    def __init__(
        self,
        feed_factory: Callable[[], Feed] | None = None,
        *,
        state: State | None = None,
        lang: str | None = None,
        fps: int = 15,
        index: TraceIndex | None = None,
    ) -> None:
        super().__init__(feed_factory, state=state, lang=lang, fps=fps)
        #: Replay: the recording, indexed (the model at any narration step comes from it).
        self.index = index
        #: Replay: the (hidden) log's lines, each worded from the state at its own event.
        self.log_window = (
            LogWindow(index.header, index.state_at, index.events, LOG_TAIL)
            if index is not None
            else None
        )
        #: Replay: which narration step is shown (-1: none yet, just before the first).
        self.pos = -1
        #: Live: the narration steps shown so far (and their numbers in the run: the n-th
        #: narrate event), and how far back ← went.
        self.history: list[str] = []
        self.numbers: list[int] = []
        self.back = 0
        #: The narration panel's text as last drawn (the words in large type, or bands).
        self.narration_text = Text()
        #: The words the large type draws, as plain text (a tool that cannot read blocks).
        self.narration_plain = ""
        #: The shown narration's pages (lines of large type or bands) and which is shown.
        self.kind = BANDS
        self.pages: list[list[str]] = [[]]
        self.page = 0
        self._page_key: tuple[object, ...] | None = None

    def _layout_for(self, width: int, height: int) -> None:
        """Detail view on a tall screen: a third of the rows for the narration, whatever
        its length: the dominant element, where the eye returns between steps."""
        super()._layout_for(width, height)
        # under 24 rows the processes' table leaves the narration too few to keep its hint
        # (PAUSED, what → does): the diagram and the objects still show every process
        self.set_class(height < 24, "-tiny")
        narration = self.query_one(Narration)
        # the diagram view: the panel as tall as its text (its pages fit 65%), the diagram
        # the rest (pipe-mesh's 12 pipes need it at 200×60)
        tall = height >= 40 and not self.diagram_shown
        narration.styles.min_height = height // 3 if tall else None

    def action_toggle_view(self) -> None:
        super().action_toggle_view()
        self._layout_for(self.app.size.width, self.app.size.height)

    def on_mount(self) -> None:
        # (Textual calls SessionScreen.on_mount by itself: handlers run along the MRO)
        if self.index is not None:
            notice = self.index.illegal_notice()  # the index is whole: verify's full answer
            if notice is not None:
                self.mount(illegal_banner(notice), before=0)
            self._show_replay()

    # -- drawing -----------------------------------------------------------------------

    def redraw(self, force: bool = False) -> None:
        # a short screen, once the run ended: the checks take the processes' rows
        self.set_class(bool(self.shown.outcome), "-ended")
        super().redraw(force)
        # live: the oldest narration the engine still holds (two processes may narrate at
        # once: each is shown, one per →, in the trace's order), else the latest one
        number, step = self.shown.presented()  # (paused: the moment it paused)
        if self.index is None and step and (not self.numbers or self.numbers[-1] != number):
            self.history.append(step)
            self.numbers.append(number)
            self.back = 0
        self.narration_text = self.big_text()
        self.query_one(Narration).update(self.panel())

    def panel(self) -> RenderableType:
        """The narration panel: the step counter a small badge, the text in large type."""
        return self.narration_text

    def shown_number(self) -> int | None:
        """The shown narration's number in the run (1 = the first narrate event)."""
        if self.index is not None:
            return self.pos + 1 if self.pos >= 0 else None
        if not self.numbers:
            return None
        return self.numbers[-1 - min(self.back, len(self.numbers) - 1)]

    def shown_step(self) -> str | None:
        """The step whose text is on screen (live: ← may show an earlier one)."""
        if self.index is not None:
            return self.state.step
        if not self.history:
            return None
        return self.history[-1 - min(self.back, len(self.history) - 1)]

    def budget(self) -> tuple[int, int]:
        """Cells and rows the narration's words get on this screen. Diagram view: the
        panel may take 65% of the rows (CSS below), less its frame, the badge and hint rows
        and the checks panel when shown; the rest is the diagram's. Detail view: the panel
        fills its column (1fr), so its laid-out height is the answer."""
        width, height = self.app.size
        narration = self.query_one(Narration)
        cols = narration.size.width or width - 4
        checks = self.query_one(Checks)
        # its max-height (a run that ended shows every check it can), frame included
        checks_rows = (8 if self.has_class("-ended") else 5) if checks.display else 0
        if self.diagram_shown or not narration.size.height:
            panel = int((height - 2) * 0.65)  # less the status line and the footer
            rows = panel - 2 - 2 - checks_rows
        else:  # what the panel has, less the badge row and the hint row (never cut)
            rows = narration.size.height - 2
        return max(4, cols), max(1, rows)

    def _body(self) -> tuple[dict[str, Any] | None, str, str]:
        """What the panel says, in the chosen language: (the step, its title, the words);
        before the first step, the scenario's title and description."""
        step = self.shown_step()
        info = next((s for s in self.state.steps() if s.get("id") == step), None)
        if info is None:
            sc = self.state.header.get("scenario", {})
            return None, scenario_field(sc, "title"), scenario_field(sc, "description")
        body = info.get(self.lang) or info.get("en", "")
        return info, str(step), str(body)

    def page_count(self) -> int:
        """How many pages the shown narration takes on this screen."""
        return len(self.pages)

    def _pages(self, words: str, cols: int, rows: int) -> tuple[str, list[list[str]]]:
        """``words`` laid out for the projector, in pages of at most ``rows`` rows: large
        type (``bigtext``: square pixels if the whole text fits so, else the narrow font,
        paged), or, for text the font cannot draw (Korean), one clause a line on a bright
        band with a blank row between lines (``bands``)."""
        fitted = fit(words, cols, rows) if rows >= ROWS else None
        if fitted is not None:
            kind, lines = fitted
            per = rows // ROWS * ROWS
        else:  # the font cannot draw it, or no room for one line of large type
            kind, lines = BANDS, bands(words, cols)
            per = rows // 2 * 2 if rows >= 2 else 1
            if per == 1:
                lines = [line for line in lines if line.strip()]
        return kind, [lines[i : i + per] for i in range(0, len(lines), per)] or [[]]

    def big_text(self) -> Text:
        """The narration panel: step number and id (small), the words large, what → does."""
        cols, rows = self.budget()
        info, title, words = self._body()
        words = bytefmt.safe_text(words.strip(), 2000)
        key = (self.shown_step(), self.lang, words, cols, rows)
        if key != self._page_key:  # another step or language: from its first page
            resized = self._page_key is not None and self._page_key[:3] == key[:3]
            before = len(self.pages)
            self._page_key = key
            self.kind, self.pages = self._pages(words, cols, rows)
            # another size (a panel grew): the same place in the text, not back to page 1
            # (the last of several pages read stays the last: the run went on from there;
            # a text that was whole on one page starts again at its first: the end of a
            # run shrank the panel, and the last step jumped to its last page, its middle
            # never shown)
            if not resized:
                self.page = 0
            elif before > 1 and self.page + 1 >= before:
                self.page = len(self.pages) - 1
            else:
                self.page = self.page * len(self.pages) // max(1, before)
        self.page = min(self.page, len(self.pages) - 1)
        self.narration_plain = words
        text = Text()  # the badge row: one row, cut to the panel (its pages count on it)
        number = self.shown_number()
        if info is not None:
            total = f" / {len(self.index.narrations)}" if self.index is not None else ""
            text.append(f"  {number or 0}{total}  ", style=P.on(P.BLACK, P.GOLD))
            text.append(f"  {bytefmt.safe_text(title, 40)}", style=P.bold(P.GOLD))
            for tag in info.get("teaches", []):
                text.append("  ")
                text.append(f" {bytefmt.safe_text(str(tag), 8)} ", style=P.on(P.BLACK, P.SKY))
        else:
            text.append(f" {bytefmt.safe_text(title, 100)} ", style="bold")
        page = Text()
        if len(self.pages) > 1:
            page.append(
                "   " + _("page {n} of {total}").format(n=self.page + 1, total=len(self.pages)),
                style=P.bold(P.AQUA),
            )
        text.truncate(max(1, cols - page.cell_len), overflow="ellipsis")  # the count stays
        text.append_text(page)
        text.truncate(cols, overflow="ellipsis")
        text.append("\n")
        lines = self.pages[self.page]
        if self.kind == BANDS:
            for line in lines:
                text.append(line, style=P.on(P.BLACK, P.GOLD) if line.strip() else "")
                text.append("\n")
        else:
            text.append("\n".join(lines) + "\n", style=P.bold(P.WHITE))
        hint = self._hint()
        hint.truncate(cols, overflow="ellipsis")  # one row too: a wrapped hint was cut
        text.append_text(hint)
        return text

    def _hint(self) -> Text:
        # the language ``l`` switches to, named in itself (a reader of the other one looks
        # for their own language's name)
        other = LANG_NAMES.get(i18n.other_lang(), i18n.other_lang())
        hint = Text()
        if self.page + 1 < len(self.pages):
            if self.index is None and self._held():
                hint.append(" " + _("PAUSED") + " ", style=P.on(P.BLACK, P.ORANGE))
                hint.append(" ")
            hint.append(" " + _("more: → next page") + " ", style=P.on(P.BLACK, P.AQUA))
            hint.append("  " + _("← previous page") if self.page else "", style=P.LIGHT)
        elif self.index is not None:
            n = len(self.index.narrations)
            where = (
                _("narration {n} of {total} in this recording").format(n=self.pos + 1, total=n)
                if self.pos >= 0
                else ngettext(
                    "{n} narration step recorded: → starts",
                    "{n} narration steps recorded: → starts",
                    n,
                ).format(n=n)
            )
            hint.append(f" {where} ", style=P.on(P.BLACK, P.AQUA))
            hint.append("  " + _("→ next  ← previous"), style=P.LIGHT)
        elif self.back:
            back = ngettext("{n} step back", "{n} steps back", self.back).format(n=self.back)
            hint.append(f" {back} ", style=P.on(P.BLACK, P.AQUA))
            hint.append("  " + _("→ forward again"), style=P.LIGHT)
        elif self._held():
            hint.append(" " + _("PAUSED for you") + " ", style=P.on(P.BLACK, P.ORANGE))
            hint.append("  " + _("→ continue  ← previous text"), style=P.LIGHT)
        elif self.shown.outcome:
            said = _("run {outcome}").format(outcome=outcome_word(str(self.shown.outcome)))
            hint.append(f" {said} ", style="bold")
        hint.append(f"  l {other}", style=P.LIGHT)
        return hint

    def _held(self) -> bool:
        """Live: a process waits at its narration gate (the world is paused for → )."""
        return any(p.gated_op == "narrate" and p.alive for p in self.state.procs.values())

    # -- keys --------------------------------------------------------------------------

    def action_next_step(self) -> None:
        """→: the narration's next page if it has one, else the next step."""
        if self.page + 1 < len(self.pages):
            self.page += 1
            self.redraw()
            return
        if self.index is not None:
            if self.pos + 1 < len(self.index.narrations):
                self.pos += 1
                self._show_replay()
            else:
                self.notify(_("that was the last narration step"), markup=False)
            return
        if self.back:
            self.back -= 1
            self.redraw()
            return
        feed = self._live_feed(N_("continue"))
        if feed is not None:  # only the step shown goes on, not one that came since
            shown = self.state.presented_pid()
            feed.send("continue", **({"pid": shown} if shown else {}))

    def action_previous_step(self) -> None:
        """←: the narration's previous page, else the previous step (from its first page)."""
        if self.page > 0:
            self.page -= 1
            self.redraw()
            return
        if self.index is not None:
            if self.pos >= 0:
                self.pos -= 1
                self._show_replay()
            return
        if self.back + 1 < len(self.history):
            self.back += 1
            self.redraw()

    def _show_replay(self) -> None:
        """Replay: the screen exactly as it was at narration mark ``pos`` (before the first)."""
        assert self.index is not None and self.log_window is not None
        i = self.index.step_event(self.pos)  # -1: everything up to the first step
        self.set_log_lines(self.log_window.at(i))
        self.show_state(self.index.state_at(i))
