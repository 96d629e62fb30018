"""How the narrator tells message-queue events: priority or type, and the depth then."""

from __future__ import annotations

from typing import Any

from ipcviz import bytefmt
from ipcviz.events.codec import payload
from ipcviz.mechanisms.posix_mq.state import QueueObj

Event = dict[str, Any]


def _data(e: Event) -> str:
    return bytefmt.quoted(payload(e))


def _tag(e: Event) -> str:
    return f" (type {e['mtype']})" if "mtype" in e else f" (priority {e.get('prio', 0)})"


def _want(n: Any, e: Event) -> str:
    obj = n.state.objects.get(e["obj"])
    want = e.get("want") or 0
    if not isinstance(obj, QueueObj) or obj.by_priority:
        return ""  # a POSIX receive takes the highest priority: it wants no type
    if want == 0:
        return " (any type)"
    return f" (type {want})" if want > 0 else f" (lowest type <= {-want})"


def _depth(n: Any, e: Event) -> str:
    obj = n.state.objects.get(e["obj"])
    count = len(getattr(obj, "messages", ()))
    return f" [{count} queued]"


WORDS = {
    "mq.send.begin": lambda n, e: f"sends {e.get('n')} B to {e['obj']}{_tag(e)}…",
    "mq.send": lambda n, e: f"sent to {e['obj']}{_tag(e)}: {_data(e)}{_depth(n, e)}",
    "mq.recv.begin": lambda n, e: f"receives from {e['obj']}{_want(n, e)}…",
    "mq.recv": lambda n, e: f"received from {e['obj']}{_tag(e)}: {_data(e)}{_depth(n, e)}",
    "mq.notify": lambda n, e: f"asks to be told when a message arrives in the empty {e['obj']}",
    "mq.poll": lambda n, e: f"polls {e['obj']}: {'message waiting' if e.get('ready') else 'empty'}",
}
