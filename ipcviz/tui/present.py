"""Presenter mode (``--present``): a lecture-hall layout that moves one narration step at a time.

The narration is the dominant element: bold white text in the biggest, brightest panel (a
terminal cannot change its font size, so "large" is space, weight, colour and a frame), the
step counter a small badge. Beside it (wide) or below it (80 columns) the diagram view
(``v`` switches to the detail panels: processes and kernel objects). The event log is hidden.

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
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.renderables.digits import Digits

from ipcviz import bytefmt
from ipcviz.model.state import State
from ipcviz.replay import TraceIndex
from ipcviz.tui.bigtext import big_lines
from ipcviz.tui.eventfmt import LogWindow
from ipcviz.tui.feed import Feed
from ipcviz.tui.session import SessionScreen, illegal_banner
from ipcviz.tui.widgets import Narration

#: How many events the (hidden) event log keeps in replay, as in the session screen.
LOG_TAIL = 500
#: The smallest screen (columns, rows) whose narration is drawn in large type: smaller, a
#: step's text in large type would leave the diagram no room.
LARGE_MIN = (160, 48)


class PresentScreen(SessionScreen):
    """The session screen in presenter layout, with → / ← over narration steps."""

    DEFAULT_CSS = """
    PresentScreen #main #left { width: 50%; }
    PresentScreen #main #left #procs { max-height: 10; }
    PresentScreen #main #left #narration {
        height: 1fr; max-height: 100%; padding: 1 3;
        border: heavy #ffd700; border-title-color: #ffd700; border-title-style: bold;
    }
    PresentScreen #main #left #checks { max-height: 6; }
    PresentScreen #main #left #log-box { display: none; }
    PresentScreen.-narrow #main #left { width: 100%; height: 2fr; }
    PresentScreen.-narrow #main #right { width: 100%; height: 1fr; }
    PresentScreen.-narrow #main #left #procs { max-height: 6; }
    PresentScreen.-diagram #main { layout: vertical; }
    PresentScreen.-diagram #main #left { width: 100%; height: auto; max-height: 65%; }
    PresentScreen.-diagram #main #left #procs { display: none; }
    PresentScreen.-diagram #main #left #narration { height: auto; padding: 0 1; }
    PresentScreen.-diagram #main #left #checks { max-height: 3; }
    PresentScreen.-diagram #main #right { width: 100%; height: 1fr; }
    """
    DIAGRAM_FIRST = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right", "next_step", "continue", key_display="→", priority=True),
        Binding("left", "previous_step", "previous", key_display="←", priority=True),
        *SessionScreen.BINDINGS,  # listed again so that ? (help) shows every key
    ]

    def __init__(
        self,
        feed_factory: Callable[[], Feed] | None = None,
        *,
        state: State | None = None,
        lang: str = "en",
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
        #: The narration panel's text as last drawn (under the big step number).
        self.narration_text = Text()

    def _layout_for(self, width: int, height: int) -> None:
        """A tall screen keeps a third of its rows for the narration, whatever its length:
        the dominant element, where the eye returns between steps."""
        super()._layout_for(width, height)
        narration = self.query_one(Narration)
        narration.styles.min_height = height // 3 if height >= 40 else None

    def on_mount(self) -> None:
        # (Textual calls SessionScreen.on_mount by itself: handlers run along the MRO)
        self.query_one(Narration).border_title = "narration"
        if self.index is not None:
            notice = self.index.illegal_notice()  # the index is whole: verify's full answer
            if notice is not None:
                self.mount(illegal_banner(notice), before=0)
            self._show_replay()

    # -- drawing -----------------------------------------------------------------------

    def redraw(self, force: bool = False) -> None:
        super().redraw(force)
        # live: the oldest narration the engine still holds (two processes may narrate at
        # once: each is shown, one per →, in the trace's order), else the latest one
        number, step = self.state.presented()
        if self.index is None and step and (not self.numbers or self.numbers[-1] != number):
            self.history.append(step)
            self.numbers.append(number)
            self.back = 0
        self.narration_text = self.big_text()
        self.query_one(Narration).update(self.panel())

    def panel(self) -> RenderableType:
        """Detail view: the narration's number in 3-row digits (the largest type a terminal
        has), then the text. Diagram view, or a short screen: the text alone (the step
        counter is the text's small badge). The number counts narrations in the order the
        run made them (as the handouts do), not the scenario's declaration order: shown in
        order, none skipped."""
        number = self.shown_number()
        if number is None or self.shown_step() not in [s.get("id") for s in self.state.steps()]:
            return self.narration_text
        if self.diagram_shown or self.app.size.height < 40:
            return self.narration_text  # 80×24: the digits would push the words out
        return Group(Digits(str(number), style="bold #ffd700"), self.narration_text)

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

    def big_text(self) -> Text:
        """The narration panel: step number and id, the text in bold, what → will do."""
        state = self.state
        sc = state.header.get("scenario", {})
        steps = state.steps()
        step = self.shown_step()
        info = next((s for s in steps if s.get("id") == step), None)
        #: the diagram below: no blank rows, the diagram needs them
        tight = self.diagram_shown or self.app.size.height < 30
        text = Text()
        if info is None:
            text.append(f" {bytefmt.safe_text(str(sc.get('title', '')), 100)} ", style="bold")
            text.append("\n\n")
            text.append(bytefmt.safe_text(str(sc.get("description", "")), 1000), style="#e0e0e0")
        else:
            number = self.shown_number() or 0
            total = f" / {len(self.index.narrations)}" if self.index is not None else ""
            text.append(f"  {number}{total}  ", style="bold #000000 on #ffd700")
            text.append(f"  {bytefmt.safe_text(str(step), 40)}", style="bold #ffd700")
            for tag in info.get("teaches", []):
                text.append("  ")
                text.append(f" {bytefmt.safe_text(str(tag), 8)} ", style="bold #000000 on #87d7ff")
            body = info.get("ko") if self.lang == "ko" and info.get("ko") else info.get("en", "")
            gap = "\n" if tight else "\n\n"
            text.append(gap)
            body = bytefmt.safe_text(str(body).strip(), 2000)
            big = self._large(body)
            if big is not None:  # a projector's screen: the text in large type
                text.append("\n".join(big) + "\n", style="bold #ffffff")
            else:
                for para in body.split("\n"):
                    text.append(para.strip() + gap, style="bold #ffffff")
        if not tight:
            text.append("\n")
        text.append_text(self._hint())
        return text

    def _large(self, body: str) -> list[str] | None:
        """``body`` in large type (``bigtext``) when the screen has room for it beside the
        diagram (200×60 does, 80×24 does not), else None: ordinary bold text."""
        width, height = self.app.size
        if not self.diagram_shown or width < LARGE_MIN[0] or height < LARGE_MIN[1]:
            return None
        lines = big_lines(body, width - 4)
        if lines is None or len(lines) > height * 0.5 - 4:
            return None
        return lines

    def _hint(self) -> Text:
        other = "English" if self.lang == "ko" else "한국어"
        hint = Text()
        if self.index is not None:
            n = len(self.index.narrations)
            where = (
                f"narration {self.pos + 1} of {n} in this recording"
                if self.pos >= 0
                else f"{n} narration steps recorded: → starts"
            )
            hint.append(f" {where} ", style="bold #000000 on #5fd7ff")
            hint.append("  → next  ← previous", style="#d0d0d0")
        elif self.back:
            hint.append(f" {self.back} step(s) back ", style="bold #000000 on #5fd7ff")
            hint.append("  → forward again", style="#d0d0d0")
        elif any(p.gated_op == "narrate" and p.alive for p in self.state.procs.values()):
            hint.append(" PAUSED for you ", style="bold #000000 on #ff8700")
            hint.append("  → continue  ← previous text", style="#d0d0d0")
        elif self.state.outcome:
            hint.append(f" run {bytefmt.safe_text(str(self.state.outcome), 20)} ", style="bold")
        hint.append(f"  l {other}", style="#d0d0d0")
        return hint

    # -- keys --------------------------------------------------------------------------

    def action_next_step(self) -> None:
        if self.index is not None:
            if self.pos + 1 < len(self.index.narrations):
                self.pos += 1
                self._show_replay()
            else:
                self.notify("that was the last narration step", markup=False)
            return
        if self.back:
            self.back -= 1
            self.redraw()
            return
        feed = self._live_feed("continue")
        if feed is not None:
            feed.send("continue")

    def action_previous_step(self) -> None:
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


# -- entry points (ipcviz.cli, imported lazily) -----------------------------------------


def replay_app(trace: Path, lang: str = "en") -> Any:
    """The app for ``ipcviz replay TRACE --present`` (also used by tests)."""
    from ipcviz.tui.app import IpcvizApp

    index = TraceIndex.open(trace).build()  # offsets and checkpoints, not every event

    def make(*args: Any, **kwargs: Any) -> PresentScreen:
        return PresentScreen(*args, index=index, **kwargs)

    app = IpcvizApp(state=State(header=index.header), lang=lang)
    app.session_class = make
    return app


def replay_present(trace: Path, lang: str = "en") -> int:
    """``ipcviz replay TRACE --present``."""
    from ipcviz.tui.launch import _run

    return _run(replay_app(trace, lang))
