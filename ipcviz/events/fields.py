"""The types an event's fields may have: small checks the trace reader runs on every event.

Each event kind is described once, by a :class:`Kind` (its fields' checks and the fields it
cannot do without): the engine's own kinds in ``events/schema.py``, each mechanism's kinds
in its package (``Family.kinds``, ``Mechanism.probe_fields``). ``events/validate.py`` puts
them together. A check returns None when the value is acceptable, else what is wrong with it,
so a hostile trace gets one line naming the field, never a crash deep in a view.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ipcviz.i18n import N_, _

#: A check returns None when the value is acceptable, else what is wrong with it.
Check = Callable[[Any], str | None]

I64 = (-(2**63), 2**63 - 1)
U64 = (-(2**63), 2**64 - 1)  # shared-memory cells are 64-bit, read signed or unsigned
#: Largest byte count of one read/write (Linux MAX_RW_COUNT): bounds ``n`` and ``size``.
MAX_RW = 0x7FFFF000


def integer(lo: int = I64[0], hi: int = I64[1]) -> Check:
    """A JSON integer in ``lo..hi``. ``true`` is not one (Python's bool is an int): it
    passed for 1 as a size, a type or a limit (``"max_bytes": true`` was drawn as
    "4/True B"). A field that holds a flag is checked by ``flag``."""

    def check(v: Any) -> str | None:
        if type(v) is int and lo <= v <= hi:  # the hot path: one test
            return None
        if not isinstance(v, int) or isinstance(v, bool):
            return _("must be an integer, not {type}").format(type=_type(v))
        return _("is out of range ({lo}..{hi})").format(lo=lo, hi=hi)

    return check


def number(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return _("must be a number, not {type}").format(type=_type(v))
    if isinstance(v, float) and not abs(v) < 1e300:
        return _("must be a finite number")
    if isinstance(v, int) and not I64[0] <= v <= U64[1]:
        return _("is out of range")
    return None


def string(v: Any) -> str | None:
    return None if isinstance(v, str) else _("must be a string, not {type}").format(type=_type(v))


def flag(v: Any) -> str | None:
    """true/false, or 1/0 as the tracer writes one (``"joined": 1``); any other number
    (``"except": -9223372036854775808``) is no flag ipcviz wrote."""
    if v is True or v is False or (type(v) is int and 0 <= v <= 1):
        return None
    if isinstance(v, int):
        return _("must be true/false or 1/0, not {value}").format(value=v)
    return _("must be true/false, not {type}").format(type=_type(v))


def anything(v: Any) -> str | None:
    return None


def base64(v: Any) -> str | None:
    """A payload: a string that decodes as base64 (codec.payload decodes it later)."""
    if not isinstance(v, str):
        return _("must be a base64 string, not {type}").format(type=_type(v))
    try:
        binascii.a2b_base64(v)
    except (binascii.Error, ValueError):
        return _("is not valid base64")
    return None


def optional(check: Check) -> Check:
    """``check``, or JSON null."""
    return lambda v: None if v is None else check(v)


def one_of(*allowed: Any) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or v not in allowed:
            return _("must be one of {values}").format(values=", ".join(map(repr, allowed)))
        return None

    return check


def list_of(item: Check) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, list):
            return _("must be a list, not {type}").format(type=_type(v))
        for i, x in enumerate(v):
            problem = item(x)
            if problem:
                return nest(f"[{i}]", problem)
        return None

    return check


def record(fields: Mapping[str, Check], required: tuple[str, ...] = ()) -> Check:
    """A JSON object whose listed ``fields`` have these types (others pass)."""

    def check(v: Any) -> str | None:
        if not isinstance(v, dict):
            return _("must be an object, not {type}").format(type=_type(v))
        return check_fields(v, fields, required)

    return check


def dict_of(value: Check) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, dict):
            return _("must be an object, not {type}").format(type=_type(v))
        for k, x in v.items():
            problem = value(x)
            if problem:
                return nest(f"[{k!r}]", problem)
        return None

    return check


def _type(v: Any) -> str:
    named = _TYPES.get(type(v))
    return _(named) if named else "null" if v is None else type(v).__name__


#: a JSON value's type, as a problem names it
_TYPES = {dict: N_("an object"), list: N_("a list"), str: N_("a string"), bool: N_("a boolean")}


def check_fields(
    v: dict[str, Any], fields: Mapping[str, Check], required: tuple[str, ...]
) -> str | None:
    for name in required:
        if name not in v:
            return _("has no {name!r}").format(name=name)
    for name, check in fields.items():
        if name in v:
            problem = check(v[name])
            if problem:
                return nest(f".{name}", problem)
    return None


def nest(step: str, problem: str) -> str:
    """``.steps`` + ``[0] has no 'id'`` → ``.steps[0] has no 'id'`` (a path, then what)."""
    return step + problem if problem[:1] in (".", "[") else f"{step} {problem}"


def said(problem: str) -> str:
    """``.scenario.steps[0] has no 'id'`` → ``'scenario.steps[0]' has no 'id'``."""
    if problem[:1] != ".":
        return problem
    path, _, what = problem.partition(" ")
    return f"{path[1:]!r} {what}"


count = integer(0, MAX_RW)  # a byte count
small = integer(-(2**31), 2**31 - 1)  # a semaphore's value or step
strings = list_of(string)


def payload_within(count: str) -> Callable[[Mapping[str, Any]], str | None]:
    """An event's ``data`` holds at most its ``count`` field's bytes (``n``, ``size``): a
    record keeps the first bytes of a call, never more than the call moved. More (``"n":
    1`` with two bytes) is a trace no tracer wrote: the model held a message longer than
    its size, and verify let a receive of 2 bytes take a send of 1."""

    def check(event: Mapping[str, Any]) -> str | None:
        data, n = event.get("data"), event.get(count)
        if type(data) is not str or type(n) is not int:
            return None
        # 4 base64 characters make 3 bytes, and padding none: at most this many bytes
        # (exactly this many for base64 as ipcviz writes it), decoded only past ``n``
        if (len(data) - data.count("=", -2)) * 3 // 4 <= n:
            return None
        size = len(binascii.a2b_base64(data))
        if size > n:
            return _("'data' holds {size} B, more than its '{count}' ({n})").format(
                size=size, count=count, n=n
            )
        return None

    return check


@dataclass(frozen=True)
class Kind:
    """One event kind: checks of the fields ipcviz reads (others pass: readers ignore what
    they do not know) and the fields the reducer or the narrator cannot do without.
    ``whole``: a check of the event as a whole, once its fields passed theirs (fields that
    must agree with each other)."""

    fields: Mapping[str, Check] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    whole: Callable[[Mapping[str, Any]], str | None] | None = None
