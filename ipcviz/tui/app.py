"""The Textual application: theme, command palette, and navigation. Screens ask to go
elsewhere with messages (``ipcviz/tui/messages.py``); the App pushes the screen."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.theme import Theme

from ipcviz import i18n
from ipcviz.draw import palette as P
from ipcviz.engine.options import EngineOptions
from ipcviz.errors import IpcvizError, TraceError
from ipcviz.i18n import N_, _
from ipcviz.model.state import State
from ipcviz.replay import TraceIndex
from ipcviz.tui.feed import Feed, LiveFeed
from ipcviz.tui.messages import LeaveSession, OpenRuns, ReplayRun, RunScenario
from ipcviz.tui.screens.session import SessionScreen

#: Projector-readable: pure black background, white text, saturated accents.
CONTRAST = Theme(
    name="ipcviz-contrast",
    primary=P.GOLD,
    secondary=P.CYAN,
    accent=P.ORANGE,
    warning=P.AMBER,
    error=P.RED,
    success=P.GREEN,
    foreground=P.WHITE,
    background=P.BLACK,
    surface=P.BLACK,
    panel=P.PANEL,
    dark=True,
)
#: ipcviz's own theme variables (DEFAULT_CSS uses them; another theme may set them too):
#: panel frames, the banners of a deadlock or a dead holder, an illegal trace, a reached
#: challenge, and the status line.
THEME_VARIABLES = {
    "frame": P.FRAME,
    "alarm": P.ALARM,
    "danger": P.DANGER,
    "reached": P.REACHED,
    "status": P.STATUS,
}


class IpcvizApp(App[int]):
    """Starts on the picker, or directly on a session (``feed_factory`` or ``state``)."""

    TITLE = "ipcviz"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+c",
            "quit_all",
            N_("quit"),
            show=False,
            priority=True,
            tooltip=N_("quit: stop every engine, clean up"),
        )
    ]
    #: The language of everything on screen (``ipcviz.i18n``); ``l`` sets it, and every
    #: screen of the stack is worded again (``watch_lang``).
    lang: reactive[str] = reactive("en", init=False)
    #: What a session is shown on (presenter mode sets ipcviz.tui.screens.present.PresentScreen).
    session_class: Callable[..., SessionScreen] = SessionScreen

    def __init__(
        self,
        feed_factory: Callable[[], Feed] | None = None,
        *,
        state: State | None = None,
        lang: str | None = None,
        scenarios: list[Any] | None = None,
        quick: bool = False,
        record: Path | None = None,
        timeout: float | None = None,
        fps: int = 20,
        engine_options: EngineOptions | None = None,
    ) -> None:
        super().__init__()
        self.feed_factory = feed_factory
        self.initial_state = state
        lang = lang or i18n.get_lang()
        i18n.set_lang(lang)  # one language per process: this app's from its start
        self.set_reactive(IpcvizApp.lang, lang)
        self.scenarios = scenarios
        self.quick = quick
        self.record = record
        self.timeout = timeout
        self.fps = fps
        self.sessions: list[SessionScreen] = []
        #: How every engine this app starts runs (seed, schedule, present…): a template;
        #: scenario, trace, session, language, quick and time limit are filled per start.
        self.engine_options = engine_options or EngineOptions.template()
        self.recorded: list[Path] = []  # every trace its engines wrote (one per start)
        #: The screen to open on instead of the picker or a session (a replay): made once
        #: the app runs
        self.first_screen: Callable[[IpcvizApp], SessionScreen] | None = None
        #: (message, title, severity) → until when its toast is shown (``notify``)
        self._toasts: dict[tuple[str, str, str], float] = {}

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """One toast per message while it is shown: a key pressed again and again (``→``
        after the run ended, on a projector) would stack the same words down the screen."""
        now = time.monotonic()
        key = (message, title, severity)
        shown = self._toasts.get(key)
        if shown is not None and now < shown:
            return
        self._toasts[key] = now + (self.NOTIFICATION_TIMEOUT if timeout is None else timeout)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """ipcviz's own variables, whatever the theme (``THEME_VARIABLES``)."""
        return {**super().get_theme_variable_defaults(), **THEME_VARIABLES}

    def watch_lang(self, lang: str) -> None:
        """The whole screen in ``lang``, now: every screen of the stack words its titles,
        labels and keys again; the event log's lines keep their values and take the new
        words when drawn (``ipcviz.i18n.lazy``)."""
        i18n.set_lang(lang)
        for screen in self.screen_stack:
            relabel = getattr(screen, "relabel", None)
            if relabel is not None:
                relabel()
            screen.refresh_bindings()

    def on_unmount(self) -> None:
        """However the app ends (q, an exception in a test's Pilot, the command palette), its
        engines are stopped here, in the app's own shutdown: an engine whose workers wait
        forever (a deadlock) would otherwise keep its feed's reader thread waiting too.
        ``ipcviz.tui.launch`` stops them again after ``run()``: ``stop`` is idempotent."""
        self.close_all()

    def on_mount(self) -> None:
        import gc

        gc.collect()
        gc.freeze()  # long-lived startup objects leave the GC's scans: no multi-ms pauses
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(sig, self._terminal_gone)
        self.register_theme(CONTRAST)
        self.theme = "ipcviz-contrast"
        if self.first_screen is not None:
            screen = self.first_screen(self)
            self.sessions.append(screen)  # so the app stops it (its indexing) on exit
            self.push_screen(screen)
        elif self.feed_factory is not None or self.initial_state is not None:
            self._push_session(self.feed_factory, self.initial_state)
        else:
            from ipcviz.tui.screens.picker import PickerScreen

            if self.scenarios is None:
                from ipcviz.scenario.loader import load_listed

                self.scenarios = load_listed()
            self.push_screen(PickerScreen(self.scenarios))

    def _push_session(
        self, factory: Callable[[], Feed] | None, state: State | None = None
    ) -> SessionScreen:
        screen = self.session_class(factory, state=state, lang=self.lang, fps=self.fps)
        self.sessions.append(screen)
        self.push_screen(screen)
        return screen

    def live_factory(
        self, path: Path, program: tuple[str, ...] | None = None
    ) -> Callable[[], Feed]:
        """A new engine (and a new trace file) each time it is called (start, restart)."""

        def make() -> Feed:
            from ipcviz.engine.client import default_trace_path
            from ipcviz.events.trace import default_trace_dir
            from ipcviz.session.registry import new_session_id

            sid = new_session_id()
            if self.record is None:
                trace = default_trace_path(path.stem.replace("_", "-"), default_trace_dir(), sid)
            elif not self.recorded:
                trace = self.record
            else:  # a restart never overwrites the first run's trace: NAME-SID.jsonl
                trace = self.record.with_name(f"{self.record.stem}-{sid}{self.record.suffix}")
            self.recorded.append(trace)
            return LiveFeed(
                self.engine_options.for_run(
                    path,
                    trace,
                    quick=self.quick,
                    lang=self.lang,
                    # no limit on screen: a lecturer may freeze a run and talk for minutes
                    timeout=0.0 if self.timeout is None else self.timeout,
                    sid=sid,
                    **({} if program is None else {"program": program}),
                )
            )

        return make

    def start_scenario(self, source: str | Path) -> None:
        path = Path(source)
        try:  # a C example (scenarios/c/NAME.py): its program, compiled, under strace
            program = _c_program(path)
        except IpcvizError as exc:  # no compiler, does not compile: one line, no session
            self.notify(str(exc), severity="error")
            return
        self._push_session(self.live_factory(path, program))

    # -- navigation: what screens ask for -------------------------------------------------

    def on_run_scenario(self, message: RunScenario) -> None:
        self.start_scenario(message.source)

    def on_open_runs(self, message: OpenRuns) -> None:
        from ipcviz.tui.screens.runs import RunsScreen

        self.push_screen(RunsScreen())

    def on_replay_run(self, message: ReplayRun) -> None:
        """A recorded run, replayed on top of the runs list (``q`` comes back to it)."""
        from ipcviz.tui.screens.replay import ReplayScreen

        try:
            index = TraceIndex.open(message.path)
        except TraceError as exc:  # not a trace, or a foreign one: one line, stay here
            self.notify(str(exc), severity="error", markup=False)
            return
        screen = ReplayScreen(index, fps=self.fps)
        self.sessions.append(screen)  # so the app stops its indexing on exit
        self.push_screen(screen)

    def on_leave_session(self, message: LeaveSession) -> None:
        """A session's ``q``: its engine stopped (its processes reaped, its objects removed)
        before anything else is shown; then back to the screen it was opened from (the
        picker, the runs list), or, opened directly (``ipcviz run``, ``replay``), the end
        of the app with the run's result. The stopping runs in a thread: done here, in
        the event loop, it froze the screen and every key for as long as it took."""
        screen = message.screen
        if not isinstance(screen, SessionScreen) or screen is not self.screen or screen.stopping:
            return  # (a second q while the first was on its way)
        screen.begin_stopping()
        self.run_worker(self._leave(screen), group="leave")

    async def _leave(self, screen: SessionScreen) -> None:
        """``on_leave_session``'s end, once the engine has stopped."""
        await asyncio.to_thread(screen.stop_engine)
        result = screen.stop()  # (its timer, on this thread; the engine is stopped)
        if screen not in self.screen_stack:
            return  # (the app is ending: Ctrl+C)
        if screen.opened_from_another:
            if screen in self.sessions:
                self.sessions.remove(screen)  # stopped: its State is let go with it
            while self.screen is not screen:  # (the command palette, opened meanwhile)
                self.pop_screen()
            self.pop_screen()
        else:
            self.exit(result)

    @property
    def session(self) -> SessionScreen | None:
        screen = self.screen
        return screen if isinstance(screen, SessionScreen) else None

    def action_quit_all(self) -> None:
        """Ctrl+C: the whole app ends, wherever it is (every engine stopped first)."""
        self.exit(self.close_all())

    def _terminal_gone(self) -> None:
        """SIGHUP (the terminal closed) or SIGTERM, handled in the event loop, never in the
        middle of Textual's own code: stop the engines (they clean up), then leave. With the
        terminal gone Textual may block writing to it, so the process ends regardless after
        a few seconds: by then nothing of the run is left to lose."""
        watchdog = threading.Timer(5.0, os._exit, (0,))
        watchdog.daemon = True
        watchdog.start()
        self.close_all()
        self.exit(0)

    def close_all(self) -> int | None:
        """Stop every engine this app started; the last session's result."""
        result = None
        for s in self.sessions:
            rc = s.stop()
            result = rc if rc is not None else result
        return result

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, SessionScreen):
            for title, help_, action in (
                (
                    N_("Pause / resume view"),
                    N_("stop redrawing; processes keep running"),
                    "toggle_pause",
                ),
                (
                    N_("Freeze / unfreeze processes"),
                    N_("SIGSTOP / SIGCONT the workers"),
                    "toggle_freeze",
                ),
                (N_("Kill selected process"), N_("SIGKILL the selected process"), "kill"),
                (N_("Restart scenario"), N_("stop the engine and start again"), "restart"),
                (N_("Faster redraw"), N_("+5 frames per second"), "faster"),
                (N_("Slower redraw"), N_("-5 frames per second"), "slower"),
                (N_("Language"), N_("English / Korean: the whole screen"), "toggle_lang"),
                (
                    N_("Diagram: the whole height"),
                    N_("the diagram alone (narration and log hidden); again: back"),
                    "toggle_zoom",
                ),
                (N_("Log: selected process only"), N_("filter the event log"), "filter_proc"),
                (N_("Log: next object"), N_("filter the event log by object"), "filter_obj"),
                (N_("Keys help"), N_("every key and what it does"), "help"),
                (N_("Quit session"), N_("stop the engine, clean up, exit"), "quit_session"),
            ):
                if screen.check_action(action, ()) is not False:  # e.g. live-only in a replay
                    yield SystemCommand(_(title), _(help_), getattr(screen, f"action_{action}"))


def _c_program(path: Path) -> tuple[str, ...] | None:
    """The compiled program of a C example's scenario (``scenarios/c/NAME.py`` beside
    ``NAME.c``), built now if the cache lacks it; None for any other scenario."""
    if path.parent.name != "c" or not path.with_suffix(".c").is_file():
        return None
    from ipcviz.sources import cbuild

    return (str(cbuild.build(str(path.with_suffix(".c")))),)
