"""How the narrator tells shared-memory events: which cell, which value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Event = dict[str, Any]


def _cell(verb: str) -> Callable[[Any, Event], str]:
    def fmt(n: Any, e: Event) -> str:
        obj = n.state.objects.get(e["obj"])
        size = getattr(obj, "cell_size", 8)
        return f"{verb} {e['obj']}[{e['offset'] // size}] = {e.get('value')}"

    return fmt


WORDS = {"shm.read": _cell("reads"), "shm.write": _cell("writes")}
