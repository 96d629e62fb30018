"""Steps every mechanism's reducer handlers share: an operation begins, ends, changes an object.

Kept apart from ``reducer.py`` so the handlers in ``ipcviz/mechanisms/<type>/model.py`` can
use them while the reducer imports those handlers through the registry.
"""

from __future__ import annotations

from typing import Any

from ipcviz.model.state import Obj, State

Event = dict[str, Any]


def changed(obj: Obj, e: Event) -> None:
    """The model changed what a kernel probe of ``obj`` shows: older probes are stale."""
    obj.last_change_seq, obj.last_change_t = e["seq"], e["t"]


def begin(s: State, e: Event, queue: str | None = None) -> None:
    """An operation started; ``queue``: the object's list of waiters to join, if any."""
    p = s.procs.get(e["pid"])
    if p is not None:
        p.state, p.op, p.on = "waiting", e["kind"][: -len(".begin")], e.get("obj")
        p.op_seq, p.op_t = e["seq"], e["t"]
    if queue is not None and (obj := s.objects.get(e.get("obj", ""))) is not None:
        getattr(obj, queue).append(e["pid"])


def done(s: State, e: Event, queue: str | None = None) -> None:
    """An operation completed; ``queue``: the object's list of waiters to leave, if any."""
    p = s.procs.get(e["pid"])
    if p is not None:
        p.op_seq, p.op_t = e["seq"], e["t"]
        if p.state == "waiting":
            p.state, p.op, p.on = "running", None, None
    if queue is not None and (obj := s.objects.get(e.get("obj", ""))) is not None:
        waiting = getattr(obj, queue)
        if e["pid"] in waiting:
            waiting.remove(e["pid"])
