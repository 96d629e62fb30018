"""A run that could not even start (e.g. a scenario with a syntax error) is still recorded."""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

from ipcviz.errors import TraceError
from ipcviz.events import schema
from ipcviz.events.trace import TraceWriter


def record_failure(trace: Path, scenario: str, message: str) -> None:
    """Write a trace with the header, one ``error`` event and ``session.end``; echo to stdout."""
    header = schema.header(
        {"id": Path(scenario).stem, "title": "", "teaches": [], "steps": [], "source": scenario},
        "-",
        datetime.now(UTC).isoformat(timespec="seconds"),
        socket.gethostname(),
    )
    events = [
        {"t": 0, "seq": 0, "pid": 0, "kind": schema.ERROR, "message": message},
        {
            "t": 0,
            "seq": 1,
            "pid": 0,
            "kind": schema.SESSION_END,
            "outcome": "error",
            "exit_code": 2,
            "reason": "",
            "events": 2,
        },
    ]
    lines = [json.dumps(e, separators=(",", ":"), ensure_ascii=False) for e in events]
    try:
        writer = TraceWriter(trace, header)
    except TraceError as exc:  # the file exists: say why on stderr, still echo the stream
        print(f"ipcviz: {exc}", file=sys.stderr)
    else:
        writer.write_lines(lines)
        writer.close()
    data = "\n".join([json.dumps(header, separators=(",", ":")), *lines]) + "\n"
    try:
        os.write(1, data.encode())
    except OSError:
        pass
