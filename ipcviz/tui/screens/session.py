"""The session screen: processes, objects, narration, event log, drift and checks.

Fed by a :mod:`ipcviz.tui.feed` (live engine or recorded events) or handed a finished
``State`` (``show_state``, for replay's seek/step). Events are applied to the model in
batches on a fixed timer (10–30 fps); panels read the model on that timer, so the cost of a
frame does not grow with the event rate.
"""

from __future__ import annotations

import copy
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import events, messages
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from ipcviz import bytefmt, i18n
from ipcviz.draw.eventfmt import EventFormatter, LogLine, record
from ipcviz.i18n import N_, _
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.narrate.headless import Narrator
from ipcviz.tui.feed import Feed
from ipcviz.tui.lang import Worded
from ipcviz.tui.messages import LeaveSession, ReplayRun
from ipcviz.tui.screens.holders import HOLDER_BINDINGS, HolderBanner, HolderControls
from ipcviz.tui.screens.pacing import PACE_BINDINGS, PaceControls
from ipcviz.tui.screens.stepping import STEP_BINDINGS, DeadlockBanner, StepControls
from ipcviz.tui.widgets.diagram import DiagramView
from ipcviz.tui.widgets.panels import (
    Checks,
    EventLog,
    IllegalBanner,
    Narration,
    ObjectsPanel,
    ProcTable,
    StatusLine,
    outcome_word,
)

FPS_MIN, FPS_MAX, FPS_STEP = 10, 30, 5
#: At most this many events are applied per frame, so a flood cannot freeze the screen.
MAX_BATCH = 50_000
CHUNK = 1024
APPLY_BUDGET = 0.010  # seconds of model updates per frame at most
#: In a flood, the log keeps (and words) only the newest this many events of a frame.
FLOOD_TAIL = 500
#: With nothing new (no event, key or message), the screen is redrawn this often, so
#: the age of a kernel reading stays true; otherwise an idle screen costs no CPU.
IDLE_REDRAW_S = 1.0
#: Messages a redraw sends to its own screen; they say nothing new.
_REDRAW_ECHOES = (messages.Update, messages.Layout, messages.UpdateScroll, events.Idle)
NARROW = 110  # columns below which the panels stack
COMPACT_BELOW = 30  # rows below which the panels are framed by one line, the checks in one
#: The rows the objects panel (or the diagram) keeps, its title line included, when ``c``
#: shows every check on a short narrow screen.
KEEP_OBJECT_ROWS = 5


#: Keys the live session and the replay share, in this order: how the run is shown.
VIEW_BINDINGS: list[BindingType] = [
    Binding("l", "toggle_lang", N_("en/ko"), tooltip=N_("the whole screen in English / Korean")),
    Binding(
        "v",
        "toggle_view",
        N_("diagram/detail"),
        tooltip=N_("the diagram (who talks to whom) or the detail panels"),
    ),
    Binding(
        "z",
        "toggle_zoom",
        N_("zoom"),
        show=False,
        tooltip=N_("the diagram alone, the whole height (narration and log hidden)"),
    ),
    Binding(
        "c",
        "toggle_checks",
        N_("checks"),
        show=False,
        tooltip=N_("the checks in full, or in one line on a short screen"),
    ),
    Binding(
        "p",
        "filter_proc",
        N_("log: proc"),
        show=False,
        tooltip=N_("event log: only the selected process (again: all)"),
    ),
]


