"""Turning ring records into events, numbering them, and writing them out."""

from __future__ import annotations

import json
import os
from binascii import b2a_base64
from collections.abc import Callable
from typing import Any

from ipcviz.events.codec import RAW, b64, encode_event, line_bytes
from ipcviz.events.trace import TraceWriter
from ipcviz.mechanisms import registry
from ipcviz.tracer.codes import GATE_WAIT, NARRATE
from ipcviz.tracer.ring import Record

#: every record code, the session's and each mechanism's (``registry.codes()``)
TABLE = registry.codes()


class EventOut:
    """Numbers events (``seq``), and writes them to the viewer's pipe and the trace file."""

    def __init__(self, stream_fd: int, trace: TraceWriter) -> None:
        self.stream_fd = stream_fd
        self.trace = trace
        self.seq = 0
        self.lines: list[str] = []
        self.viewer_gone = False
        #: called once when the viewer is found gone (``Engine._viewer_gone``)
        self.on_viewer_gone: Callable[[], None] = lambda: None

    def add(self, event: dict[str, Any]) -> dict[str, Any]:
        event["seq"] = self.seq
        self.seq += 1
        self.lines.append(encode_event(event))
        return event

    def send_header(self, line: str) -> None:
        """The header goes to the viewer first; the trace file got it when it was opened."""
        self._to_viewer(line_bytes(line + "\n"))

    def flush(self) -> None:
        if not self.lines:
            return
        lines, self.lines = self.lines, []
        data = line_bytes("\n".join(lines) + "\n")
        self.trace.write_bytes(data)
        self._to_viewer(data)

    def _to_viewer(self, data: bytes) -> None:
        if self.viewer_gone or self.stream_fd < 0:
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.stream_fd, view) :]
        except (BrokenPipeError, OSError):
            self.viewer_gone = True
            self.on_viewer_gone()


class RecordCodec:
    """Ring records → (event dict, JSON line), fast: this is the engine's hot path.

    Each (code, object) pair gets a maker with a ``%``-template for its line, built once,
    instead of a generic JSON encoder per event (about 4x cheaper). ``tests/test_tracer.py``
    checks the lines are identical to ``encode_event`` of the dicts for every code.
    """

    def __init__(self, t0: int, objects: list[str], steps: list[str]) -> None:
        self.t0 = t0
        self.objects = objects
        self.steps = steps
        self._makers: dict[tuple[int, int], Any] = {}

    def make(self, rec: Record, pid: int, seq: int, since: int = 0) -> tuple[dict, str]:
        """The event of ``rec``; ``since``: monotonic time of its folded begin record, or 0."""
        key = (rec[0], rec[1], since != 0)
        maker = self._makers.get(key)
        if maker is None:
            maker = self._makers[key] = self._build(rec[0], rec[1], since != 0)
        return maker(rec, pid, seq, since)

    def _build(self, code: int, obj: int, folded: bool) -> Any:
        spec = TABLE.get(code)
        t0, objects, steps = self.t0, self.objects, self.steps

        def generic(rec: Record, pid: int, seq: int, since: int) -> tuple[dict, str]:
            event = record_to_event(rec, pid, t0, objects, steps)
            event["seq"] = seq
            if since:
                event["since"] = since - t0
            return event, encode_event(event)

        if spec is None or code in (NARRATE, GATE_WAIT) or spec.payload == "text":
            return generic
        if spec.payload == "json":  # its fields only when it carries some: a begin of a
            # semop on several (``sems``); every other begin of its code goes the fast way
            plain = self._fast(spec, obj, folded)

            def either(rec: Record, pid: int, seq: int, since: int) -> tuple[dict, str]:
                return (generic if rec[5] else plain)(rec, pid, seq, since)

            return either
        return self._fast(spec, obj, folded)

    def _fast(self, spec: Any, obj: int, folded: bool) -> Any:
        """The maker of a record's event from a ``%``-template (no payload but bytes)."""
        t0, objects = self.t0, self.objects
        kind, a, b, has_data = spec.kind, spec.a, spec.b, spec.payload == "bytes"
        name = objects[obj] if 0 <= obj < len(objects) else None
        head = '{"t":%d,"seq":%d,"pid":%d,"kind":' + json.dumps(kind)
        if name is not None:
            head += ',"obj":' + json.dumps(name, ensure_ascii=False).replace("%", "%%")
        template = head + (f',"{a}":%d' if a else "") + (f',"{b}":%d' if b else "")
        template += "".join(f',"{k}":{v}' for k, v in spec.fixed)
        fixed = dict(spec.fixed)
        template += ',"data":"%s"' if has_data else ""
        template += ',"since":%d}' if folded else "}"

        def fast(rec: Record, pid: int, seq: int, since: int) -> tuple[dict, str]:
            _, _, t, va, vb, data = rec
            t -= t0
            event: dict[str, Any] = {"t": t, "seq": seq, "pid": pid, "kind": kind}
            values: list[Any] = [t, seq, pid]
            if name is not None:
                event["obj"] = name
            if a:
                event[a] = va
                values.append(va)
            if b:
                event[b] = vb
                values.append(vb)
            if fixed:
                event.update(fixed)
            if has_data:
                event["data"] = text = b2a_base64(data, newline=False).decode("ascii")
                event[RAW] = data  # for the engine's own model: no decoding back
                values.append(text)
            if folded:
                event["since"] = since - t0
                values.append(since - t0)
            return event, template % tuple(values)

        return fast


def record_to_event(
    rec: Record, pid: int, t0: int, objects: list[str], steps: list[str]
) -> dict[str, Any]:
    """One ring record → one event dict (``seq`` is set later, after merging rings)."""
    code, obj, t, a, b, data = rec
    spec = TABLE.get(code)
    if spec is None:
        return {"t": t - t0, "seq": -1, "pid": pid, "kind": "unknown", "code": code}
    event: dict[str, Any] = {"t": t - t0, "seq": -1, "pid": pid, "kind": spec.kind}
    if 0 <= obj < len(objects):
        event["obj"] = objects[obj]
    if code == NARRATE:
        event["step"] = steps[a] if 0 <= a < len(steps) else str(a)
        return event
    if code == GATE_WAIT:  # name the operation the worker waits to perform
        op = TABLE.get(a)
        event["op"] = op.kind.removesuffix(".begin") if op else str(a)
        if b >= 0:  # a thread's own gate pipe (tracer/gate.py), not the process's
            event["gate_fd"] = b
    if spec.a:
        event[spec.a] = a
    if spec.b:
        event[spec.b] = b
    event.update(spec.fixed)
    if spec.payload == "bytes":
        event["data"] = b64(bytes(data))
    elif spec.payload == "text":
        event["text"] = bytes(data).decode("utf-8", "replace")
    elif spec.payload == "json" and data:  # (none: a plain begin, ``sem.wait.begin``)
        try:
            event.update(json.loads(bytes(data)))
        except ValueError:
            event["data"] = b64(bytes(data))
    return event
