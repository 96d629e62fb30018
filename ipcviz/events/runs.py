"""The recorded runs in the trace directory, listed fast: only each file's first and last line.

A finished run ends with ``session.end`` (outcome, event count); a run that crashed or is
still recording ends elsewhere (``outcome`` None): the CLI and the screen tell the two apart
by the session (``session``) still being alive.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipcviz import bytefmt
from ipcviz.bytefmt import safe_text
from ipcviz.errors import TraceError
from ipcviz.events.codec import decode_line
from ipcviz.events.trace import _open_regular, _parse_header, _read_line, default_trace_dir
from ipcviz.events.validate import Validator
from ipcviz.i18n import _

_TAIL = 64 * 1024  # the last line of a trace is one event: far below this


@dataclass(frozen=True)
class RunInfo:
    path: Path
    scenario: str  # scenario id (made inert: it comes from a file)
    title: str
    started: str  # ISO time from the header
    duration: float  # seconds, from the last event's ``t``
    events: int
    outcome: str | None  # passed | failed | error | stopped | timeout; None: no end yet
    session: str = ""  # the header's session id: a run still recording is a live session


def list_runs(directory: Path | None = None) -> list[RunInfo]:
    """Every readable trace in ``directory`` (default: the user's trace dir), newest first.

    Files that are not ipcviz traces are skipped silently: the directory is the user's.
    """
    base = directory if directory is not None else default_trace_dir()
    try:
        entries = [p for p in base.iterdir() if p.suffix == ".jsonl" and p.is_file()]
    except OSError:
        return []
    runs = []
    for path in entries:
        try:
            runs.append(run_info(path))
        except TraceError:
            continue
    runs.sort(key=lambda r: (r.started, str(r.path)), reverse=True)
    return runs


def run_info(path: Path) -> RunInfo:
    """Summary of one trace from its header and last line. Raises TraceError."""
    try:
        with _open_regular(path) as f:  # a FIFO named *.jsonl cannot hang the list
            first = _read_line(f, path, "line 1")
            size = os.fstat(f.fileno()).st_size
            start = max(f.tell(), size - _TAIL)
            f.seek(start)
            tail = f.read()
    except OSError as exc:
        raise TraceError(
            _("cannot read {path}: {strerror}").format(path=path, strerror=exc.strerror)
        ) from None
    header = _parse_header(path, first)
    last = _last_event(tail)
    scenario = header.get("scenario", {})
    events, outcome, duration = 0, None, 0.0
    if last is not None:
        t = last.get("t")
        duration = t / 1e9 if isinstance(t, int) and 0 <= t < 2**63 else 0.0
        seq = last.get("seq")
        events = seq + 1 if isinstance(seq, int) and seq >= 0 else 0
        if last.get("kind") == "session.end":
            if isinstance(last.get("events"), int):
                events = last["events"]
            outcome = last.get("outcome") if isinstance(last.get("outcome"), str) else "ended"
    return RunInfo(
        path=path,
        scenario=_run_name(header, scenario),
        title=safe_text(str(scenario.get("title", "")), 120),
        started=safe_text(str(header.get("start", "")), 40),
        duration=duration,
        events=events,
        outcome=safe_text(outcome, 20) if outcome else None,
        session=safe_text(str(header.get("session", "")), 20),
    )


def _run_name(header: dict[str, Any], scenario: Any) -> str:
    """The scenario's id; for ``ipcviz run -- PROG`` (id ``program``) the command itself,
    ``-- ./server 5``: every such run was listed as "program". For a C file, what the user
    ran (``ran``: ``lab.c -- 5``), not its binary's path in the build cache."""
    name = str(scenario.get("id", "?")) if isinstance(scenario, dict) else "?"
    ran = header.get("ran")
    program = header.get("program")
    words, shown = (ran, "") if isinstance(ran, list) and ran else (program, "--")
    words = words if isinstance(words, list) else []
    if name == "program" and words and all(isinstance(word, str) for word in words):
        for word in words:  # as many words as are shown: a header may hold millions
            if len(shown) > 60:
                break
            shown += " " + bytefmt.shell_word(word)
        return safe_text(shown.lstrip(), 60)
    return safe_text(name, 60)


def _last_event(tail: bytes) -> dict[str, Any] | None:
    """The last whole JSON event line in ``tail`` (a cut-off last line is skipped), if its
    fields have their types: a ``session.end`` saying ``"events": true`` was listed as
    "1 events", a ``seq`` of 10**29 as that many; replay refuses such a line, and the
    list shows the run as one with no end."""
    for raw in reversed(tail.split(b"\n")):
        if not raw.strip():
            continue
        try:
            event = decode_line(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            continue  # cut off by a crash, or the start of a line cut by the tail window
        if isinstance(event, dict) and "kind" in event:
            return event if Validator(references=False).check(event) is None else None
    return None