class SessionScreen(Worded, HolderControls, StepControls, PaceControls, Screen[int | None]):
    """One run on screen. ``feed_factory`` makes a fresh feed (also used by restart)."""

    DEFAULT_CSS = """
    SessionScreen { layout: vertical; background: $background; color: $foreground; }
    SessionScreen #main { height: 1fr; }
    SessionScreen #left { width: 50%; height: 1fr; }
    SessionScreen #right { width: 1fr; height: 1fr; }
    SessionScreen .panel { border: round $frame; border-title-color: $foreground;
                           border-title-style: bold; }
    SessionScreen ProcTable { border: round $frame; }
    SessionScreen #log-box { height: 1fr; min-height: 4; }
    SessionScreen.-narrow #main { layout: vertical; }
    SessionScreen.-narrow #left { width: 100%; height: auto; }
    SessionScreen.-narrow #right { width: 100%; height: 1fr; }
    SessionScreen.-narrow ProcTable { max-height: 7; }
    SessionScreen.-narrow Narration { max-height: 5; }
    SessionScreen.-narrow #log-box { height: 6; min-height: 3; }
    SessionScreen.-compact .panel { border-bottom: none; }
    SessionScreen.-compact Narration { max-height: 4; }
    SessionScreen.-compact.-narrow #log-box { height: 4; min-height: 4; }
    SessionScreen.-wide ObjectsPanel { }
    SessionScreen #diagram { display: none; }
    SessionScreen.-diagram #diagram { display: block; }
    SessionScreen.-diagram #objects { display: none; }
    SessionScreen.-diagram #left { width: 40%; }
    SessionScreen.-diagram.-narrow #left { width: 100%; }
    SessionScreen.-diagram.-narrow #procs { display: none; }
    SessionScreen.-diagram.-narrow #log-box { display: none; }
    SessionScreen.-diagram.-narrow.-compact #log-box { display: block; height: 4; min-height: 4; }
    SessionScreen.-diagram.-zoom #left { display: none; }
    SessionScreen.-compact.-narrow.-checks-open #procs { display: none; }
    SessionScreen.-compact.-narrow.-checks-open #narration { display: none; }
    """
    #: The diagram view (processes, objects, edges) rather than the detail panels at start;
    #: ``v`` switches.
    DIAGRAM_FIRST = False
    #: Below ``COMPACT_BELOW`` rows, the compact layout (``_layout_for``); the presenter
    #: screen lays out its own short screens.
    COMPACT = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space",
            "toggle_pause",
            N_("pause view"),
            tooltip=N_("pause / resume the VIEW (the processes keep running)"),
        ),
        Binding(
            "f",
            "toggle_freeze",
            N_("freeze"),
            tooltip=N_("freeze / unfreeze the processes (SIGSTOP / SIGCONT)"),
        ),
        Binding("k", "kill", N_("kill proc"), tooltip=N_("kill the selected process (SIGKILL)")),
        Binding(
            "r", "restart", N_("restart"), tooltip=N_("restart the scenario from the beginning")
        ),
        Binding(
            "R",
            "replay_run",
            N_("replay"),
            key_display="R",
            show=False,  # the end's toast offers it; the footer is full already
            tooltip=N_("the run just ended, replayed from its start (→ steps through it)"),
        ),
        Binding(
            "plus,equals_sign",
            "faster",
            N_("faster"),
            key_display="+",
            show=False,
            tooltip=N_("redraw faster (up to 30 frames/s)"),
        ),
        Binding(
            "minus",
            "slower",
            N_("slower"),
            key_display="-",
            show=False,
            tooltip=N_("redraw slower (down to 10 frames/s)"),
        ),
        *VIEW_BINDINGS,  # l / v / p: language, diagram or detail, log filter
        Binding(
            "o",
            "filter_obj",
            N_("log: object"),
            show=False,
            tooltip=N_("event log: cycle through the objects"),
        ),
        Binding("question_mark", "help", N_("help"), key_display="?", tooltip=N_("this help")),
        Binding("q", "quit_session", N_("quit"), tooltip=N_("quit: stop the engine and clean up")),
        *STEP_BINDINGS,  # t / s / n / 1..9: step mode (ipcviz/tui/screens/stepping.py)
        *PACE_BINDINGS,  # < / > / u: the processes' pace (ipcviz/tui/screens/pacing.py)
        *HOLDER_BINDINGS,  # g: post for a dead holder (ipcviz/tui/screens/holders.py)
    ]
    #: The footer shows these actions first, in this order (the rest follow in BINDINGS
    #: order): a footer is cut at the right, so what matters on this screen goes left.
    FOOTER_FIRST: ClassVar[tuple[str, ...]] = (
        "toggle_step",
        "step_selected",
        "step_random",
        "pace",
        "help",
        "quit_session",
        "toggle_view",
        "toggle_pause",
    )
    #: Presenter mode (a screen with → / ←): narration, then the pace, first.
    PRESENT_FIRST: ClassVar[tuple[str, ...]] = (
        "next_step",
        "previous_step",
        "pace",
        "help",
        "quit_session",
        "toggle_view",
        "toggle_lang",
    )

    #: Redraws per second (``+``/``-``, bounded by ``validate_fps``): the frame timer
    #: follows (``watch_fps``).
    fps: reactive[int] = reactive(20, init=False)
    #: The view is frozen (space): processes run on, the screen stops redrawing.
    paused: reactive[bool] = reactive(False, init=False)

    def __init__(
        self,
        feed_factory: Callable[[], Feed] | None = None,
        *,
        state: State | None = None,
        lang: str | None = None,
        fps: int = 20,
    ) -> None:
        super().__init__()
        self.feed_factory = feed_factory
        self.feed: Feed | None = None
        if lang is not None:
            i18n.set_lang(lang)
        self.set_reactive(SessionScreen.fps, self.validate_fps(fps))
        self.state: State = state if state is not None else State()
        #: While the view is paused: the model as it was at that moment, which is what is
        #: drawn (``shown``), and the log's lines go on into ``_live_log`` unseen. The feed
        #: keeps being applied to ``state`` (the keys that act on the processes read it).
        self._paused_at: State | None = None
        self._live_log: deque[LogLine] | None = None
        self.result: int | None = None
        self.frame_times: list[float] = []  # seconds per frame (benchmark)
        self._dirty = True  # a key, a message or a new model since the last redraw
        self._drawn_at = 0.0
        self._timer: Timer | None = None
        self._ended = False
        self._obj_filter_i = -1
        #: The checks in full even on a short screen (``c``), where they are one line.
        self.checks_open = False
        #: ``q`` was pressed: the engine is being stopped (``begin_stopping``).
        self.stopping = False
        self._checks_rows: int | None = None  # the checks' height set by ``_fit_checks``
        #: Seconds to apply and word one event (measured): what a flood's owed tail costs.
        self._worded_cost = 3e-6
        #: Events of a flood applied without a log line (they left the log unseen).
        self.unworded = 0
        #: Draws the log's lines, in the language now chosen (``ipcviz.i18n``).
        self.formatter = EventFormatter(self.state.header)
        #: Applies the feed's events to ``state`` and words each one right then (the log):
        #: its sentences keep their values, the words come when drawn.
        self.narrator = Narrator(self.state.header, state=self.state)

    @property
    def shown(self) -> State:
        """The model the screen draws: ``state``, or while paused the moment it paused."""
        return self._paused_at if self._paused_at is not None else self.state

    @property
    def lang(self) -> str:
        """The language on screen: one for the whole process (``ipcviz.i18n``), set by the
        app (``IpcvizApp.lang``, ``l``)."""
        return i18n.get_lang()

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's active bindings, the ones that matter here first (the footer's order)."""
        bindings = super().active_bindings
        rank = {action: i for i, action in enumerate(self.footer_first())}
        own = [b.action for b in type(self).BINDINGS if isinstance(b, Binding)]
        order = {action: i for i, action in reversed(list(enumerate(own)))}

        def key(item: tuple[str, ActiveBinding]) -> tuple[int, int]:
            action = item[1].binding.action
            return rank.get(action.split("(")[0], len(rank)), order.get(action, len(order))

        return dict(sorted(bindings.items(), key=key))

    def footer_first(self) -> tuple[str, ...]:
        """The actions the footer shows first on this screen."""
        names = {b.action for b in type(self).BINDINGS if isinstance(b, Binding)}
        return self.PRESENT_FIRST if "next_step" in names else self.FOOTER_FIRST

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield DeadlockBanner(id="deadlock")
        yield HolderBanner(id="holder")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield ProcTable(id="procs")
                yield Narration(id="narration", classes="panel")
                yield Checks(id="checks", classes="panel")
                log = EventLog(self.formatter, id="log")
                yield Vertical(log, id="log-box", classes="panel")
            objects = ObjectsPanel(id="objects", classes="panel")
            with Vertical(id="right"):
                yield objects
                yield DiagramView(id="diagram")
        yield Footer()

    #: Panel titles (drawn in the language now chosen: ``relabel``).
    TITLES: ClassVar[dict[str, str]] = {
        "#procs": N_("processes"),
        "#narration": N_("narration"),
        "#checks": N_("checks"),
        "#log-box": N_("events"),
        "#objects": N_("kernel objects"),
    }

    def relabel(self) -> None:
        """Everything in the language now chosen: titles, column labels, the log's words
        (its lines keep the values of their moment), every panel drawn again."""
        for selector, title in self.TITLES.items():
            for widget in self.query(selector):
                widget.border_title = _(title)
        self.query_one(ProcTable).relabel()
        if self.is_mounted:
            self.redraw(True)

    def on_mount(self) -> None:
        self.relabel()
        self.set_class(self.DIAGRAM_FIRST, "-diagram")
        self._layout_for(self.app.size.width, self.app.size.height)
        if self.feed_factory is not None:
            self._start_feed()
        self._set_timer()
        self.call_after_refresh(self.redraw, True)

    def on_resize(self, event: Resize) -> None:
        self._layout_for(event.size.width, event.size.height)
        self.call_after_refresh(self.redraw, True)

    def _layout_for(self, width: int, height: int) -> None:
        self.set_class(width < NARROW, "-narrow")
        self.set_class(width >= 160, "-wide")
        self.set_class(height < 30 and width < NARROW, "-short")
        # A short screen (80x24, a projector's) keeps the objects and a few log lines:
        # panels framed by their title line only, the checks in one line (``c``: in full)
        self.set_class(self.COMPACT and height < COMPACT_BELOW, "-compact")
        objects = self.query_one(ObjectsPanel)
        objects.rows = 2 if height < 30 else (3 if height < 50 else 6)

    # -- feeding -----------------------------------------------------------------------

    def _start_feed(self) -> None:
        assert self.feed_factory is not None
        self.feed = self.feed_factory()
        self._ended = False
        self.result = None
        self._release()
        self._set_model(State(header=self.feed.header or {}))
        self.query_one(EventLog).entries.clear()
        if self.paused:  # a restart while paused: the new run's first moment holds
            self._hold()
        self.run_worker(self.feed.pump, thread=True, name="feed", group="feed")

    def _set_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(1 / self.fps, self.tick, name="frame")

    def tick(self) -> None:
        """One frame: apply the events that arrived, then redraw from the model."""
        t0 = time.perf_counter()
        feed = self.feed
        if feed is not None:
            if not self.state.header and feed.header:
                self.state.header = feed.header
                self._set_model(self.state)
            if self._apply_some(feed, t0):
                self._dirty = True
            if feed.finished and not self._ended:
                self._ended = True
                self._dirty = True
                self._on_feed_end(feed)
                if self.recorded_trace() is not None:
                    self.refresh_bindings()  # R (replay) is on now
        if not self.paused and (self._dirty or t0 - self._drawn_at >= IDLE_REDRAW_S):
            self.redraw()
        self.frame_times.append(time.perf_counter() - t0)
        if len(self.frame_times) > 10_000:
            del self.frame_times[:5000]

    async def _on_message(self, message: Message) -> None:
        """Anything that reaches the screen (a key, a click, a resize, a widget's message)
        may change what it shows: the next frame redraws. The frame timer calls ``tick``
        directly, so it is not a message, and the messages a redraw itself causes (the
        compositor's updates) are not counted: an idle screen stays idle."""
        if not isinstance(message, _REDRAW_ECHOES):
            self._dirty = True
        await super()._on_message(message)

    def _apply_some(self, feed: Feed, t0: float) -> int:
        """Apply what arrived, in chunks, within a time budget: a flood delays the model a
        little (the rest waits for the next frame) but never stretches a frame much.

        Each event is worded for the log as it is applied (``record``: from the state it
        made), except in a flood: a chunk with ``FLOOD_TAIL`` more events already waiting
        behind it is applied unworded (wording costs more than applying; nobody reads a
        log scrolling at thousands of lines a frame). The frame then owes the log
        ``FLOOD_TAIL`` worded events and applies them even past the budget: the log always
        ends with the newest events, each worded at its own moment, and never spans an
        unworded gap (it is emptied at one)."""
        narrator, log = self.narrator, self._log_sink()
        keep = FLOOD_TAIL
        budget = t0 + APPLY_BUDGET
        fast_until = budget - keep * self._worded_cost  # room left for the owed tail
        applied = owed = 0
        while applied < MAX_BATCH or owed:
            if (
                applied < MAX_BATCH
                and feed.pending >= keep + CHUNK
                and (applied == 0 or time.perf_counter() < fast_until)
            ):
                events = feed.drain(CHUNK)
                if not events:  # a feed whose count was ahead of its events
                    break
                for e in events:
                    apply(narrator.state, e)
                log.clear()
                self.unworded += len(events)
                applied += len(events)
                owed = keep
                continue
            events = feed.drain(min(owed, CHUNK) if owed else CHUNK)
            if not events:
                break
            w0 = time.perf_counter()
            for e in events:
                line = record(narrator, e)  # applies e, words it from the state it made
                if line is not None:
                    log.append(line)
            now = time.perf_counter()
            self._worded_cost = 0.8 * self._worded_cost + 0.2 * (now - w0) / len(events)
            applied += len(events)
            owed = max(0, owed - len(events))
            if not owed and now > budget:
                break
        return applied

    def _log_sink(self) -> deque[LogLine]:
        """Where the log's new lines go: the log on screen, or while paused the live one."""
        return self._live_log if self._live_log is not None else self.query_one(EventLog).entries

    def _hold(self) -> None:
        """Paused: draw a copy of the model as it is now, and the log's lines as they are;
        the feed goes on into the model and a live copy of the log."""
        state = self.state
        self._paused_at = copy.deepcopy(state, {id(state.header): state.header})
        entries = self.query_one(EventLog).entries
        self._live_log = deque(entries, maxlen=entries.maxlen)

    def _release(self) -> None:
        """Resumed: draw the model again, and the log with what came while paused."""
        if self._live_log is not None:
            entries = self.query_one(EventLog).entries
            entries.clear()
            entries.extend(self._live_log)
        self._paused_at = self._live_log = None

    def _on_feed_end(self, feed: Feed) -> None:
        error = getattr(feed, "error", None)
        if error:
            self.notify(error, title=_("stream"), severity="error", markup=False)
        if feed.live:
            tail = getattr(feed, "stderr_tail", lambda: "")()
            self.result = feed.close()
            if self.state.outcome is None:  # no session.end: the engine died
                code = _("status {code}").format(code=self.result)
                last = tail.splitlines()[-1] if tail else code
                self.notify(
                    _("the engine stopped unexpectedly: {why}").format(
                        why=bytefmt.safe_text(last, 200)
                    ),
                    severity="error",
                    markup=False,
                )
            else:
                said = (
                    _("run ended: {outcome} — R replays it, r restarts, q goes back")
                    if self.opened_from_another
                    else _("run ended: {outcome} — R replays it, r restarts, q quits")
                )
                self.notify(said.format(outcome=outcome_word(self.state.outcome)), markup=False)

    def _set_model(self, state: State) -> None:
        """The feed's events go to ``state`` from now on (a new run, or its header came)."""
        self.state = state
        if self._paused_at is not None and self._paused_at.header is not state.header:
            self._paused_at.header = state.header  # (the header came while paused)
        self.formatter = EventFormatter(state.header)
        self.narrator = Narrator(state.header, state=state)
        self.query_one(EventLog).formatter = self.formatter
        self.refresh_bindings()  # (a program's run: no step or pace keys, ``check_action``)

    #: Keys that work only through ipcviz's step gate, which a program's processes (``run
    #: -- PROG``, seen through strace) never pass: hidden and off there, not said to work.
    GATE_ACTIONS = frozenset({"toggle_step", "step_selected", "step_random", "step_number", "pace"})

    #: What keys still do while the engine stops (``q``, ``stopping``): how the run is
    #: shown, nothing that asks the engine, opens a screen or leaves again.
    WHILE_STOPPING = frozenset(
        {"toggle_lang", "toggle_view", "toggle_zoom", "toggle_checks", "filter_proc"}
        | {"filter_obj", "toggle_pause"}
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.stopping and action not in self.WHILE_STOPPING:
            return False
        if action == "replay_run":  # once the run has ended and its trace is there (None:
            return self.recorded_trace() is not None or None  # dimmed, still in ? and footer)
        return not (action in self.GATE_ACTIONS and self.state.header.get("program"))

    def recorded_trace(self) -> Path | None:
        """The trace of this live run once it has ended (every live run records one)."""
        trace = getattr(self.feed, "trace", None) if self._ended else None
        return trace if isinstance(trace, Path) and trace.is_file() else None

    def action_replay_run(self) -> None:
        """``R`` at the end: a run of a C example is over in ~60 ms, so what a student saw
        is its end; its replay opens on top at the start (``q`` comes back here)."""
        trace = self.recorded_trace()
        if trace is not None:
            self.post_message(ReplayRun(trace))

    def show_state(self, state: State) -> None:
        """Display ``state`` as it is (replay: seek / step back). Stops any feed's effect."""
        self.state = state
        if self._paused_at is not None:  # asked for: shown even while paused
            self._paused_at = state
        if state.header is not self.formatter.header:
            self.formatter = EventFormatter(state.header)
            self.query_one(EventLog).formatter = self.formatter
        self.redraw(True)

    def set_log_lines(self, lines: list[LogLine]) -> None:
        """Replace the event log's contents (replay: the lines up to its position, worded
        from the states at their own events by ``eventfmt.LogWindow``)."""
        entries = self.query_one(EventLog).entries
        entries.clear()
        entries.extend(lines)

    def redraw(self, force: bool = False) -> None:
        self._dirty = False
        self._drawn_at = time.perf_counter()
        state = self.shown  # paused: the moment it paused, whatever key redraws it
        self.query_one(ProcTable).sync(state)
        if self.diagram_shown:
            self.query_one(DiagramView).sync(state, force)
        else:
            self.query_one(ObjectsPanel).sync(state, force)
        self.query_one(Narration).show(state, self.lang)
        self.query_one(Checks).show(
            state, brief=self.has_class("-compact") and not self.checks_open
        )
        self._fit_checks()
        self.show_deadlock()
        self.show_holders()
        log = self.query_one(EventLog)
        if log.display and self.query_one("#log-box").display:
            log.sync()
        self.query_one(StatusLine).show(
            state,
            paused=self.paused,
            fps=self.fps,
            live=bool(self.feed and self.feed.live),
            filt=self._filter_label(),
            behind=getattr(self.feed, "pending", 0) if self.feed is not None else 0,
            pace=self.current_pace(),
            world=self.state,  # step mode, frozen: what the processes are now
            stopping=self.stopping,
        )

    def _filter_label(self) -> str:
        log = self.query_one(EventLog)
        parts = []
        if log.only_pid is not None:
            parts.append(self.shown.proc_name(log.only_pid))
        if log.only_obj is not None:
            parts.append(log.only_obj)
        return " & ".join(parts)

    # -- controls ----------------------------------------------------------------------

    def _live_feed(self, what: str) -> Feed | None:
        if self.feed is None or not self.feed.live:
            self.notify(
                _("{what}: only in a live run").format(what=_(what)),
                severity="warning",
                markup=False,
            )
            return None
        if self._ended:
            self.notify(
                _("{what}: the run has ended").format(what=_(what)),
                severity="warning",
                markup=False,
            )
            return None
        return self.feed

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused

    def watch_paused(self, paused: bool) -> None:
        if paused:
            self._hold()
        else:
            self._release()
        self.redraw()

    def action_toggle_freeze(self) -> None:
        feed = self._live_feed(N_("freeze"))
        if feed is not None:
            feed.send("resume" if self.state.frozen else "freeze")

    def action_kill(self) -> None:
        feed = self._live_feed(N_("kill"))
        if feed is None:
            return
        pid = self.query_one(ProcTable).selected_pid()
        proc = self.state.procs.get(pid) if pid is not None else None
        if proc is None or not proc.alive:
            self.notify(_("kill: select a running process first"), severity="warning")
            return
        feed.send("kill", pid=pid)

    def action_restart(self) -> None:
        if self.feed_factory is None:
            return
        if self.feed is not None:
            self.feed.close()
        self.workers.cancel_group(self, "feed")
        self.query_one(ProcTable).reset()
        self.query_one(ObjectsPanel).reset()
        self._start_feed()
        self.redraw(True)

    def action_faster(self) -> None:
        self.fps += FPS_STEP

    def action_slower(self) -> None:
        self.fps -= FPS_STEP

    def validate_fps(self, fps: int) -> int:
        return max(FPS_MIN, min(FPS_MAX, fps))

    def watch_fps(self) -> None:
        """The frame timer follows (once there is one), and the status line says so."""
        if self._timer is not None:
            self._set_timer()
            self.redraw()

    @property
    def diagram_shown(self) -> bool:
        return self.has_class("-diagram")

    def action_toggle_view(self) -> None:
        """``v``: the diagram view or the detail panels (both read the same model)."""
        self.set_class(not self.diagram_shown, "-diagram")
        self.remove_class("-zoom")  # (the detail panels, or the diagram as it was)
        self.call_after_refresh(self.redraw, True)

    def action_toggle_zoom(self) -> None:
        """``z``: the diagram alone on the whole height (at 80x24 the narration and the log
        leave it 13 rows, and a figure of four objects needs 18: it was a table), or back.
        From the detail panels, it shows the diagram."""
        zoom = not (self.has_class("-zoom") and self.diagram_shown)
        self.set_class(zoom, "-zoom")
        if zoom:
            self.add_class("-diagram")
        self.call_after_refresh(self.redraw, True)

    def action_toggle_checks(self) -> None:
        """``c``: the checks in full (on a short screen they are one line), or one line."""
        self.checks_open = not self.checks_open
        self.set_class(self.checks_open, "-checks-open")
        self.redraw()
        self.call_after_refresh(self._fit_checks)  # once the layout has the panels hidden

    def _fit_checks(self) -> None:
        """Every check (``c``) on a short narrow screen takes the rows of the processes and
        the narration (hidden meanwhile), and no more than leaves the log its rows and the
        objects panel ``KEEP_OBJECT_ROWS``: at 80x24 the checks used to push the objects
        panel and the log off the screen. Cut there, its last row ends in "…"."""
        checks = self.query_one(Checks)
        rows: int | None = None  # the stylesheet's
        if self.checks_open and self.has_class("-compact") and self.has_class("-narrow"):
            main = self.query_one("#main").size.height
            log = self.query_one("#log-box")
            taken = log.outer_size.height if log.display else 0
            frame = checks.outer_size.height - checks.size.height  # its title line
            rows = max(1, min(10, main - taken - frame - KEEP_OBJECT_ROWS))
        if rows != self._checks_rows:
            self._checks_rows = rows
            checks.styles.max_height = rows

    def action_filter_proc(self) -> None:
        log = self.query_one(EventLog)
        pid = self.query_one(ProcTable).selected_pid()
        log.only_pid = None if log.only_pid is not None or pid is None else pid
        self.redraw()

    def action_filter_obj(self) -> None:
        log = self.query_one(EventLog)
        names = list(self.shown.objects)  # the objects on screen
        self._obj_filter_i += 1
        if self._obj_filter_i >= len(names):
            self._obj_filter_i = -1
        log.only_obj = names[self._obj_filter_i] if self._obj_filter_i >= 0 else None
        self.redraw()

    def action_help(self) -> None:
        from ipcviz.tui.screens.help import HelpScreen, KeyHelp, keys_of

        extra = [KeyHelp("↑ ↓", _("select a process in the table (for the keys that act on one)"))]
        self.app.push_screen(HelpScreen(keys_of(self), extra))

    @property
    def opened_from_another(self) -> bool:
        """Opened from the picker or the runs list: ``q`` goes back there (the App's
        ``on_leave_session``), not out of the app."""
        stack = self.app.screen_stack
        return self in stack and stack.index(self) > 1  # [Textual's default, …, self]

    def action_quit_session(self) -> None:
        """``q``: the App stops this run and goes back where it came from (or ends)."""
        self.post_message(LeaveSession(self))

    def begin_stopping(self) -> None:
        """``q`` taken: the status line says the run is stopping, and only the keys that
        change how it is shown still work (``WHILE_STOPPING``) until it is gone."""
        self.stopping = True
        self.refresh_bindings()
        self.redraw()

    def stop(self) -> int | None:
        """Stop the engine (if any) and return its result; safe to call twice."""
        if self._timer is not None:
            self._timer.stop()
        return self.stop_engine()

    def stop_engine(self) -> int | None:
        """Stop the engine (if any) and return its result: no Textual here, so the App
        runs it in a thread on ``q`` (asking the engine, then SIGTERM, then SIGKILL and
        reaping take a second or more in a busy run) while the screen keeps drawing."""
        if self.feed is not None:
            rc = self.feed.close()
            if rc is not None:
                self.result = rc
        return self.result


def illegal_banner(notice: str) -> Static:
    """A replay's top line when ``ipcviz verify`` rejects the trace: said before any value
    of it is drawn, in plain Text (the reason quotes the untrusted trace), never markup."""
    return IllegalBanner(notice)
