"""The replay cursor: play/pause at a speed, step, jump, seek, and hide-then-reveal.

A :class:`Player` owns a position in a :class:`TraceIndex` (``pos``: the state shown is the
state after event ``pos``; -1 is before the first event). It knows no Textual: the replay
screen maps keys to these methods and draws ``view()`` on its timer, calling ``tick(now)``
with a monotonic clock so playback speed follows the events' own timestamps.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from typing import Any

from ipcviz.model.state import State
from ipcviz.replay.index import TraceIndex

#: The speeds ``faster()`` / ``slower()`` step through (× real time).
SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
MIN_SPEED, MAX_SPEED = SPEEDS[0], SPEEDS[-1]


@dataclasses.dataclass(frozen=True)
class Hidden:
    """Predict-then-reveal: what happens to ``obj`` after event ``since`` is not shown."""

    obj: str
    since: int


class Player:
    """Navigation over an index. Every move pauses playback except ``tick`` itself."""

    def __init__(self, index: TraceIndex) -> None:
        self.index = index
        self.pos = -1
        self.playing = False
        self.speed = 1.0
        self.hidden: Hidden | None = None
        self._anchor: tuple[float, int] = (0.0, 0)  # (wall clock, trace time) at play()
        self._cursor = index.cursor()  # the state after event ``pos``, kept between moves
        self._hidden_state: State | None = None

    # -- position ------------------------------------------------------------------------

    @property
    def last(self) -> int:
        """Index of the last event available (indexed so far)."""
        return self.index.count - 1

    def seek(self, i: int) -> int:
        """Go to the state after event ``i`` (clamped). Pauses."""
        self.playing = False
        self.pos = max(-1, min(i, self.last))
        return self.pos

    def step(self, n: int = 1) -> int:
        """``n`` events forward (negative: back). Stepping back is exact (checkpoints)."""
        return self.seek(self.pos + n)

    def seek_fraction(self, f: float) -> int:
        """Go to the fraction ``f`` (0..1) of the run's time (the timeline's x axis)."""
        if self.index.count == 0:
            return self.seek(-1)
        t0 = self.index.times[0]
        f = max(0.0, min(1.0, f))
        return self.seek_time(t0 + round(f * (self.index.duration - t0)))

    def seek_time(self, t: int) -> int:
        """Go to the last event at or before ``t`` (ns since the start of the run)."""
        return self.seek(self.index.index_at_time(t))

    @property
    def fraction(self) -> float:
        """Where ``pos`` is on the timeline (0..1), by time."""
        if self.index.count == 0 or self.pos < 0:
            return 0.0
        t0 = self.index.times[0]
        span = self.index.duration - t0
        return 1.0 if span <= 0 else (self.index.times[self.pos] - t0) / span

    def jump(self, forward: bool, pid: int | None = None, obj: str | None = None) -> bool:
        """Next/previous event of process ``pid`` or object ``obj``; False if there is none."""
        find = self.index.next_of if forward else self.index.prev_of
        j = find(self.pos, pid=pid, obj=obj)
        if j is None:
            return False
        self.seek(j)
        return True

    def jump_step(self, forward: bool) -> bool:
        """Next/previous narration step (``narrate`` event); False if there is none."""
        marks = self.index.narrations
        n = bisect_right(marks, self.pos) if forward else bisect_right(marks, self.pos - 1)
        if forward:
            if n < len(marks) and marks[n] < self.index.count:
                self.seek(marks[n])
                return True
            return False
        if n > 0:
            self.seek(marks[n - 1])
            return True
        return False

    # -- playback ------------------------------------------------------------------------

    def play(self, now: float) -> None:
        if self.pos >= self.last and self.index.done:
            self.pos = -1  # at the end: play from the start again
        self.playing = True
        self._anchor = (now, self._time_of(self.pos))

    def pause(self) -> None:
        self.playing = False

    def toggle(self, now: float) -> bool:
        if self.playing:
            self.pause()
        else:
            self.play(now)
        return self.playing

    def set_speed(self, speed: float, now: float) -> float:
        """Speed as a multiple of real time, clamped to 0.1×–10×; playback continues smoothly."""
        if self.playing:
            self._anchor = (now, self._play_time(now))
        self.speed = max(MIN_SPEED, min(MAX_SPEED, speed))
        return self.speed

    def faster(self, now: float) -> float:
        return self.set_speed(next((s for s in SPEEDS if s > self.speed), MAX_SPEED), now)

    def slower(self, now: float) -> float:
        return self.set_speed(next((s for s in reversed(SPEEDS) if s < self.speed), MIN_SPEED), now)

    def tick(self, now: float) -> bool:
        """Advance playback to wall time ``now``; True if the position changed."""
        if not self.playing:
            return False
        target = bisect_right(self.index.times, self._play_time(now), 0, self.index.count) - 1
        target = max(target, self.pos)
        if target >= self.last and self.index.done:
            self.playing = False
        if target == self.pos:
            return False
        self.pos = target
        return True

    def _play_time(self, now: float) -> int:
        wall, t = self._anchor
        return t + int((now - wall) * 1e9 * self.speed)

    def _time_of(self, i: int) -> int:
        if self.index.count == 0:
            return 0
        return self.index.times[max(0, i)] - (1 if i < 0 else 0)

    # -- what to draw --------------------------------------------------------------------

    def state(self) -> State:
        """The model state after event ``pos`` (cached and shared: do not modify)."""
        return self._cursor.seek(self.pos)

    def hide(self, obj: str) -> None:
        """Predict-then-reveal: from now on, show ``obj`` as it is now until ``reveal()``."""
        self.hidden = Hidden(obj, self.pos)
        self._hidden_state = None

    def reveal(self) -> None:
        self.hidden = None
        self._hidden_state = None

    def is_hidden(self, i: int, event: dict[str, Any]) -> bool:
        """Whether event ``i`` must not be shown yet (it is what the audience should guess)."""
        h = self.hidden
        return h is not None and i > h.since and event.get("obj") == h.obj

    def view(self) -> State:
        """The state to draw: ``state()``, with the hidden object (and the processes busy
        with it) held as they were when ``hide`` was pressed. Shared: do not modify."""
        state = self.state()
        h = self.hidden
        if h is None or self.pos <= h.since:
            return state
        if self._hidden_state is None:
            self._hidden_state = self.index.state_at(h.since)
        before = self._hidden_state
        objects = dict(state.objects)
        if h.obj in before.objects:
            objects[h.obj] = before.objects[h.obj]
        else:
            objects.pop(h.obj, None)
        procs = dict(state.procs)
        for pid, p in state.procs.items():
            old = before.procs.get(pid)
            if old is not None and h.obj in (p.on, old.on):
                procs[pid] = old
        return dataclasses.replace(state, objects=objects, procs=procs)
