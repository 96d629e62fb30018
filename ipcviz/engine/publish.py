"""The engine's output side: every event is numbered, written, applied to the model and
shown to the hooks here, in the order the linearizer gives, and nowhere else.

Why a part of its own: the gate, the prober, the deadlock watcher and another source of
events (``ipcviz/sources/``) all emit and all listen; they need ``emit`` and ``on_events``,
not the engine that forks and reaps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ipcviz.engine.linearize import ENGINE, Linearizer
from ipcviz.engine.stream import EventOut, RecordCodec
from ipcviz.events import schema
from ipcviz.events.codec import RAW, encode_event
from ipcviz.model.analysis.holders import undo_events
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.tracer.ring import Record

#: Lines written out as soon as this many wait: during a long drain the viewer tells the
#: first events while the engine orders the rest (both CPUs work).
FLUSH_LINES = 2048

Event = dict[str, Any]


class Publisher:
    """Events of the rings (through the linearizer) and of the engine itself → the stream,
    the trace, the model and the hooks."""

    def __init__(
        self, out: EventOut, model: State, t0: int, obj_names: list[str], steps: list[str]
    ) -> None:
        self.out = out
        self.model = model
        self.t0 = t0
        self.obj_names = obj_names
        self.codec = RecordCodec(t0, obj_names, steps)
        #: drained operations, published in an order the kernel could have made
        self.lin = Linearizer(model, t0, obj_names, self.publish_record, self.publish_event)
        #: called with the events published since the last call (gate, prober, watchers)
        self.on_events: list[Callable[[list[Event]], None]] = []
        self._turn: list[Event] = []  # events published since the hooks last ran

    def emit(self, kind: str, pid: int = 0, **fields: Any) -> Event:
        """An event from the engine itself (not from a worker's ring).

        While drained operations still wait in the pool, the event waits with them, at its
        own time, so the stream stays in time order (a probe after what it saw).
        """
        stamp = time.monotonic_ns()
        event = {"t": stamp - self.t0, "seq": -1, "pid": pid, "kind": kind, **fields}
        if self.lin.pending:
            # The gate letting a worker go comes before that worker's next operation: it
            # joins the worker's own program order (its thread's), not only the engine's.
            lane = pid | fields.get("thread", 0) << 32 if kind == schema.GATE_STEP else ENGINE
            self.lin.add_event(event, stamp, lane)
        else:
            self.publish_event(event)
            self.run_hooks()
        return event

    def publish_event(self, event: Event) -> Event:
        """Number, write and apply one event (the linearizer calls this in its order)."""
        raw = event.pop(RAW, None)
        self.out.add(event)
        if raw is not None:
            event[RAW] = raw
        apply(self.model, event)
        self._turn.append(event)
        if event["kind"] == schema.PROC_EXIT:
            self._undo(event)
        return event

    def _undo(self, exit_event: Event) -> None:
        """SEM_UNDO: as a process exits the kernel reverses its adjustments; recorded right
        after its ``proc.exit``, before any operation that the units it gave back allow."""
        for e in undo_events(self.model, exit_event["pid"], exit_event["t"]):
            self.publish_event(e)
            if e["obj"] in self.obj_names:
                self.lin.changed(self.obj_names.index(e["obj"]))

    def publish_record(self, rec: Record, pid: int, since: int, want: int | None) -> Event:
        """Number, encode, write and apply the event of one ring record (the hot path)."""
        out = self.out
        thread = pid >> 32  # the linearizer's lane: the n-th thread of the process, or 0
        event, line = self.codec.make(rec, pid & 0xFFFFFFFF, out.seq, since)
        if want is not None or thread:
            if want is not None:  # a System V receive: the type it asked for decides legality
                event["want"] = want
            if thread:  # each thread is a program order of its own (ipcviz verify)
                event["thread"] = thread
            raw = event.pop(RAW, None)
            line = encode_event(event)
            if raw is not None:
                event[RAW] = raw
        out.seq += 1
        out.lines.append(line)
        if len(out.lines) >= FLUSH_LINES:
            out.flush()
        apply(self.model, event)
        self._turn.append(event)
        return event

    def run_hooks(self) -> None:
        if not self._turn:
            return
        events, self._turn = self._turn, []
        for hook in self.on_events:
            hook(events)
