"""Steps every mechanism's reducer handlers share: an operation begins, ends, changes an object.

Kept apart from ``reducer.py`` so the handlers in ``ipcviz/mechanisms/<type>/model.py`` can
use them while the reducer imports those handlers through the registry.
"""

from __future__ import annotations

from typing import Any

from ipcviz.errors import TraceError
from ipcviz.model.state import Obj, State

Event = dict[str, Any]
#: Zero bytes the model makes up, held at once over all pipes and queues, for payload
#: tails the tracer did not record (it keeps 256 KiB of each): counts stay honest without
#: the bytes. Real runs stay far below (a pipe holds 1 MiB at most unless root raised
#: pipe-max-size); a hostile trace asking for more (``"n": 2147479552`` and no data, line
#: after line) is refused in one line (TraceError) instead of costing gigabytes.
MAX_MADE_UP = 64 * 1024 * 1024
#: The payload a record keeps at most (the tracer's ``MAX_PAYLOAD``; docs/trace-format.md):
#: a write that asked for more (``size``) was cut, even in a piece that carries all of its
#: own bytes.
PAYLOAD_KEPT = 256 * 1024


def changed(obj: Obj, e: Event) -> None:
    """The model changed what a kernel probe of ``obj`` shows: older probes are stale."""
    obj.last_change_seq, obj.last_change_t = e["seq"], e["t"]


def begin(s: State, e: Event, queue: str | None = None) -> None:
    """An operation started; ``queue``: the object's list of waiters to join, if any."""
    p = s.procs.get(e["pid"])
    if p is not None:
        p.state, p.op, p.on, p.ons = "waiting", e["kind"][: -len(".begin")], e.get("obj"), ()
        p.op_seq, p.op_t = e["seq"], e["t"]
    if queue is not None and (obj := s.objects.get(e.get("obj", ""))) is not None:
        getattr(obj, queue).append(e["pid"])


def done(s: State, e: Event, queue: str | None = None) -> None:
    """An operation completed; ``queue``: the object's list of waiters to leave, if any."""
    p = s.procs.get(e["pid"])
    if p is not None:
        p.op_seq, p.op_t = e["seq"], e["t"]
        if p.state == "waiting":
            p.state, p.op, p.on, p.ons = "running", None, None, ()
    if queue is not None and (obj := s.objects.get(e.get("obj", ""))) is not None:
        waiting = getattr(obj, queue)
        if e["pid"] in waiting:
            waiting.remove(e["pid"])


def made_up(s: State, e: Event, data: bytes, n: int) -> bytes:
    """``data`` padded with zeros to ``n`` bytes, within ``MAX_MADE_UP`` held at once.

    Counted against the object until it holds fewer bytes than were made up for it
    (``given_back``): an upper bound of what is held, so the bound is never exceeded.
    """
    missing = n - len(data)
    held = s.made_up + missing
    if held > MAX_MADE_UP:
        raise TraceError(
            f"event seq {e.get('seq')} ({e.get('kind')} on {e.get('obj')}): {n} B of which "
            f"{len(data)} recorded would make the model hold more than "
            f"{MAX_MADE_UP >> 20} MiB of unrecorded bytes (a limit: docs/trace-format.md)"
        )
    by = s.made_up_by
    by[e["obj"]] = by.get(e["obj"], 0) + missing
    s.made_up = held
    return data + bytes(missing)


def given_back(s: State, obj: Any) -> None:
    """Bytes left ``obj`` (a pipe or a queue): no more of what it holds than that can be
    made up. A queue also holds, in ``early``, messages received before their send."""
    by = s.made_up_by
    if not by or not by.get(obj.name):
        return  # the usual case: nothing was made up for it
    holds = obj.nbytes
    holds += sum(len(x[1]) for x in getattr(obj, "early", ()))
    if by[obj.name] > holds:
        s.made_up -= by[obj.name] - holds
        by[obj.name] = holds
