"""How the narrator tells shared-memory events: which cell, which value."""

from __future__ import annotations

from typing import Any

from ipcviz.i18n import Lazy, lazy

Event = dict[str, Any]


def _index(n: Any, e: Event) -> int:
    obj = n.state.objects.get(e["obj"])
    return e["offset"] // getattr(obj, "cell_size", 8)


def _read(n: Any, e: Event) -> Lazy:
    return lazy("reads {obj}[{i}] = {value}", obj=e["obj"], i=_index(n, e), value=e.get("value"))


def _write(n: Any, e: Event) -> Lazy:
    return lazy("writes {obj}[{i}] = {value}", obj=e["obj"], i=_index(n, e), value=e.get("value"))


WORDS = {"shm.read": _read, "shm.write": _write}
