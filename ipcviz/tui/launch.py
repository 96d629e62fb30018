"""Entry points used by ``ipcviz.cli`` (imported lazily, so ``--help`` stays instant)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ipcviz.bytefmt import safe_text

if TYPE_CHECKING:
    from ipcviz.engine.options import EngineOptions

EXIT_OK = 0


def _run(app: Any) -> int:
    """Run the app; whatever ends it (q, Ctrl-C, SIGHUP, SIGTERM, a crash), stop the engines."""

    def hangup(signum: int, _frame: Any) -> None:
        # Only until the app is mounted (then IpcvizApp handles these signals in its event
        # loop): stop the engines, which clean up, and end without touching the terminal.
        app.close_all()
        os._exit(EXIT_OK)

    old = {s: signal.signal(s, hangup) for s in (signal.SIGHUP, signal.SIGTERM)}
    try:
        app.run()
    finally:
        result = app.close_all()
        for s, h in old.items():
            signal.signal(s, h)
        _say_where_recorded(getattr(app, "recorded", []))
    rc = app.return_code
    code = app.return_value if isinstance(app.return_value, int) else result
    if code is not None and code not in (0, 1, 2):
        # an engine status that is no exit code of ours: killed by a signal (-9: one that
        # did not answer when asked to stop) or crashed. Said as the headless run says it.
        _say_engine_died(code, getattr(app, "recorded", []))
        return EXIT_ENGINE_DIED
    if code is not None:
        return code
    return rc or EXIT_OK


#: The exit status when the engine died (as ``ipcviz run --headless`` ends then).
EXIT_ENGINE_DIED = 2


def _say_engine_died(status: int, traces: list[Path]) -> None:
    """One line on stderr, after the screen is gone, in the headless run's words."""
    from ipcviz.engine.client import engine_died

    said = engine_died(status, "", traces[-1] if traces else None)
    try:
        print("ipcviz: " + said, file=sys.stderr, flush=True)
    except OSError:  # the terminal is gone (SIGHUP): nobody to tell
        pass


def _say_where_recorded(traces: list[Path]) -> None:
    """After the screen is gone: where each run was recorded, and what a program run left
    on the machine or ipcviz removed for it (as the headless run says both)."""
    try:
        for trace in dict.fromkeys(traces):
            if trace.exists():
                for message in _leftovers(trace):
                    print(f"# {safe_text(message, 300)}", flush=True)
                shown = safe_text(str(trace), 300)  # a path is text from outside
                print(f"recorded to {shown}  (ipcviz replay {shown})", flush=True)
    except OSError:  # the terminal is gone (SIGHUP): nobody to tell
        pass


#: Where a trace's ``program.leftover`` events are: among its last lines, before its end.
_TAIL = 1 << 18


def _leftovers(trace: Path) -> list[str]:
    """The ``program.leftover`` events at the end of ``trace``, worded as the log words
    them (a quit at a program run's deadlock leaves them unseen: the screen is gone)."""
    import json

    from ipcviz.narrate.headless import leftover_what

    with trace.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - _TAIL))
        tail = f.read()
    out = []
    for line in tail.splitlines():
        if b'"program.leftover"' not in line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("kind") == "program.leftover":
            out.append(str(leftover_what(event)))  # in the language of the run
    return out


def run_tui(
    path: Path,
    record: Path | None = None,
    timeout: float | None = None,
    quick: bool = False,
    lang: str = "en",
    present: bool = False,
    engine_options: EngineOptions | None = None,
    force: bool = False,
    session_class: Any = None,
) -> int:
    """``ipcviz run SCENARIO`` with a screen: the live session, fed by a new engine.
    ``session_class``: what the session is shown on instead (challenge mode)."""
    if record is not None:
        from ipcviz.engine.client import claim_record_path

        claim_record_path(record, force)  # before the screen: an error is one clear line
        if force:  # the engine removes the old file once the input proved good
            engine_options = (engine_options or EngineOptions.template()).replace(overwrite=True)
    app = _app(lang, present, engine_options, quick=quick, record=record, timeout=timeout)
    if session_class is not None:
        app.session_class = session_class
    app.feed_factory = app.live_factory(Path(path))
    return _run(app)


def _app(lang: str, present: bool, options: EngineOptions | None, **kwargs: Any) -> Any:
    """The app; in presenter mode its sessions open on the presenter screen and every
    engine it starts pauses at each narration step."""
    from ipcviz.engine.options import EngineOptions
    from ipcviz.tui.app import IpcvizApp

    options = options or EngineOptions.template()
    if present:
        options = options.replace(present=True)
    app = IpcvizApp(lang=lang, engine_options=options, **kwargs)
    if present:
        from ipcviz.tui.screens.present import PresentScreen

        app.session_class = PresentScreen
    return app


def replay_tui(reader: Any, lang: str = "en") -> int:
    """``ipcviz replay TRACE`` with a screen: the same session screen, driven by a Player
    (seek, step back, speed; see ipcviz.tui.screens.replay)."""
    return _run(replay_app(reader.path, lang=lang))


def replay_app(path: Path, lang: str | None = None) -> Any:
    """An app that opens straight on the replay screen of ``path`` (TraceError if foreign)."""
    from ipcviz.replay import TraceIndex
    from ipcviz.tui.app import IpcvizApp
    from ipcviz.tui.screens.replay import ReplayScreen

    index = TraceIndex.open(path)
    app = IpcvizApp(lang=lang)
    app.first_screen = lambda app: ReplayScreen(index, fps=app.fps)
    return app


def present_app(trace: Path, lang: str | None = None) -> Any:
    """The app for ``ipcviz replay TRACE --present``: the presenter screen over a recording."""
    from ipcviz.model.state import State
    from ipcviz.replay import TraceIndex
    from ipcviz.tui.app import IpcvizApp
    from ipcviz.tui.screens.present import PresentScreen

    index = TraceIndex.open(trace).build()  # offsets and checkpoints, not every event

    def make(*args: Any, **kwargs: Any) -> PresentScreen:
        return PresentScreen(*args, index=index, **kwargs)

    app = IpcvizApp(state=State(header=index.header), lang=lang)
    app.session_class = make
    return app


def replay_present(trace: Path, lang: str | None = None) -> int:
    """``ipcviz replay TRACE --present``."""
    return _run(present_app(trace, lang))


def first_frame_time(path: Path) -> float:
    """perf_counter() when the replay screen of ``path`` first drew a state (benchmark)."""
    from ipcviz.tui.screens.replay import ReplayScreen

    async def run() -> float:
        app = replay_app(path)
        async with app.run_test(size=(160, 50)) as pilot:
            screen: ReplayScreen | None = None
            while screen is None or screen.first_frame_at is None:
                await pilot.pause(0.01)
                if isinstance(app.screen, ReplayScreen):
                    screen = app.screen
            done = screen.first_frame_at
            screen.stop()
            await pilot.press("q")
        return done

    return asyncio.run(run())


def run_picker(lang: str = "en", present: bool = False) -> int:
    """``ipcviz`` alone: choose a built-in scenario, then watch it."""
    return _run(_app(lang, present, None))
