"""How the narrator tells pipe events (headless log, the TUI's event log, handouts)."""

from __future__ import annotations

from typing import Any

from ipcviz.i18n import Lazy, lazy
from ipcviz.mechanisms.pipe.state import PipeObj
from ipcviz.mechanisms.said import recorded_bytes

Event = dict[str, Any]


def _data(e: Event) -> Lazy | str:
    """The bytes moved, as recorded (``said.recorded_bytes``: those past the cut said so)."""
    return recorded_bytes(e, e.get("n", 0))


def _write(n: Any, e: Event) -> Lazy:
    return lazy("wrote {n} B to {obj}: {data}", n=e["n"], obj=e["obj"], data=_data(e))


def _pipe(n: Any, e: Event) -> PipeObj | None:
    """The pipe as the event left it (``n``: the narrator, whose state it was applied to)."""
    obj = getattr(getattr(n, "state", None), "objects", {}).get(e.get("obj"))
    return obj if isinstance(obj, PipeObj) else None


def _read(n: Any, e: Event) -> Lazy:
    obj = _pipe(n, e)
    gone = obj.dropped_last if obj is not None and obj.dropped_seq == e.get("seq") else 0
    if e["n"] == 0:
        if gone:
            return lazy(
                "read EOF from {obj}: the {gone} B left at its last close were gone (freed)",
                obj=e["obj"],
                gone=gone,
            )
        return lazy("read EOF from {obj} (no writer left)", obj=e["obj"])
    if gone:
        return lazy(
            "read {n} B from {obj}: {data}; the {gone} B left at its last close were gone",
            n=e["n"],
            obj=e["obj"],
            data=_data(e),
            gone=gone,
        )
    return lazy("read {n} B from {obj}: {data}", n=e["n"], obj=e["obj"], data=_data(e))


def _close(n: Any, e: Event) -> Lazy:
    obj = _pipe(n, e)
    if obj is not None and obj.gone and obj.gone_seq == e.get("seq"):
        if e.get("end", 0):
            return lazy(
                "closes the write end of {obj}, its last open end: the {n} B in it may be "
                "gone (kept only if an open() was in flight)",
                obj=e["obj"],
                n=obj.stale,
            )
        return lazy(
            "closes the read end of {obj}, its last open end: the {n} B in it may be gone "
            "(kept only if an open() was in flight)",
            obj=e["obj"],
            n=obj.stale,
        )
    if e.get("end", 0):
        return lazy("closes the write end of {obj}", obj=e["obj"])
    return lazy("closes the read end of {obj}", obj=e["obj"])


def _open_begin(n: Any, e: Event) -> Lazy:
    if e.get("end", 0):
        return lazy("opens {obj} for writing…", obj=e["obj"])
    return lazy("opens {obj} for reading…", obj=e["obj"])


def _open(n: Any, e: Event) -> Lazy:
    if e.get("end", 0):
        return lazy("opened {obj} for writing", obj=e["obj"])
    return lazy("opened {obj} for reading", obj=e["obj"])


WORDS = {
    "pipe.write.begin": lambda n, e: lazy("writes {n} B to {obj}…", n=e["n"], obj=e["obj"]),
    "pipe.write": _write,
    "pipe.read.begin": lambda n, e: lazy("reads from {obj}…", obj=e["obj"]),
    "pipe.read": _read,
    "pipe.close": _close,
    "pipe.epipe": lambda n, e: lazy("write to {obj} failed: EPIPE (no reader left)", obj=e["obj"]),
    "pipe.open.begin": _open_begin,
    "pipe.open": _open,
}
