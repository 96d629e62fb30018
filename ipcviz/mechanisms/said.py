"""Words several mechanisms' narrations share (``<type>/words.py``): no type named here."""

from __future__ import annotations

from typing import Any

from ipcviz import bytefmt
from ipcviz.events.codec import payload
from ipcviz.i18n import Lazy, lazy


def recorded_bytes(e: dict[str, Any], whole: Any) -> Lazy | str:
    """The bytes an event moved, as recorded; ``whole`` of them moved. Those past the
    recording's cut (strace prints 65536 bytes of a call at most, a worker keeps
    ``MAX_PAYLOAD``) are not in the trace: said so, never shown as ``""``, which reads as
    nothing moved."""
    data = payload(e)
    missing = (whole if type(whole) is int else 0) - len(data)
    if missing <= 0:
        return bytefmt.quoted(data)
    if not data:
        return lazy("(bytes not recorded)")
    return lazy("{data} (+{n} B not recorded)", data=bytefmt.quoted(data), n=missing)
