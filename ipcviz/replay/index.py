"""Random access to a recorded run without holding its events in memory.

The trace is streamed once. For every event the index keeps only a few numbers (byte
offset, time, pid, object, kind: ~30 bytes), and every ``every`` events a checkpoint (a
copy of the model state). ``state_at(i)`` copies the nearest checkpoint and re-reads at most
``every`` events from the file, so seeking and stepping back in a million-event trace cost
milliseconds and memory stays small.

Indexing runs in the background (``start()``) and the first states are usable at once:
everything already indexed can be shown while the rest is still being read.
"""

from __future__ import annotations

import copy
import itertools
import os
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ipcviz.errors import TraceError
from ipcviz.events.trace import TraceReader
from ipcviz.i18n import _
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.model.verify import Verifier, Violation

Event = dict[str, Any]
Progress = Callable[[float], None]

#: Events between two checkpoints: a seek re-applies at most this many events.
DEFAULT_EVERY = 1000


class TraceIndex:
    """Offsets, times and checkpoints of one trace; grows while :meth:`build` runs."""

    def __init__(self, reader: TraceReader, every: int = DEFAULT_EVERY) -> None:
        self.reader = reader
        self.path: Path = reader.path
        self.header = reader.header
        self.every = max(1, every)
        self.offsets = array("q")  # byte offset of each event's line
        self.times = array("q")  # running maximum of ``t``: monotone, so it can be bisected
        self.pids = array("q")
        self.objs = array("l")  # index into ``obj_names``; -1: the event names no object
        self.kinds = array("l")  # index into ``kind_names``
        self.obj_names: list[str] = []
        self.kind_names: list[str] = []
        self._obj_ids: dict[str, int] = {}
        self._kind_ids: dict[str, int] = {}
        self.by_pid: dict[int, array[int]] = {}
        self.by_obj: dict[str, array[int]] = {}
        self.narrations = array("q")  # indices of ``narrate`` events
        self.checkpoints: list[State] = [State(header=self.header)]  # before event k*every
        self.count = 0  # events indexed so far (all arrays above have at least this length)
        self.done = False
        self.fraction = 0.0
        self.error: TraceError | None = None
        self.notice: str | None = None
        #: ``ipcviz verify``'s first violation, found while indexing (None: none so far),
        #: and how many: a replay says at once that the trace is not a legal history.
        self.violation: Violation | None = None
        self.violations = 0
        self._verifier = Verifier()
        self._live = State(header=self.header)
        self._n = 0  # events applied by the builder (``count`` follows it in steps)
        self._gen: Iterator[int] | None = None
        self._progress: Progress | None = None
        self._size = max(1, _file_size(self.path))
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @classmethod
    def open(cls, path: str | os.PathLike[str], every: int = DEFAULT_EVERY) -> TraceIndex:
        """Open (header only; raises TraceError for a foreign file). Call build() or start()."""
        return cls(TraceReader.open(path), every)

    # -- building ------------------------------------------------------------------------

    def build(self, progress: Progress | None = None) -> TraceIndex:
        """Stream the (rest of the) trace in this thread. Raises only TraceError."""
        self._run(None, progress)
        return self

    def build_until(self, count: int, progress: Progress | None = None) -> TraceIndex:
        """Index at least ``count`` events now, in this thread (the first frame needs only
        the first few); ``start()`` continues from there in the background."""
        self._run(count, progress)
        return self

    def start(self, progress: Progress | None = None) -> TraceIndex:
        """Build in a background thread; see ``count``, ``fraction``, ``done``, ``error``."""
        if self._thread is None and not self.done:

            def run() -> None:
                try:
                    self.build(progress)
                except TraceError:
                    pass  # kept in self.error for the viewer to show

            self._thread = threading.Thread(target=run, name="ipcviz-index", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop a background build early (what is indexed so far stays usable)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def wait(self, count: int | None = None, timeout: float | None = None) -> bool:
        """Wait until ``count`` events are indexed (default: all). True if they are."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.done or (count is not None and self.count >= count), timeout
            )
            return self.done if count is None else self.count >= count

    def _run(self, until: int | None, progress: Progress | None) -> None:
        """Advance the one scan of the file until ``until`` events (None: the end)."""
        if self.done:
            if self.error is not None:
                raise self.error
            return
        if progress is not None:
            self._progress = progress
        if self._gen is None:
            self._gen = self._scan()
        finished = False
        try:
            while until is None or self._n < until:
                next(self._gen)
        except StopIteration:
            finished = True
        except TraceError as exc:
            self.error = exc
            finished = True
            raise
        finally:
            with self._changed:
                self.count = max(self.count, self._n)
                if finished:
                    self.notice = self.reader.notice
                    self.fraction = 1.0
                    self.done = True
                self._changed.notify_all()
            if finished and self.error is None and self._progress is not None:
                self._progress(1.0)

    def _scan(self) -> Iterator[int]:
        """The scan of the file, as a generator: it pauses every few hundred events.

        The hot loop of every replay view: what it touches per event is bound to locals,
        and the stop flag, the waiters and the progress are seen every ``notify_every``
        events, not at each one."""
        live, every = self._live, self.every
        offsets_add, times_add = self.offsets.append, self.times.append
        pids_add, objs_add, kinds_add = self.pids.append, self.objs.append, self.kinds.append
        by_pid, by_obj, kind_ids, obj_ids = self.by_pid, self.by_obj, self._kind_ids, self._obj_ids
        narrations_add = self.narrations.append
        stop = self._stop
        tmax = 0
        n = self._n
        notify_every = 256
        step = max(1, self._size // 100)
        next_report = step
        lo, hi = -(2**63), 2**63
        try:
            feed = self._verifier.feed
            for offset, event in self.reader.scan():
                try:
                    bad = feed(live, event)
                    if bad:
                        self._illegal(bad)
                    apply(live, event)
                except TraceError:
                    raise
                except Exception as exc:  # untrusted input the model cannot take
                    raise TraceError(
                        _(
                            "{path}: event {n} (seq {seq}, kind {kind!r}) does not fit the "
                            "model: {error}"
                        ).format(
                            path=self.path,
                            n=n,
                            seq=event.get("seq"),
                            kind=str(event.get("kind"))[:40],
                            error=type(exc).__name__,
                        )
                    ) from None
                t = event["t"]
                if t > tmax:
                    tmax = t if t < hi else hi - 1
                pid = event.get("pid")
                if type(pid) is not int or not lo <= pid < hi:
                    pid = -1
                kind = event["kind"]
                kid = kind_ids.get(kind)
                if kid is None:
                    kid = kind_ids[kind] = len(self.kind_names)
                    self.kind_names.append(kind)
                offsets_add(offset)
                times_add(tmax)
                pids_add(pid)
                mine = by_pid.get(pid)
                if mine is None:
                    mine = by_pid[pid] = array("q")
                mine.append(n)
                obj = event.get("obj")
                if type(obj) is str:
                    oid = obj_ids.get(obj)
                    if oid is None:
                        oid = obj_ids[obj] = len(self.obj_names)
                        self.obj_names.append(obj)
                        by_obj[obj] = array("q")
                    objs_add(oid)
                    by_obj[obj].append(n)
                else:
                    objs_add(-1)
                kinds_add(kid)
                if kind == "narrate":
                    narrations_add(n)
                n += 1
                if n % every == 0:
                    self.checkpoints.append(_copy_state(live))
                if n % notify_every == 0:
                    self._n = n
                    with self._changed:
                        self.count = n
                        self._changed.notify_all()
                    yield n
                    if stop.is_set():
                        break
                    if offset >= next_report:  # about every 1% of the file
                        next_report = offset + step
                        self.fraction = min(1.0, offset / self._size)
                        if self._progress is not None:
                            self._progress(self.fraction)
        finally:
            self._n = n  # every event applied and indexed, also when a bad one stops the scan

    # -- random access -------------------------------------------------------------------

    def _illegal(self, found: list[Violation]) -> None:
        if self.violation is None:
            self.violation = found[0]
        self.violations += len(found)

    def illegal_notice(self) -> str | None:
        """One line for the viewer when the trace is not a legal history (verify's first
        reason), else None; untrusted text, shown as Text, never as markup."""
        v = self.violation
        if v is None:
            return None
        if self.done:
            said = _(
                "NOT A LEGAL HISTORY: values shown may be impossible ({n} violation(s); "
                "ipcviz verify: {why})"
            )
        else:
            said = _(
                "NOT A LEGAL HISTORY: values shown may be impossible ({n} violation(s) so far; "
                "ipcviz verify: {why})"
            )
        return said.format(n=self.violations, why=v.line())

    def __len__(self) -> int:
        return self.count

    def state_at(self, i: int) -> State:
        """A fresh copy of the state after events ``0..i`` (``i = -1``: before any event)."""
        i = max(-1, min(i, self.count - 1))
        k = min((i + 1) // self.every, len(self.checkpoints) - 1)
        state = _copy_state(self.checkpoints[k])
        self.advance(state, k * self.every - 1, i)
        return state

    def advance(self, state: State, at: int, to: int) -> State:
        """Apply events ``at+1..to`` to ``state`` (the state after event ``at``), in place."""
        if to > at:
            for event in self.events(at + 1, to + 1):
                apply(state, event)
        return state

    def events(self, start: int, stop: int) -> Iterator[Event]:
        """Events ``start..stop-1`` re-read from the file (only indexed ones)."""
        start, stop = max(0, start), min(stop, self.count)
        if start >= stop:
            return iter(())
        return itertools.islice((e for _, e in self.reader.scan(self.offsets[start])), stop - start)

    def event(self, i: int) -> Event:
        """Event ``i`` (0 ≤ i < count), re-read from the file."""
        if not 0 <= i < self.count:
            raise IndexError(i)
        return next(self.events(i, i + 1))

    # -- narration steps -----------------------------------------------------------------

    def step_event(self, k: int) -> int:
        """Index of the ``narrate`` event of narration step ``k`` (0-based, in trace order).

        ``k = -1`` is the moment just before the first step: every event up to it (objects
        made, processes started), or the whole trace if it narrates nothing."""
        marks = self.narrations
        if k < 0:
            return (marks[0] if marks else self.count) - 1
        return marks[k]

    def state_at_step(self, k: int) -> State:
        """A fresh copy of the model at narration step ``k`` (right after its event)."""
        return self.state_at(self.step_event(k))

    def cursor(self) -> Cursor:
        """A position with its state, cheap to move forward (see :class:`Cursor`)."""
        return Cursor(self)

    # -- finding events ------------------------------------------------------------------

    def next_of(self, i: int, pid: int | None = None, obj: str | None = None) -> int | None:
        """Index of the first event after ``i`` by process ``pid`` or on object ``obj``."""
        hits = self._hits(pid, obj)
        j = bisect_right(hits, i)
        return hits[j] if j < len(hits) and hits[j] < self.count else None

    def prev_of(self, i: int, pid: int | None = None, obj: str | None = None) -> int | None:
        """Index of the last event before ``i`` by process ``pid`` or on object ``obj``."""
        hits = self._hits(pid, obj)
        j = bisect_left(hits, min(i, self.count))
        return hits[j - 1] if j > 0 else None

    def _hits(self, pid: int | None, obj: str | None) -> array[int] | list[int]:
        if obj is not None:
            return self.by_obj.get(obj, [])
        if pid is not None:
            return self.by_pid.get(pid, [])
        raise ValueError("give a pid or an obj")

    def index_at_time(self, t: int) -> int:
        """The last event at or before time ``t`` (ns since start); -1 if none."""
        return bisect_right(self.times, t, 0, self.count) - 1

    @property
    def duration(self) -> int:
        """Time of the last indexed event (ns)."""
        return self.times[self.count - 1] if self.count else 0

    def activity(self, buckets: int) -> list[int]:
        """Events per time bucket over the run so far: the data of a timeline sparkline."""
        counts = [0] * max(1, buckets)
        n = self.count
        if not n:
            return counts
        t0, span = self.times[0], max(1, self.times[n - 1] - self.times[0])
        last = len(counts) - 1
        # times are monotone: the bucket boundaries are found by bisection, not a loop
        prev = 0
        for b in range(len(counts)):
            edge = t0 + span * (b + 1) // len(counts)
            j = n if b == last else bisect_right(self.times, edge, prev, n)
            counts[b] = j - prev
            prev = j
        return counts


class Cursor:
    """One position in a :class:`TraceIndex` and the model there, kept between moves.

    Forward by at most ``every`` events it applies only the new events to the state it
    holds (playing, walking the steps of a handout); anything else (back, far ahead)
    starts from the nearest checkpoint. The state is shared: do not modify it.
    """

    def __init__(self, index: TraceIndex) -> None:
        self.index = index
        self.pos = -2  # no state yet
        self._state: State | None = None

    def seek(self, i: int) -> State:
        """The model after event ``i`` (``-1``: before any event)."""
        index = self.index
        i = max(-1, min(i, index.count - 1))
        state = self._state
        if state is None or not 0 <= i - self.pos <= index.every:
            state = self._state = index.state_at(i)
        elif i > self.pos:
            index.advance(state, self.pos, i)
        self.pos = i
        return state


def _copy_state(state: State) -> State:
    """A deep copy that shares the header (immutable, and the same for every checkpoint)."""
    return copy.deepcopy(state, {id(state.header): state.header})


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
