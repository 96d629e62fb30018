"""The session screen: processes, objects, narration, event log, drift and checks.

Fed by a :mod:`ipcviz.tui.feed` (live engine or recorded events) or handed a finished
``State`` (``show_state``, for replay's seek/step). Events are applied to the model in
batches on a fixed timer (10–30 fps); panels read the model on that timer, so the cost of a
frame does not grow with the event rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer

from ipcviz import bytefmt
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.tui.eventfmt import EventFormatter
from ipcviz.tui.feed import Feed
from ipcviz.tui.stepping import STEP_BINDINGS, DeadlockBanner, StepControls
from ipcviz.tui.widgets import Checks, EventLog, Narration, ObjectsPanel, ProcTable, StatusLine

FPS_MIN, FPS_MAX, FPS_STEP = 10, 30, 5
#: At most this many events are applied per frame, so a flood cannot freeze the screen.
MAX_BATCH = 50_000
CHUNK = 1024
APPLY_BUDGET = 0.010  # seconds of model updates per frame at most
NARROW = 110  # columns below which the panels stack


class SessionScreen(StepControls, Screen[int | None]):
    """One run on screen. ``feed_factory`` makes a fresh feed (also used by restart)."""

    DEFAULT_CSS = """
    SessionScreen { layout: vertical; background: #000000; color: #ffffff; }
    SessionScreen #main { height: 1fr; }
    SessionScreen #left { width: 50%; height: 1fr; }
    SessionScreen #right { width: 1fr; height: 1fr; }
    SessionScreen .panel { border: round #8a8a8a; border-title-color: #ffffff;
                           border-title-style: bold; }
    SessionScreen ProcTable { border: round #8a8a8a; }
    SessionScreen #log-box { height: 1fr; min-height: 4; }
    SessionScreen.-narrow #main { layout: vertical; }
    SessionScreen.-narrow #left { width: 100%; height: auto; }
    SessionScreen.-narrow #right { width: 100%; height: 1fr; }
    SessionScreen.-narrow ProcTable { max-height: 7; }
    SessionScreen.-narrow Narration { max-height: 5; }
    SessionScreen.-narrow #log-box { height: 6; min-height: 3; }
    SessionScreen.-short #log-box { display: none; }
    SessionScreen.-wide ObjectsPanel { }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pause", "pause view"),
        Binding("f", "toggle_freeze", "freeze"),
        Binding("k", "kill", "kill proc"),
        Binding("r", "restart", "restart"),
        Binding("plus,equals_sign", "faster", "faster", key_display="+"),
        Binding("minus", "slower", "slower", key_display="-"),
        Binding("l", "toggle_lang", "en/ko"),
        Binding("p", "filter_proc", "log: proc", show=False),
        Binding("o", "filter_obj", "log: object", show=False),
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("q", "quit_session", "quit"),
        *STEP_BINDINGS,  # t / s / n / 1..9: step mode (tui/stepping.py)
    ]

    def __init__(
        self,
        feed_factory: Callable[[], Feed] | None = None,
        *,
        state: State | None = None,
        lang: str = "en",
        fps: int = 20,
    ) -> None:
        super().__init__()
        self.feed_factory = feed_factory
        self.feed: Feed | None = None
        self.lang = lang
        self.fps = max(FPS_MIN, min(FPS_MAX, fps))
        self.paused = False
        self.state: State = state if state is not None else State()
        self.result: int | None = None
        self.frame_times: list[float] = []  # seconds per frame (benchmark)
        self._timer: Timer | None = None
        self._ended = False
        self._obj_filter_i = -1
        self.formatter = EventFormatter(self.state.header, lang)

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield DeadlockBanner(id="deadlock")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                table = ProcTable(id="procs")
                table.border_title = "processes"
                yield table
                narration = Narration(id="narration", classes="panel")
                narration.border_title = "narration"
                yield narration
                checks = Checks(id="checks", classes="panel")
                checks.border_title = "checks"
                yield checks
                log = EventLog(self.formatter, id="log")
                box = Vertical(log, id="log-box", classes="panel")
                box.border_title = "events"
                yield box
            objects = ObjectsPanel(id="objects", classes="panel")
            objects.border_title = "kernel objects"
            with Vertical(id="right"):
                yield objects
        yield Footer()

    def on_mount(self) -> None:
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
        objects = self.query_one(ObjectsPanel)
        objects.rows = 2 if height < 30 else (3 if height < 50 else 6)

    # -- feeding -----------------------------------------------------------------------

    def _start_feed(self) -> None:
        assert self.feed_factory is not None
        self.feed = self.feed_factory()
        self._ended = False
        self.result = None
        self.state = State(header=self.feed.header or {})
        self.formatter = EventFormatter(self.state.header, self.lang)
        log = self.query_one(EventLog)
        log.formatter = self.formatter
        log.events.clear()
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
                self.formatter = EventFormatter(feed.header, self.lang)
                self.query_one(EventLog).formatter = self.formatter
            self._apply_some(feed, t0)
            if feed.finished and not self._ended:
                self._ended = True
                self._on_feed_end(feed)
        if not self.paused:
            self.redraw()
        self.frame_times.append(time.perf_counter() - t0)
        if len(self.frame_times) > 10_000:
            del self.frame_times[:5000]

    def _apply_some(self, feed: Feed, t0: float) -> None:
        """Apply what arrived, in chunks, within a time budget: a flood delays the model a
        little (the rest waits for the next frame) but never stretches a frame."""
        state, log = self.state, self.query_one(EventLog)
        budget = t0 + APPLY_BUDGET
        applied = 0
        while applied < MAX_BATCH:
            events = feed.drain(CHUNK)
            if not events:
                break
            for e in events:
                apply(state, e)
            log.events.extend(events)
            applied += len(events)
            if time.perf_counter() > budget:
                break

    def _on_feed_end(self, feed: Feed) -> None:
        error = getattr(feed, "error", None)
        if error:
            self.notify(error, title="stream", severity="error", markup=False)
        if feed.live:
            tail = getattr(feed, "stderr_tail", lambda: "")()
            self.result = feed.close()
            if self.state.outcome is None:  # no session.end: the engine died
                last = tail.splitlines()[-1] if tail else f"status {self.result}"
                self.notify(
                    f"the engine stopped unexpectedly: {bytefmt.safe_text(last, 200)}",
                    severity="error",
                    markup=False,
                )
            else:
                self.notify(
                    f"run ended: {self.state.outcome.upper()} — r restarts, q quits",
                    markup=False,
                )

    def show_state(self, state: State) -> None:
        """Display ``state`` as it is (replay: seek / step back). Stops any feed's effect."""
        self.state = state
        if state.header is not self.formatter.narrator.state.header:
            self.formatter = EventFormatter(state.header, self.lang)
            self.query_one(EventLog).formatter = self.formatter
        self.redraw(True)

    def set_log_events(self, events: list[dict[str, Any]]) -> None:
        """Replace the event log's contents (replay shows the events up to its position)."""
        log = self.query_one(EventLog)
        log.events.clear()
        log.events.extend(events)

    def redraw(self, force: bool = False) -> None:
        state = self.state
        self.query_one(ProcTable).sync(state)
        self.query_one(ObjectsPanel).sync(state, force)
        self.query_one(Narration).show(state, self.lang)
        self.query_one(Checks).show(state)
        self.show_deadlock()
        log = self.query_one(EventLog)
        if log.display and self.query_one("#log-box").display:
            log.sync(state)
        self.query_one(StatusLine).show(
            state,
            paused=self.paused,
            fps=self.fps,
            live=bool(self.feed and self.feed.live),
            filt=self._filter_label(),
            behind=getattr(self.feed, "pending", 0) if self.feed is not None else 0,
        )

    def _filter_label(self) -> str:
        log = self.query_one(EventLog)
        parts = []
        if log.only_pid is not None:
            parts.append(self.state.proc_name(log.only_pid))
        if log.only_obj is not None:
            parts.append(log.only_obj)
        return " & ".join(parts)

    # -- controls ----------------------------------------------------------------------

    def _live_feed(self, what: str) -> Feed | None:
        if self.feed is None or not self.feed.live:
            self.notify(f"{what}: only in a live run", severity="warning", markup=False)
            return None
        if self._ended:
            self.notify(f"{what}: the run has ended", severity="warning", markup=False)
            return None
        return self.feed

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.redraw()

    def action_toggle_freeze(self) -> None:
        feed = self._live_feed("freeze")
        if feed is not None:
            feed.send("resume" if self.state.frozen else "freeze")

    def action_kill(self) -> None:
        feed = self._live_feed("kill")
        if feed is None:
            return
        pid = self.query_one(ProcTable).selected_pid()
        proc = self.state.procs.get(pid) if pid is not None else None
        if proc is None or not proc.alive:
            self.notify("kill: select a running process first", severity="warning")
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
        self.fps = min(FPS_MAX, self.fps + FPS_STEP)
        self._set_timer()

    def action_slower(self) -> None:
        self.fps = max(FPS_MIN, self.fps - FPS_STEP)
        self._set_timer()

    def action_toggle_lang(self) -> None:
        self.lang = "ko" if self.lang == "en" else "en"
        self.formatter.set_lang(self.lang)
        self.redraw()

    def action_filter_proc(self) -> None:
        log = self.query_one(EventLog)
        pid = self.query_one(ProcTable).selected_pid()
        log.only_pid = None if log.only_pid is not None or pid is None else pid
        self.redraw()

    def action_filter_obj(self) -> None:
        log = self.query_one(EventLog)
        names = list(self.state.objects)
        self._obj_filter_i += 1
        if self._obj_filter_i >= len(names):
            self._obj_filter_i = -1
        log.only_obj = names[self._obj_filter_i] if self._obj_filter_i >= 0 else None
        self.redraw()

    def action_help(self) -> None:
        from ipcviz.tui.help import HelpScreen

        self.app.push_screen(HelpScreen(self.BINDINGS))

    def action_quit_session(self) -> None:
        self.app.exit(self.stop())

    def stop(self) -> int | None:
        """Stop the engine (if any) and return its result; safe to call twice."""
        if self._timer is not None:
            self._timer.stop()
        if self.feed is not None:
            rc = self.feed.close()
            if rc is not None:
                self.result = rc
        return self.result
