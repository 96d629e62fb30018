"""Checks a trace's header and events against the schema as the trace is read.

A trace is untrusted input: a well-formed JSON line can still carry ``"n": "x"``, an
undecodable payload or ``"t": 1e400``. Every reader of traces (the headless narrator, the
TUI replay, the exporters, the replay index) goes through :class:`~ipcviz.events.trace.
TraceReader`, which runs :class:`Validator` on each event before handing it on, so the
reducer and the views never see a wrong type: a bad field is one ``TraceError`` naming the
line and the field (exit 2), never a ``KeyError`` or ``TypeError`` deep in a view.

The kinds and their fields are defined once: the engine's in ``events/schema.py``, each
mechanism's in its package (``registry.kinds()``). Only fields that ipcviz reads are
checked; unknown kinds and unknown fields pass (the version policy in docs/trace-format.md:
readers ignore what they do not know). Numbers are bounded to 64 bits, so arithmetic on them
cannot overflow a float.
"""

from __future__ import annotations

from typing import Any

from ipcviz.events.fields import (
    MAX_RW,
    Check,
    Kind,
    check_fields,
    flag,
    list_of,
    nest,
    optional,
    record,
    said,
    string,
    strings,
)
from ipcviz.events.schema import BASE, COMMON, ENGINE_KINDS
from ipcviz.i18n import _
from ipcviz.mechanisms import registry

__all__ = ["KINDS", "MAX_RW", "Validator", "check_header"]


# -- the header ---------------------------------------------------------------------------

STEP = record(
    {"id": string, "en": string, "ko": optional(string), "teaches": strings}, required=("id",)
)
SCENARIO = record(
    {
        "id": string,
        "title": string,
        "title_ko": string,
        "description": string,
        "description_ko": string,
        "teaches": strings,
        "steps": list_of(STEP),
        "processes": strings,
        "checks": strings,
        "checks_ko": strings,
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
    #: ``ipcviz run -- PROG``: the program's words; ``ran``: what the user typed, a C file
    #: (``ipcviz runs`` shows them, through the byte formatter)
    "program": strings,
    "ran": strings,
}


def check_header(header: dict[str, Any]) -> str | None:
    """What is wrong with a header (already known to be an ipcviz header), or None."""
    problem = check_fields(header, HEADER, ())
    return None if problem is None else said(problem)


# -- events -------------------------------------------------------------------------------

#: Every kind ipcviz knows, with its fields: the engine's and every mechanism's.
KINDS: dict[str, Kind] = {**ENGINE_KINDS, **registry.kinds()}

#: Operations whose object the reducer looks up and must be of one of these types.
REFERS: dict[str, tuple[str, ...]] = registry.refers()


#: Per kind: every field check (common and own) in one dict, every required field, and
#: the check of its fields together (``Kind.whole``) or None.
_BY_KIND: dict[str, tuple[dict[str, Check], tuple[str, ...], Any]] = {
    kind: ({**COMMON, **spec.fields}, BASE + spec.required, spec.whole)
    for kind, spec in KINDS.items()
}
_UNKNOWN: tuple[dict[str, Check], tuple[str, ...], Any] = (COMMON, BASE, None)


class Validator:
    """Checks events in stream order; remembers declared objects to check references."""

    def __init__(self, references: bool = True) -> None:
        self.references = references  # False: from the middle of a trace, types only
        self.declared: dict[str, str] = {}  # object name → its type

    def check(self, event: Any) -> str | None:
        """What is wrong with ``event``, or None; an ``obj.declare`` is remembered."""
        if not isinstance(event, dict):
            return _("is not a JSON object")
        kind = event.get("kind")
        checks, required, whole = (
            _BY_KIND.get(kind, _UNKNOWN) if isinstance(kind, str) else _UNKNOWN
        )
        for name in required:
            if name not in event:
                return _("has no {name!r}").format(name=name)
        # the event's own fields (a handful) against the kind's checks: one pass, hot path
        for name, value in event.items():
            check = checks.get(name)
            if check is not None:
                problem = check(value)
                if problem:
                    return said(nest(f".{name}", problem))
        if whole is not None:
            problem = whole(event)
            if problem:
                return problem
        if kind == "obj.declare":
            mech = registry.get(event["type"]) if isinstance(event["type"], str) else None
            missing = [f for f in mech.required if f not in event] if mech else []
            if missing:
                return _("declares a {type} without {fields}").format(
                    type=mech.type, fields=" and ".join(map(repr, missing))
                )
            self.declared[event["obj"]] = event["type"]
            return None
        types = REFERS.get(kind) if self.references else None
        if types is not None:
            declared = self.declared.get(event["obj"])
            if declared is None:
                return _("names {obj!r}, an object never declared").format(obj=event["obj"])
            if declared not in types:
                return _("acts on {obj!r}, a {type}, not a {types}").format(
                    obj=event["obj"], type=declared, types=" or ".join(types)
                )
        return None
