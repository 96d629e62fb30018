"""How the narrator tells semaphore events: with the value right after."""

from __future__ import annotations

from typing import Any

from ipcviz.i18n import Lazy, lazy


def _joined(said: Lazy, e: dict[str, Any]) -> Lazy:
    """A further part of one semop (``joined``) says so: the line before it and it are one
    call, which the kernel applied at one instant (no state between them existed)."""
    if not e.get("joined"):
        return said
    return lazy("{said}, in the same semop: at the same instant", said=said)


def _took(n: Any, e: dict[str, Any]) -> Lazy:
    obj = n.state.objects[e["obj"]]
    if obj.outside:  # its value before the watch is the kernel's to say, not the trace's
        said = lazy("took {obj} (its value: the kernel's readings only)", obj=e["obj"])
    else:
        said = lazy("took {obj} (value now {value})", obj=e["obj"], value=obj.value)
    return _joined(said, e)


def _posts(n: Any, e: dict[str, Any]) -> Lazy:
    obj = n.state.objects[e["obj"]]
    if obj.outside:
        said = lazy("posts {obj} (its value: the kernel's readings only)", obj=e["obj"])
    else:
        said = lazy("posts {obj} (value now {value})", obj=e["obj"], value=obj.value)
    return _joined(said, e)


def _waits(n: Any, e: dict[str, Any]) -> Lazy:
    """A System V semop taking from several semaphores waits for all of them at once."""
    sems = e.get("sems")
    names = list(dict.fromkeys(str(x) for x in sems)) if isinstance(sems, list) else []
    if len(names) < 2:
        return lazy("waits on {obj}…", obj=e["obj"])
    return lazy(
        "waits on {objs} and {last}, in one semop: it takes them all at once or none…",
        objs=", ".join(names[:-1]),
        last=names[-1],
    )


WORDS = {
    "sem.wait.begin": _waits,
    "sem.wait": _took,
    "sem.post": _posts,
    "sem.set": lambda n, e: lazy("sets {obj} to {value}", obj=e["obj"], value=e["value"]),
    "sem.trywait": lambda n, e: (
        _joined(lazy("try-waits {obj}: took it", obj=e["obj"]), e)
        if e.get("ok")
        else lazy("try-waits {obj}: busy", obj=e["obj"])
    ),
    "sem.eidrm": lambda n, e: lazy(
        "waited on {obj}: removed meanwhile, failed (EIDRM)", obj=e["obj"]
    ),
}
