"""How the narrator tells semaphore events: with the value right after."""

from __future__ import annotations

from typing import Any

from ipcviz.i18n import Lazy, lazy


def _took(n: Any, e: dict[str, Any]) -> Lazy:
    obj = n.state.objects[e["obj"]]
    if obj.outside:  # its value before the watch is the kernel's to say, not the trace's
        return lazy("took {obj} (its value: the kernel's readings only)", obj=e["obj"])
    return lazy("took {obj} (value now {value})", obj=e["obj"], value=obj.value)


def _posts(n: Any, e: dict[str, Any]) -> Lazy:
    obj = n.state.objects[e["obj"]]
    if obj.outside:
        return lazy("posts {obj} (its value: the kernel's readings only)", obj=e["obj"])
    return lazy("posts {obj} (value now {value})", obj=e["obj"], value=obj.value)


WORDS = {
    "sem.wait.begin": lambda n, e: lazy("waits on {obj}…", obj=e["obj"]),
    "sem.wait": _took,
    "sem.post": _posts,
    "sem.set": lambda n, e: lazy("sets {obj} to {value}", obj=e["obj"], value=e["value"]),
    "sem.trywait": lambda n, e: (
        lazy("try-waits {obj}: took it", obj=e["obj"])
        if e.get("ok")
        else lazy("try-waits {obj}: busy", obj=e["obj"])
    ),
}
