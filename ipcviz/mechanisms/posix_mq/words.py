"""How the narrator tells message-queue events: priority or type, and the depth then."""

from __future__ import annotations

from typing import Any

from ipcviz.i18n import Lazy, lazy
from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.mechanisms.said import recorded_bytes

Event = dict[str, Any]


def _data(e: Event) -> Lazy | str:
    """The message's bytes, as recorded (``said.recorded_bytes``: those past the cut said
    so; the bytes a ``cut`` receive's kernel dropped are its ``_cut``'s to say, not these)."""
    return recorded_bytes(e, e.get("size", 0))


def _tag(e: Event) -> Lazy:
    if "mtype" in e:
        return lazy(" (type {mtype})", mtype=e["mtype"])
    return lazy(" (priority {prio})", prio=e.get("prio", 0))


def _want(n: Any, e: Event) -> Lazy | str:
    obj = n.state.objects.get(e["obj"])
    want = e.get("want") or 0
    if not isinstance(obj, QueueObj) or obj.by_priority or e.get("later"):
        return ""  # a POSIX receive takes the highest priority; ``later``: not known yet
    if want == 0:
        return lazy(" (any type)")
    if want > 0:
        return lazy(" (type {mtype})", mtype=want)
    return lazy(" (lowest type <= {mtype})", mtype=-want)


def _cut(e: Event) -> Lazy | str:
    """A System V receive with ``MSG_NOERROR`` that filled its buffer: the message may
    have been longer, and the rest is lost (said, so a short message is no surprise)."""
    if not e.get("cut"):
        return ""
    return lazy(
        " (filled its {size} B buffer: MSG_NOERROR cuts a longer message to it)", size=e.get("size")
    )


def _except(e: Event) -> Lazy | str:
    """A System V receive with ``MSG_EXCEPT``: it asked for any type but ``want``."""
    if not e.get("except"):
        return ""
    return lazy(" (MSG_EXCEPT: any type but {mtype})", mtype=e.get("want", 0))


def _depth(n: Any, e: Event) -> Lazy:
    obj = n.state.objects.get(e["obj"])
    count = len(getattr(obj, "messages", ()))
    if getattr(obj, "outside", False):  # it may hold messages no event shows
        return lazy(" [{count} traced in it; earlier contents: kernel readings]", count=count)
    if getattr(obj, "maybe_filled", False):  # O_CREAT alone: it may have held some already
        return lazy(" [{count} traced in it; it may have held more before the run]", count=count)
    return lazy(" [{count} queued]", count=count)


def _poll(n: Any, e: Event) -> Lazy:
    if e.get("ready"):
        return lazy("polls {obj}: message waiting", obj=e["obj"])
    return lazy("polls {obj}: empty", obj=e["obj"])


def _again(n: Any, e: Event) -> Lazy:
    if e.get("send"):
        return lazy(
            "tried to send to {obj}: full, refused (EAGAIN){depth}",
            obj=e["obj"],
            depth=_depth(n, e),
        )
    obj = n.state.objects.get(e["obj"])
    if isinstance(obj, QueueObj) and not obj.by_priority:  # System V: msgrcv IPC_NOWAIT
        return lazy(
            "tried to receive from {obj}{want}: no such message, refused (ENOMSG)",
            obj=e["obj"],
            want=_want(n, e),
        )
    return lazy("tried to receive from {obj}: empty, refused (EAGAIN)", obj=e["obj"])


WORDS = {
    "mq.send.begin": lambda n, e: lazy(
        "sends {n} B to {obj}{tag}…", n=e.get("n"), obj=e["obj"], tag=_tag(e)
    ),
    "mq.send": lambda n, e: lazy(
        "sent to {obj}{tag}: {data}{depth}",
        obj=e["obj"],
        tag=_tag(e),
        data=_data(e),
        depth=_depth(n, e),
    ),
    "mq.recv.begin": lambda n, e: lazy(
        "receives from {obj}{want}…", obj=e["obj"], want=_want(n, e)
    ),
    "mq.recv": lambda n, e: lazy(
        "received from {obj}{tag}{except_}: {data}{cut}{depth}",
        obj=e["obj"],
        tag=_tag(e),
        except_=_except(e),
        data=_data(e),
        cut=_cut(e),
        depth=_depth(n, e),
    ),
    "mq.notify": lambda n, e: lazy(
        "asks to be told when a message arrives in the empty {obj}", obj=e["obj"]
    ),
    "mq.copy": lambda n, e: lazy(
        "copied message {index} of {obj}{tag}: {data}, left in it (MSG_COPY){depth}",
        index=e.get("want", 0),
        obj=e["obj"],
        tag=_tag(e),
        data=_data(e),
        depth=_depth(n, e),
    ),
    "mq.limit": lambda n, e: lazy(
        "set the limit of {obj} to {max} B (msgctl IPC_SET){depth}",
        obj=e["obj"],
        max=e.get("max_bytes"),
        depth=_depth(n, e),
    ),
    "mq.poll": _poll,
    "mq.again": _again,
    "mq.eidrm": lambda n, e: (
        lazy("tried to send to {obj}: removed meanwhile, failed (EIDRM)", obj=e["obj"])
        if e.get("send")
        else lazy("tried to receive from {obj}: removed meanwhile, failed (EIDRM)", obj=e["obj"])
    ),
}
