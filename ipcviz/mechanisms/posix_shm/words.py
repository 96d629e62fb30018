"""How the narrator tells shared-memory events: which cell, which value."""

from __future__ import annotations

from typing import Any

from ipcviz.i18n import Lazy, lazy
from ipcviz.mechanisms.posix_shm.state import ShmObj

Event = dict[str, Any]


def _named(n: Any, e: Event) -> tuple[int, str | None]:
    """The cell's index, and its name when the scenario named it and the name is not the
    object's own (``counter[0]``, never ``counter.counter``)."""
    obj = n.state.objects.get(e["obj"])
    i = e["offset"] // getattr(obj, "cell_size", 8)
    name = obj.cell_name(i) if isinstance(obj, ShmObj) else None
    return i, None if name is None or name.split("[")[0] == e["obj"] else name


def _read(n: Any, e: Event) -> Lazy:
    i, name = _named(n, e)
    if name is not None:
        return lazy("reads {obj}.{cell} = {value}", obj=e["obj"], cell=name, value=e.get("value"))
    return lazy("reads {obj}[{i}] = {value}", obj=e["obj"], i=i, value=e.get("value"))


def _write(n: Any, e: Event) -> Lazy:
    i, name = _named(n, e)
    if name is not None:
        return lazy("writes {obj}.{cell} = {value}", obj=e["obj"], cell=name, value=e.get("value"))
    return lazy("writes {obj}[{i}] = {value}", obj=e["obj"], i=i, value=e.get("value"))


WORDS = {"shm.read": _read, "shm.write": _write}
