"""Field types of trace headers and events, checked as a trace is read.

A trace is untrusted input: a well-formed JSON line can still carry ``"n": "x"``, an
undecodable payload or ``"t": 1e400``. Every reader of traces (the headless narrator, the
TUI replay, the exporters, the replay index) goes through :class:`~ipcviz.events.trace.
TraceReader`, which runs :class:`Validator` on each event before handing it on, so the
reducer and the views never see a wrong type: a bad field is one ``TraceError`` naming the
line and the field (exit 2), never a ``KeyError`` or ``TypeError`` deep in a view.

Only fields that ipcviz reads are checked; unknown kinds and unknown fields pass (the
version policy in docs/trace-format.md: readers ignore what they do not know). Numbers are
bounded to 64 bits, so arithmetic on them cannot overflow a float.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Mapping
from typing import Any

from ipcviz.mechanisms import registry

#: A check returns None when the value is acceptable, else what is wrong with it.
Check = Callable[[Any], str | None]

I64 = (-(2**63), 2**63 - 1)
U64 = (-(2**63), 2**64 - 1)  # shared-memory cells are 64-bit, read signed or unsigned
#: Largest byte count of one read/write (Linux MAX_RW_COUNT): bounds ``n`` and ``size``.
MAX_RW = 0x7FFFF000


def integer(lo: int = I64[0], hi: int = I64[1]) -> Check:
    def check(v: Any) -> str | None:
        if type(v) is int and lo <= v <= hi:  # the hot path: one test
            return None
        if not isinstance(v, int):  # bool is an int: accepted where a flag is stored as 0/1
            return f"must be an integer, not {_type(v)}"
        if not lo <= v <= hi:
            return f"is out of range ({lo}..{hi})"
        return None

    return check


def number(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return f"must be a number, not {_type(v)}"
    if isinstance(v, float) and not abs(v) < 1e300:
        return "must be a finite number"
    if isinstance(v, int) and not I64[0] <= v <= U64[1]:
        return "is out of range"
    return None


def string(v: Any) -> str | None:
    return None if isinstance(v, str) else f"must be a string, not {_type(v)}"


def flag(v: Any) -> str | None:
    return None if isinstance(v, bool | int) else f"must be true/false, not {_type(v)}"


def anything(v: Any) -> str | None:
    return None


def base64(v: Any) -> str | None:
    """A payload: a string that decodes as base64 (codec.payload decodes it later)."""
    if not isinstance(v, str):
        return f"must be a base64 string, not {_type(v)}"
    try:
        binascii.a2b_base64(v)
    except (binascii.Error, ValueError):
        return "is not valid base64"
    return None


def optional(check: Check) -> Check:
    """``check``, or JSON null."""
    return lambda v: None if v is None else check(v)


def one_of(*allowed: Any) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or v not in allowed:
            return f"must be one of {', '.join(map(repr, allowed))}"
        return None

    return check


def list_of(item: Check) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, list):
            return f"must be a list, not {_type(v)}"
        for i, x in enumerate(v):
            problem = item(x)
            if problem:
                return _nest(f"[{i}]", problem)
        return None

    return check


def record(fields: Mapping[str, Check], required: tuple[str, ...] = ()) -> Check:
    """A JSON object whose listed ``fields`` have these types (others pass)."""

    def check(v: Any) -> str | None:
        if not isinstance(v, dict):
            return f"must be an object, not {_type(v)}"
        return _fields(v, fields, required)

    return check


def dict_of(value: Check) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, dict):
            return f"must be an object, not {_type(v)}"
        for k, x in v.items():
            problem = value(x)
            if problem:
                return _nest(f"[{k!r}]", problem)
        return None

    return check


def _type(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(v), "null" if v is None else type(v).__name__
    )


def _fields(
    v: dict[str, Any], fields: Mapping[str, Check], required: tuple[str, ...]
) -> str | None:
    for name in required:
        if name not in v:
            return f"has no {name!r}"
    for name, check in fields.items():
        if name in v:
            problem = check(v[name])
            if problem:
                return _nest(f".{name}", problem)
    return None


def _nest(step: str, problem: str) -> str:
    """``.steps`` + ``[0] has no 'id'`` → ``.steps[0] has no 'id'`` (a path, then what)."""
    return step + problem if problem[:1] in (".", "[") else f"{step} {problem}"


def _said(problem: str) -> str:
    """``.scenario.steps[0] has no 'id'`` → ``'scenario.steps[0]' has no 'id'``."""
    if problem[:1] != ".":
        return problem
    path, _, what = problem.partition(" ")
    return f"{path[1:]!r} {what}"


# -- the header ---------------------------------------------------------------------------

strings = list_of(string)
STEP = record(
    {"id": string, "en": string, "ko": optional(string), "teaches": strings}, required=("id",)
)
SCENARIO = record(
    {
        "id": string,
        "title": string,
        "description": string,
        "teaches": strings,
        "steps": list_of(STEP),
        "processes": strings,
        "checks": strings,
        "source": string,
        "params": record({}),
    }
)
HEADER: dict[str, Check] = {
    "scenario": SCENARIO,
    "session": string,
    "start": string,
    "host": string,
    "quick": flag,
    "lang": string,
}


def check_header(header: dict[str, Any]) -> str | None:
    """What is wrong with a header (already known to be an ipcviz header), or None."""
    problem = _fields(header, HEADER, ())
    return None if problem is None else _said(problem)


# -- events -------------------------------------------------------------------------------

count = integer(0, MAX_RW)
small = integer(-(2**31), 2**31 - 1)
end = one_of(0, 1)
COMMON: dict[str, Check] = {
    "t": integer(),
    "seq": integer(),
    "pid": integer(),
    "kind": string,
    "obj": string,
    "data": base64,
    "since": integer(),
}
PROC = record(
    {"proc": string, "pid": integer(), "read": optional(number), "wrote": number},
    required=("proc", "read", "wrote"),
)
LINK = record(
    {
        "proc": string,
        "pid": integer(),
        "waits_for": string,
        "held_by": string,
        "held_by_pid": optional(integer()),
    },
    required=("proc", "waits_for", "held_by"),
)
_OP = {"n": count, "size": count, "prio": integer(), "mtype": integer(), "want": integer()}
#: Per kind: field checks, and the fields the reducer or the narrator cannot do without.
KINDS: dict[str, tuple[dict[str, Check], tuple[str, ...]]] = {
    "obj.declare": (
        {
            "type": string,
            "kernel_name": string,
            "capacity": count,
            "path": string,
            "cells": integer(0, MAX_RW),
            "size": integer(0, MAX_RW),
            "cell_size": integer(1, 1 << 20),
            "value": integer(),
            "max_messages": integer(),
            "max_message_size": integer(),
            "max_bytes": integer(),
            "discovered": flag,
            "readers": strings,
            "writers": strings,
        },
        ("obj", "type"),
    ),
    "obj.remove": ({}, ("obj",)),
    "proc.start": ({"name": string, "color": integer(), "command": strings}, ("name",)),
    "proc.exit": ({"code": optional(integer()), "signal": integer(), "signame": string}, ()),
    "proc.error": ({"text": string}, ()),
    "narrate": ({"step": string, "step_index": integer()}, ()),
    "report": ({"key": string}, ("key",)),
    "check": (
        {"description": string, "ok": flag, "detail": optional(string)},
        ("description", "ok"),
    ),
    "control": (
        {
            "action": string,
            "target": integer(),
            "on": flag,
            "ok": flag,
            "reason": string,
            "seed": optional(integer()),
            "schedule": optional(string),
        },
        (),
    ),
    "error": ({"message": string}, ()),
    "recording.stopped": ({"message": string}, ()),
    "tracer.stall": ({"count": integer(0, I64[1])}, ()),
    "session.end": (
        {
            "outcome": optional(string),
            "exit_code": optional(integer()),
            "reason": optional(string),
            "events": integer(),
        },
        (),
    ),
    "pipe.write.begin": (_OP, ()),
    "pipe.write": (_OP, ("obj", "n")),
    "pipe.read.begin": ({"max": count}, ()),
    "pipe.read": ({"n": count, "max": count}, ("obj", "n")),
    "pipe.open.begin": ({"end": end}, ()),
    "pipe.open": ({"end": end, "fd": integer()}, ()),
    "pipe.close": ({"end": end}, ()),
    "pipe.epipe": ({"n": count}, ()),
    "shm.read": ({"offset": integer(0, I64[1]), "value": integer(*U64)}, ()),
    "shm.write": ({"offset": integer(0, I64[1]), "value": integer(*U64)}, ("obj", "offset")),
    "sem.wait.begin": ({"n": small}, ()),
    "sem.wait": ({"n": small}, ("obj",)),
    "sem.post": ({"n": small}, ("obj",)),
    "sem.trywait": ({"n": small, "ok": flag}, ("obj",)),
    "mq.send.begin": (_OP, ()),
    "mq.send": (_OP, ("obj",)),
    "mq.recv.begin": (_OP, ()),
    "mq.recv": (_OP, ("obj",)),
    "mq.poll": ({"ready": flag}, ()),
    "gate.wait": ({"op": string}, ()),
    "gate.step": ({"op": string, "by": string}, ()),
    "drift": ({"field": string, "resolved": flag}, ("obj",)),
    "deadlock": ({"cycle": list_of(LINK)}, ()),
    "deadlock.recover": ({"n": small, "victim": integer()}, ("obj",)),
    "sem.undo": ({"n": small}, ("obj",)),
    "holder.died": (
        {
            "holder": integer(),
            "proc": string,
            "n": small,
            "value": small,
            "waiters": list_of(record({"pid": integer(), "proc": string})),
        },
        ("obj", "holder"),
    ),
    "race.lost_update": (
        {"offset": integer(0, I64[1]), "lost": PROC, "by": PROC, "missing": number},
        ("obj", "offset", "lost", "by"),
    ),
    "probe.proc": (
        {
            "state": string,
            "cpu_percent": number,
            "cpu_num": integer(),
            "rss": integer(),
            "wchan": string,
            "syscall": optional(string),
            "blocked_on": optional(string),
        },
        (),
    ),
    "probe.pipe": ({"nbytes": integer(), "capacity": integer()}, ()),
    "probe.posix_mq": (
        {"current_messages": integer(), "max_messages": integer(), "max_message_size": integer()},
        (),
    ),
    "probe.sysv_mq": (
        {
            **{k: integer() for k in ("qnum", "cbytes", "qbytes", "lspid", "lrpid")},
            **{k: number for k in ("stime", "rtime")},
            "messages": list_of(
                list_of(lambda v: number(v) if not isinstance(v, str) else base64(v))
            ),
        },
        (),
    ),
    "probe.sem": ({k: integer() for k in ("value", "waiters", "zcnt", "last_pid")}, ()),
    "probe.shm": (
        {
            "size": integer(),
            "addresses": dict_of(lambda v: None if isinstance(v, str) else number(v)),
        },
        (),
    ),
}
#: Operations whose object the reducer looks up and must be of one of these types.
REFERS: dict[str, tuple[str, ...]] = registry.refers()


_BASE = ("t", "seq", "pid", "kind")
#: Per kind: every field check (common and own) in one dict, and every required field.
_BY_KIND: dict[str, tuple[dict[str, Check], tuple[str, ...]]] = {
    kind: ({**COMMON, **fields}, _BASE + required) for kind, (fields, required) in KINDS.items()
}
_UNKNOWN = (COMMON, _BASE)


class Validator:
    """Checks events in stream order; remembers declared objects to check references."""

    def __init__(self, references: bool = True) -> None:
        self.references = references  # False: from the middle of a trace, types only
        self.declared: dict[str, str] = {}  # object name → its type

    def check(self, event: Any) -> str | None:
        """What is wrong with ``event``, or None; an ``obj.declare`` is remembered."""
        if not isinstance(event, dict):
            return "is not a JSON object"
        kind = event.get("kind")
        checks, required = _BY_KIND.get(kind, _UNKNOWN) if isinstance(kind, str) else _UNKNOWN
        for name in required:
            if name not in event:
                return f"has no {name!r}"
        # the event's own fields (a handful) against the kind's checks: one pass, hot path
        for name, value in event.items():
            check = checks.get(name)
            if check is not None:
                problem = check(value)
                if problem:
                    return _said(_nest(f".{name}", problem))
        if kind == "obj.declare":
            mech = registry.get(event["type"]) if isinstance(event["type"], str) else None
            missing = [f for f in mech.required if f not in event] if mech else []
            if missing:
                return f"declares a {mech.type} without {' and '.join(map(repr, missing))}"
            self.declared[event["obj"]] = event["type"]
            return None
        types = REFERS.get(kind) if self.references else None
        if types is not None:
            declared = self.declared.get(event["obj"])
            if declared is None:
                return f"names {event['obj']!r}, an object never declared"
            if declared not in types:
                return f"acts on {event['obj']!r}, a {declared}, not a {' or '.join(types)}"
        return None
