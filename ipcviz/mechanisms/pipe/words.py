"""How the narrator tells pipe events (headless log, the TUI's event log, handouts)."""

from __future__ import annotations

from typing import Any

from ipcviz import bytefmt
from ipcviz.events.codec import payload

Event = dict[str, Any]
END = ("read end", "write end")
DIRECTION = ("reading", "writing")


def _data(e: Event) -> str:
    return bytefmt.quoted(payload(e))


def _write(n: Any, e: Event) -> str:
    return f"wrote {e['n']} B to {e['obj']}: {_data(e)}"


def _read(n: Any, e: Event) -> str:
    if e["n"] == 0:
        return f"read EOF from {e['obj']} (no writer left)"
    return f"read {e['n']} B from {e['obj']}: {_data(e)}"


WORDS = {
    "pipe.write.begin": lambda n, e: f"writes {e['n']} B to {e['obj']}…",
    "pipe.write": _write,
    "pipe.read.begin": lambda n, e: f"reads from {e['obj']}…",
    "pipe.read": _read,
    "pipe.close": lambda n, e: f"closes the {END[e.get('end', 0)]} of {e['obj']}",
    "pipe.epipe": lambda n, e: f"write to {e['obj']} failed: EPIPE (no reader left)",
    "pipe.open.begin": lambda n, e: (
        f"opens {e['obj']} for {('reading', 'writing')[e.get('end', 0)]}…"
    ),
    "pipe.open": lambda n, e: f"opened {e['obj']} for {DIRECTION[e.get('end', 0)]}",
}
