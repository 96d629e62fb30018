"""A run that could not even start (e.g. a scenario with a syntax error): bad input.

It is told on the event stream (the viewer shows the error, the headless log says it in
one line) but leaves no trace file: a usage error must not leave a new file behind, nor
a "run" in ``ipcviz runs`` that never ran. A run that started and then failed is recorded
by the engine itself, as every run is.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from ipcviz.events import schema


def tell_failure(scenario: str, message: str) -> None:
    """The header, one ``error`` event and ``session.end`` on the event stream (stdout),
    as a run's would be; no file is written."""
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
    data = "\n".join([json.dumps(header, separators=(",", ":")), *lines]) + "\n"
    try:
        os.write(1, data.encode())
    except OSError:
        pass
