"""Event log lines for the TUI, in the headless narrator's words (so live, replay, handouts
and the plain-text log read the same), coloured by process.

Each line is worded once, when its event is applied to the model (``record``), from the
state right after that event, and kept: an old line never shows a later state (a queue's
depth, a semaphore's value). Replay, which can jump anywhere, rebuilds the lines before its
position from the states at their own events (:class:`LogWindow`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rich.segment import Segment

from ipcviz import bytefmt, i18n
from ipcviz.draw import render
from ipcviz.model.state import State
from ipcviz.narrate.headless import Entry, Narrator

Event = dict[str, Any]
#: Characters of an event's text kept for the screen (a line is cut at the width anyway).
TEXT_LIMIT = 400
#: Between the lines of an event of several (a program's output, a traceback) on its one
#: row of the log: every line is there, as far as the row goes, and the row says it is cut.
LINE_BREAK = " ⏎ "


@dataclass(slots=True)
class LogLine:
    """One event's log line: the narrator's entry and its process's colour at that time."""

    entry: Entry
    color: str
    index: int = -1  # the event's position in its trace (replay: what a hidden object hides)


def record(narrator: Narrator, event: Event, index: int = -1) -> LogLine | None:
    """Apply ``event`` to ``narrator.state`` and return its line (None: not told)."""
    entry = narrator.entry(event)
    if entry is None:
        return None
    return LogLine(entry, render.color_of(narrator.state, entry.pid), index)


class EventFormatter:
    """Draws kept lines at a width, each worded now, in the language now chosen: an
    entry keeps its sentence and the values of its moment apart (``ipcviz.i18n.lazy``),
    and a narration step is looked up in the header; nothing worded is kept, so ``l``
    re-words the whole log at the next draw."""

    def __init__(self, header: dict[str, Any], lang: str | None = None) -> None:
        self.header = header
        #: None: the language now chosen (``ipcviz.i18n``), whatever it was at creation
        self.narrator = Narrator(header, lang)

    def set_lang(self, lang: str | None) -> None:
        self.narrator.lang = lang

    def text(self, line: LogLine) -> str:
        """The text shown for ``line`` (inert), its lines on one row: showing the first
        alone told a program that printed eight lines in one write as printing one."""
        entry = line.entry
        # an event's words: its values of its moment, the language of now (ipcviz.i18n)
        text = i18n.text(entry.text) if entry.step is None else self.narrator.step_text(entry.step)
        return bytefmt.safe_text(text.replace("\n", LINE_BREAK), TEXT_LIMIT)

    def line(self, line: LogLine, width: int) -> render.Line:
        entry = line.entry
        out = render.Lines(width)
        out.add(f"{entry.t / 1e9:8.3f} ", render.DIM)
        who = render.pad(entry.who, 14)  # by cells: a Korean name takes two a letter
        out.add(f"{who} ", render.fg(line.color, True) if entry.pid else render.DIM)
        out.add(self.text(line), render.FG)
        lines = out.finish()
        return lines[0] if lines else [Segment(" ", render.FG)]


class LogWindow:
    """Replay's log at any position ``pos``: the last ``size`` lines of the events up to
    ``pos``, each worded from the state at its own event.

    Counted in lines, not events: a run's kernel probes are not told, and in a presenter's
    recording they were three events in four, so the lines of the last 300 events were two.
    The window keeps the lines of a span of events ``lo..hi`` (``hi``: the narrator's state).
    Forward, only the new events are worded; back, the span grows backwards in chunks that
    double (each worded from ``state_at``, a checkpoint copy plus a few events) until it
    holds ``size`` lines before ``pos`` or starts at the first event; far ahead it starts
    again at ``pos``."""

    def __init__(
        self,
        header: dict[str, Any],
        state_at: Callable[[int], State],
        events: Callable[[int, int], Iterable[Event]],
        size: int,
    ) -> None:
        self.header = header
        self.size = max(1, size)
        self._state_at = state_at
        self._events = events
        self._narrator: Narrator | None = None
        self._lo = 0  # the kept lines are those of events lo..hi
        self._hi = -1
        self._lines: list[LogLine] = []

    def at(self, pos: int) -> list[LogLine]:
        """The last ``size`` lines of the events up to and including ``pos`` (oldest first)."""
        self._reach(pos)
        lines = self._lines
        end = bisect_right(lines, pos, key=_index)
        while end < self.size and self._lo > 0:
            self._grow_back()
            end = bisect_right(lines, pos, key=_index)
        self._forget(end)
        end = bisect_right(lines, pos, key=_index)
        return lines[max(0, end - self.size) : end]

    def next_line(self, pos: int, last: int) -> int | None:
        """The event of the first line after ``pos``, looking no further than event
        ``last`` (None: there is none): where ``→`` goes."""
        self._reach(pos)
        lines = self._lines
        while True:
            i = bisect_right(lines, pos, key=_index)
            if i < len(lines):
                return lines[i].index
            if self._hi >= last:
                return None
            hi = self._hi
            self._word(min(last, hi + max(self.size, hi - self._lo + 1)))
            if self._hi == hi:  # nothing more indexed yet
                return None

    def prev_line(self, pos: int) -> int | None:
        """The event of the last line before ``pos`` (None: there is none): where ``←``
        goes."""
        self._reach(pos)
        lines = self._lines
        while True:
            i = bisect_left(lines, pos, key=_index)
            if i > 0:
                return lines[i - 1].index
            if self._lo <= 0:
                return None
            self._grow_back()

    def _reach(self, pos: int) -> None:
        """Make the span end at ``pos`` or later: word on to it, or start again there."""
        if self._narrator is None or pos < self._lo - 1 or pos - self._hi > 4 * self.size:
            self._narrator = Narrator(self.header, state=self._state_at(pos))  # a fresh copy
            self._lo, self._hi, self._lines = pos + 1, pos, []
        elif pos > self._hi:
            self._word(pos)

    def _word(self, to: int) -> None:
        """Word events ``hi+1..to`` onto the end of the span."""
        narrator, lines = self._narrator, self._lines
        assert narrator is not None
        for i, event in enumerate(self._events(self._hi + 1, to + 1), self._hi + 1):
            line = record(narrator, event, i)
            if line is not None:
                lines.append(line)
            self._hi = i

    def _grow_back(self) -> None:
        """Word a chunk of events before the span (as long as the span: stepping back one
        line at a time starts a chunk once per window, not once per step)."""
        lo = max(0, self._lo - max(self.size, self._hi - self._lo + 1))
        narrator = Narrator(self.header, state=self._state_at(lo - 1))
        chunk = [
            line
            for i, event in enumerate(self._events(lo, self._lo), lo)
            if (line := record(narrator, event, i)) is not None
        ]
        self._lines[:0] = chunk
        self._lo = lo

    def _forget(self, end: int) -> None:
        """Playing on or stepping far back: drop what is far behind or ahead of the
        ``end`` line (the first after the position)."""
        lines, keep = self._lines, 2 * self.size
        if end > 2 * keep:  # far behind
            cut = end - keep
            self._lo = lines[cut - 1].index + 1
            del lines[:cut]
            end = keep
        if len(lines) - end > 2 * keep:  # far ahead: end the span at an earlier event
            hi = lines[end + keep].index - 1
            self._narrator = Narrator(self.header, state=self._state_at(hi))
            self._hi = hi
            del lines[end + keep :]


def _index(line: LogLine) -> int:
    return line.index
