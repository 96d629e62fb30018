"""Where the session screen gets its events from: a ``Feed``.

The session screen draws a model :class:`~ipcviz.model.state.State`; it does not care whether
the events come from a live engine or from a recorded trace. A feed is anything with:

- ``header``: the trace header (``None`` until it arrived; a live engine sends it first);
- ``pump()``: blocking; runs in a *thread worker* of the screen and collects events until the
  source ends (the live engine closed its stream, or the recorded list is exhausted);
- ``drain(limit)``: non-blocking; called by the UI on its redraw timer, returns the events
  collected since the last call (at most ``limit``), in order. The screen applies them to
  its model in one batch per frame, never per event;
- ``finished``: no more events will arrive and all were drained;
- ``live``: True when controls (freeze, kill, …) reach real processes;
- ``send(cmd, **fields)``: a control command (ignored by recorded feeds);
- ``close()``: stop the source for sure (a live engine is terminated and reaped) and
  return its exit status (``None`` for recorded feeds).

Replay with seek/step back does not need a feed at all: it takes the model at event ``i``
from the trace's ``TraceIndex`` (ipcviz.replay) and hands it to ``SessionScreen.show_state``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from ipcviz.engine.options import EngineOptions

Event = dict[str, Any]


class Feed(Protocol):
    """The source of a session screen's events (see the module docstring)."""

    header: dict[str, Any] | None
    live: bool

    def pump(self) -> None: ...

    @property
    def pending(self) -> int:
        """Events received but not drained yet (the screen shows a backlog)."""
        ...

    def drain(self, limit: int = 1_000_000) -> list[Event]: ...

    @property
    def finished(self) -> bool: ...

    def send(self, cmd: str, **fields: Any) -> None: ...

    def close(self) -> int | None: ...


class _Buffered:
    """The shared part: a thread-safe buffer between ``pump`` (thread) and ``drain`` (UI)."""

    live = False

    def __init__(self) -> None:
        self.header: dict[str, Any] | None = None
        self._buf: deque[Event] = deque()  # append/popleft are thread-safe
        self._done = threading.Event()
        self.error: str | None = None

    def drain(self, limit: int = 1_000_000) -> list[Event]:
        buf = self._buf
        n = min(len(buf), limit)
        return [buf.popleft() for _ in range(n)]

    @property
    def finished(self) -> bool:
        return self._done.is_set() and not self._buf

    @property
    def pending(self) -> int:
        return len(self._buf)

    def send(self, cmd: str, **fields: Any) -> None:
        """Recorded feeds have no processes to control."""


class RecordedFeed(_Buffered):
    """Events from a trace (or any list): delivered as fast as the screen drains them."""

    def __init__(self, header: dict[str, Any], events: Iterable[Event]) -> None:
        super().__init__()
        self.header = header
        self._events = events

    @classmethod
    def from_trace(cls, path: str | Path) -> RecordedFeed:
        from ipcviz.events.trace import TraceReader

        reader = TraceReader.open(path)
        return cls(reader.header, reader.events())

    def pump(self) -> None:
        try:
            for event in self._events:
                self._buf.append(event)
        except Exception as exc:  # TraceError from a damaged file: show it, keep what we have
            self.error = str(exc)
        finally:
            self._done.set()

    def close(self) -> int | None:
        return None


class LiveFeed(_Buffered):
    """A running engine (``python -m ipcviz.engine`` as a subprocess, never a fork)."""

    live = True

    def __init__(
        self, options: EngineOptions | Path, trace: Path | None = None, **fields: Any
    ) -> None:
        """``LiveFeed(options)`` or ``LiveFeed(scenario, trace, **fields)`` (fields of
        ``EngineOptions``); in the short form no time limit unless one is given: a
        lecturer may freeze a run and talk for minutes."""
        from ipcviz.engine.client import EngineProcess, engine_options

        super().__init__()
        if not isinstance(options, EngineOptions):
            fields.setdefault("timeout", 0.0)
        options = engine_options(options, trace, **fields)
        self.trace = options.trace
        self.engine = EngineProcess(options)
        self.returncode: int | None = None
        self._lock = threading.Lock()
        self._started = False

    def pump(self) -> None:
        self._started = True
        try:
            for item in self.engine.events():
                if self.header is None:
                    self.header = item
                    continue
                self._buf.append(item)
        except Exception as exc:  # a garbled stream or a closed pipe: report, never crash
            self.error = str(exc)
        finally:
            self._done.set()

    def send(self, cmd: str, **fields: Any) -> None:
        self.engine.send(cmd, **fields)

    def close(self) -> int | None:
        """Stop the engine (ask, then SIGTERM, then SIGKILL), reap it, return its status."""
        with self._lock:
            if self.returncode is None:
                self.returncode = self.engine.terminate()
                if self._started:
                    self._done.wait(5)  # the pump sees EOF right after the engine exits
                self.engine.close()
            return self.returncode

    def stderr_tail(self) -> str:
        try:
            return self.engine.stderr_tail()
        except (OSError, ValueError):
            return ""
