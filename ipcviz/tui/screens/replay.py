"""The replay screen: the live session screen, driven by a :class:`~ipcviz.replay.Player`.

Same panels as a live run (it *is* a :class:`SessionScreen`), plus a timeline with the
activity sparkline and the replay keys. The trace is indexed in the background: the first
events are on screen at once, the timeline fills in while the rest is read.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.widget import Widget
from textual.widgets import Footer, Static

from ipcviz.bytefmt import safe_text
from ipcviz.draw import palette as P
from ipcviz.draw.eventfmt import LogWindow
from ipcviz.errors import TraceError
from ipcviz.i18n import N_, _
from ipcviz.model.state import State
from ipcviz.replay import Player, TraceIndex
from ipcviz.tui.screens.session import VIEW_BINDINGS, SessionScreen, illegal_banner
from ipcviz.tui.widgets.panels import EventLog, ProcTable

BARS = " ▁▂▃▄▅▆▇█"
FIRST_EVENTS = 2000  # indexed before the first frame (milliseconds), the rest in background
LOG_LINES = 300  # lines up to the position kept for the log (and its filters)


class Timeline(Widget):
    """Activity over the whole run (a sparkline) with the position marked; click to seek."""

    DEFAULT_CSS = """
    Timeline { height: 3; border: round $frame; border-title-color: $foreground; }
    """

    def __init__(self, player: Player, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.player = player
        self._counts: list[int] = []
        self._counted = -1

    def render(self) -> Text:
        width = max(1, self.size.width)
        index = self.player.index
        if self._counted != index.count or len(self._counts) != width:
            self._counts = index.activity(width)
            self._counted = index.count
        top = max(self._counts) or 1
        at = min(width - 1, int(self.player.fraction * width)) if index.count else 0
        text = Text()
        for x, c in enumerate(self._counts):
            bar = BARS[0 if c == 0 else max(1, round(c / top * (len(BARS) - 1)))]
            text.append(bar, style=P.on(P.BLACK, P.GOLD) if x == at else P.AQUA)
        return text

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:  # on the border
            return
        self.player.seek_fraction(offset.x / max(1, self.size.width - 1))
        screen = self.screen
        if isinstance(screen, ReplayScreen):
            screen.show_position()


class ReplayScreen(SessionScreen):
    """``ipcviz replay TRACE``: play, pause, speed, step, jump, seek, hide and reveal."""

    DEFAULT_CSS = """
    ReplayScreen Timeline { dock: bottom; margin-bottom: 1; }
    ReplayScreen.-compact Timeline { height: 2; border-bottom: none; }
    ReplayScreen #illegal { display: none; }
    """

    #: Actions of the live screen that mean nothing in a recording (no processes to freeze,
    #: kill or step, no engine to restart; </> set the speed instead of +/-). Their keys are
    #: off here and neither the footer, ``?`` nor the command palette offer them.
    LIVE_ONLY: ClassVar[frozenset[str]] = frozenset(
        {
            "toggle_freeze",
            "kill",
            "restart",
            "faster",
            "slower",
            "toggle_step",
            "step_selected",
            "step_random",
            "step_number",
            "recover_holder",
            "pace",
            "replay_run",
        }
    )
    #: The footer's first keys: playing, moving, the narration steps, help, quit, speed.
    FOOTER_FIRST: ClassVar[tuple[str, ...]] = (
        "toggle_pause",
        "step",
        "jump_step",
        "help",
        "quit_session",
        "toggle_view",
        "speed",
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pause", N_("play"), tooltip=N_("play / pause the recording")),
        Binding(
            "right",
            "step(1)",
            N_("step"),
            priority=True,
            tooltip=N_("the next line of the log (past the kernel's readings)"),
        ),
        Binding(
            "left",
            "step(-1)",
            N_("back"),
            priority=True,
            tooltip=N_("the previous line of the log (past the kernel's readings)"),
        ),
        Binding(
            "greater_than_sign",
            "speed(1)",
            N_("faster"),
            key_display=">",
            tooltip=N_("play faster"),
        ),
        Binding(
            "less_than_sign",
            "speed(-1)",
            N_("slower"),
            key_display="<",
            tooltip=N_("play slower"),
        ),
        Binding(
            "full_stop",
            "jump_proc(1)",
            N_("next of proc"),
            key_display=".",
            tooltip=N_("next event of the selected process"),
        ),
        Binding(
            "comma",
            "jump_proc(-1)",
            N_("prev of proc"),
            key_display=",",
            tooltip=N_("previous event of the selected process"),
        ),
        Binding(
            "right_square_bracket",
            "jump_obj(1)",
            N_("next of obj"),
            key_display="]",
            tooltip=N_("next event of the selected object"),
        ),
        Binding(
            "left_square_bracket",
            "jump_obj(-1)",
            N_("prev of obj"),
            key_display="[",
            tooltip=N_("previous event of the selected object"),
        ),
        Binding("n", "jump_step(1)", N_("next step"), tooltip=N_("next narration step")),
        Binding(
            "N", "jump_step(-1)", N_("prev"), key_display="N", tooltip=N_("previous narration step")
        ),
        Binding(
            "home",
            "seek_start",
            N_("start"),
            show=False,
            priority=True,
            tooltip=N_("the start, before the first event"),
        ),
        Binding(
            "end",
            "seek_fraction(1)",
            N_("end"),
            show=False,
            priority=True,
            tooltip=N_("the end of the recording"),
        ),
        *[
            Binding(
                str(d),
                f"seek_fraction({d / 10})",
                f"{d * 10}%",
                show=False,
                tooltip=N_("jump to N×10% of the recording"),
            )
            for d in range(10)
        ],
        Binding(
            "h",
            "hide",
            N_("hide next"),
            tooltip=N_("hide the selected object's next change (guess, then ⏎)"),
        ),
        Binding(
            "enter", "reveal", N_("reveal"), priority=True, tooltip=N_("reveal what was hidden")
        ),
        *VIEW_BINDINGS,  # l / v / p: language, diagram or detail, log filter
        Binding(
            "o",
            "filter_obj",
            N_("select obj"),
            show=False,
            tooltip=N_("select the next object (for ] [ h; the log shows it only)"),
        ),
        Binding("question_mark", "help", N_("help"), key_display="?", tooltip=N_("this help")),
        Binding("q", "quit_session", N_("quit"), tooltip=N_("quit the replay")),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Live-only actions are off (hidden from the footer, ``?`` and the palette)."""
        if action in self.LIVE_ONLY:
            return False
        return super().check_action(action, parameters)

    def __init__(self, index: TraceIndex, lang: str | None = None, fps: int = 15) -> None:
        super().__init__(None, state=State(header=index.header), lang=lang, fps=fps)
        self.index = index
        self.player = Player(index)
        self.log_window = LogWindow(index.header, index.state_at, index.events, LOG_LINES)
        self.first_frame_at: float | None = None
        self._shown: tuple[int, int, Any] | None = None
        self._notified = False
        self._counted = -1
        self._timeline_at = 0.0
        self._illegal_said: tuple[int, bool] = (0, False)

    def compose(self) -> ComposeResult:
        # says the trace is not a legal history as soon as indexing meets the first
        # violation: before the player can reach that event, so before it is shown
        yield illegal_banner("")
        for widget in super().compose():
            if isinstance(widget, Footer):
                yield Timeline(self.player, id="timeline")
            yield widget

    def relabel(self) -> None:
        super().relabel()
        if self.is_mounted:
            self._update_timeline()

    def on_mount(self) -> None:
        super().on_mount()
        try:  # the first events now, in this thread: the first frame waits for nothing else
            self.index.build_until(FIRST_EVENTS)
        except TraceError:
            pass  # shown by tick() from index.error
        self.show_position()

    # -- frames ------------------------------------------------------------------------

    def tick(self) -> None:
        """One frame: advance playback, redraw only if something changed."""
        t0 = time.perf_counter()
        self.player.tick(time.monotonic())
        index = self.index
        if index.violation is not None and (index.violations, index.done) != self._illegal_said:
            self._say_illegal()
        if index.done and not self._notified:
            self._notified = True
            if index.error is not None:
                self.notify(str(index.error), title=_("trace"), severity="error", markup=False)
            elif index.notice:
                self.notify(index.notice, title=_("trace"), severity="warning", markup=False)
        key = (self.player.pos, self.player.hidden)
        if key != self._shown:
            self.show_position()
        elif index.count != self._counted and t0 - self._timeline_at > 0.25:
            self._update_timeline()  # indexing goes on: progress and sparkline only
        self.frame_times.append(time.perf_counter() - t0)
        if len(self.frame_times) > 10_000:
            del self.frame_times[:5000]

    def _say_illegal(self) -> None:
        index = self.index
        notice = index.illegal_notice()
        if notice is None:
            return
        self._illegal_said = (index.violations, index.done)
        banner = self.query_one("#illegal", Static)
        banner.update(Text(safe_text(notice, 400)))
        banner.display = True

    def show_position(self) -> None:
        """Draw the state at the player's position, the log up to it, and the timeline."""
        player = self.player
        pos = player.pos
        self._shown = (pos, player.hidden)
        lines = self.log_window.at(pos)
        if player.hidden is not None:
            lines = [ln for ln in lines if not player.is_hidden(ln.index, {"obj": ln.entry.obj})]
        self.set_log_lines(lines)
        index = self.index
        if index.violation is not None and (index.violations, index.done) != self._illegal_said:
            self._say_illegal()  # never draw an impossible value before saying so
        self.show_state(player.view())
        self._update_timeline()
        if self.first_frame_at is None and self.index.count:
            self.call_after_refresh(self._first_frame)

    def _first_frame(self) -> None:
        if self.first_frame_at is None:
            self.first_frame_at = time.perf_counter()
            self.index.start()  # the rest of the trace, in the background

    def _update_timeline(self) -> None:
        p, index = self.player, self.index
        self._counted = index.count
        self._timeline_at = time.perf_counter()
        status = "▶" if p.playing else "⏸"
        where = _("event {n}/{total}").format(n=p.pos + 1, total=index.count)
        if not index.done:
            where += " " + _("(indexing {percent})").format(percent=f"{index.fraction:.0%}")
        hidden = (
            "  " + _("hidden: {obj}").format(obj=safe_text(p.hidden.obj, 30)) if p.hidden else ""
        )
        timeline = self.query_one(Timeline)
        timeline.border_title = f"{status} {p.speed:g}×  {where}{hidden}"
        timeline.refresh()

    # -- keys --------------------------------------------------------------------------

    def action_toggle_pause(self) -> None:
        self.player.toggle(time.monotonic())
        self._update_timeline()

    def action_step(self, n: int) -> None:
        """``→`` / ``←``: to the next / previous event with a line in the log, past the
        kernel probes between (they are not told: 59 of pipe-basic's 99 events, and a step
        onto one changed no line, only a reading's age), so every step shows what it did;
        to the end or the start when no line is left, and says so when already there.
        A hidden object's change (``h``) is a step too: its line waits for the reveal."""
        player, pos = self.player, self.player.pos
        if n > 0:
            to = self.log_window.next_line(pos, player.last)
            if to is None and pos >= player.last:
                if self.index.done:
                    self.notify(_("the end of the recording"))
                return
            player.seek(player.last if to is None else to)
        else:
            to = self.log_window.prev_line(pos)
            if to is None and pos < 0:
                self.notify(_("the start, before the first event"))
                return
            player.seek(-1 if to is None else to)

    def action_speed(self, direction: int) -> None:
        now = time.monotonic()
        if direction > 0:
            self.player.faster(now)
        else:
            self.player.slower(now)
        self._update_timeline()

    def action_seek_start(self) -> None:
        """Before the first event: the empty world the run started from."""
        self.player.seek(-1)

    def action_seek_fraction(self, f: float) -> None:
        self.player.seek_fraction(f)

    def action_jump_proc(self, direction: int) -> None:
        pid = self.query_one(ProcTable).selected_pid()
        if pid is None or not self.player.jump(direction > 0, pid=pid):
            self.notify(_("no further event of the selected process"), severity="warning")

    def selected_obj(self) -> str | None:
        """The object chosen with ``o`` (log filter), else the object of the current event."""
        log = self.query_one(EventLog)
        if log.only_obj is not None:
            return log.only_obj
        if self.player.pos >= 0:
            obj = self.index.event(self.player.pos).get("obj")
            return obj if isinstance(obj, str) else None
        return None

    def action_jump_obj(self, direction: int) -> None:
        obj = self.selected_obj()
        if obj is None or not self.player.jump(direction > 0, obj=obj):
            self.notify(_("no further event of the selected object"), severity="warning")

    def action_jump_step(self, direction: int) -> None:
        if not self.player.jump_step(direction > 0):
            self.notify(_("no further narration step"), severity="warning")

    def action_hide(self) -> None:
        obj = self.selected_obj()
        if obj is None:
            self.notify(_("hide: select an object first (o)"), severity="warning")
            return
        self.player.hide(obj)
        self.notify(
            _("what happens next to {obj} is hidden: guess, then Enter").format(
                obj=safe_text(obj, 30)
            ),
            markup=False,
        )

    def action_reveal(self) -> None:
        self.player.reveal()

    def stop(self) -> int | None:
        self.index.stop()
        return super().stop()
