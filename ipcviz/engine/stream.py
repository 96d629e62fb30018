"""Turning ring records into events, numbering them, and writing them out."""

from __future__ import annotations

import json
import os
from typing import Any

from ipcviz.events.codec import b64, encode_event
from ipcviz.events.trace import TraceWriter
from ipcviz.tracer.codes import NARRATE, TABLE
from ipcviz.tracer.ring import Record


class EventOut:
    """Numbers events (``seq``), and writes them to the viewer's pipe and the trace file."""

    def __init__(self, stream_fd: int, trace: TraceWriter) -> None:
        self.stream_fd = stream_fd
        self.trace = trace
        self.seq = 0
        self.lines: list[str] = []
        self.viewer_gone = False

    def add(self, event: dict[str, Any]) -> dict[str, Any]:
        event["seq"] = self.seq
        self.seq += 1
        self.lines.append(encode_event(event))
        return event

    def send_header(self, line: str) -> None:
        """The header goes to the viewer first; the trace file got it when it was opened."""
        self._to_viewer([line])

    def flush(self) -> None:
        if not self.lines:
            return
        lines, self.lines = self.lines, []
        self.trace.write_lines(lines)
        self._to_viewer(lines)

    def _to_viewer(self, lines: list[str]) -> None:
        if self.viewer_gone or self.stream_fd < 0:
            return
        data = memoryview(("\n".join(lines) + "\n").encode("utf-8"))
        try:
            while data:
                data = data[os.write(self.stream_fd, data) :]
        except (BrokenPipeError, OSError):
            self.viewer_gone = True


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
    if spec.a:
        event[spec.a] = a
    if spec.b:
        event[spec.b] = b
    if spec.payload == "bytes":
        event["data"] = b64(bytes(data))
    elif spec.payload == "text":
        event["text"] = bytes(data).decode("utf-8", "replace")
    elif spec.payload == "json":
        try:
            event.update(json.loads(bytes(data)))
        except ValueError:
            event["data"] = b64(bytes(data))
    return event
