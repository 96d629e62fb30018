"""Where a screen asks to go: messages that bubble up to the App, which owns navigation
(``IpcvizApp.on_*``). A screen never imports another screen to push it."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message


class RunScenario(Message):
    """Start a live session of the scenario in this file (the picker's enter)."""

    def __init__(self, source: Path | str) -> None:
        super().__init__()
        self.source = source


class OpenRuns(Message):
    """Show the runs recorded on this machine (the picker's ``r``)."""


class ReplayRun(Message):
    """Replay the recorded run in this trace file (the runs screen's enter)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path


class LeaveSession(Message):
    """Leave this session (its ``q``): the App stops its engine, then goes back to the
    screen it was opened from (the picker, the runs list), or ends when there is none."""

    def __init__(self, screen: object) -> None:
        super().__init__()
        self.screen = screen
