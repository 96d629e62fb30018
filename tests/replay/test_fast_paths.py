"""The reader's fast paths give the verdicts and the words of the plain ones, on odd input.

Each fast path (a shape of event checked by one compiled function, ``events/validate.py``;
a sentence worded without a dict of worded values, ``i18n.Lazy.render``; a log line in one
%-format, ``Entry.lines``) is compared with the plain code it stands for on odd input:
events with every field in turn given an odd value, taken away, or joined by another, in
one stream (the references it declares count); values, times and names of every kind.
"""

from __future__ import annotations

import random
from typing import Any

from ipcviz import i18n
from ipcviz.events import validate
from ipcviz.events.validate import Validator
from ipcviz.i18n import Lazy, lazy
from ipcviz.narrate.headless import Entry, safe
from ipcviz.narrate.said import Verbatim

#: Events of the kinds a replay meets most, as a recording holds them.
REAL: list[dict[str, Any]] = [
    {"t": 1, "seq": 0, "pid": 0, "kind": "obj.declare", "obj": "lock", "type": "posix_sem",
     "kernel_name": "/x.lock", "value": 1},
    {"t": 2, "seq": 1, "pid": 0, "kind": "obj.declare", "obj": "counter", "type": "posix_shm",
     "kernel_name": "/x.counter", "size": 8, "cells": 1, "cell_size": 8},
    {"t": 3, "seq": 2, "pid": 0, "kind": "obj.declare", "obj": "p", "type": "pipe",
     "kernel_name": "p", "capacity": 65536},
    {"t": 4, "seq": 3, "pid": 7, "kind": "proc.start", "name": "p1", "color": 0},
    {"t": 5, "seq": 4, "pid": 7, "kind": "sem.wait", "obj": "lock", "since": 4},
    {"t": 6, "seq": 5, "pid": 7, "kind": "shm.read", "obj": "counter", "offset": 0, "value": 3,
     "data": "AwAAAAAAAAA="},
    {"t": 7, "seq": 6, "pid": 7, "kind": "shm.write", "obj": "counter", "offset": 0,
     "value": 4, "data": "BAAAAAAAAAA="},
    {"t": 8, "seq": 7, "pid": 7, "kind": "sem.post", "obj": "lock"},
    {"t": 9, "seq": 8, "pid": 7, "kind": "sem.trywait", "obj": "lock", "ok": True},
    {"t": 10, "seq": 9, "pid": 7, "kind": "pipe.write", "obj": "p", "n": 2, "size": 2,
     "data": "aGk="},
    {"t": 11, "seq": 10, "pid": 7, "kind": "narrate", "step": "s", "step_index": 0},
    {"t": 12, "seq": 11, "pid": 7, "kind": "no.such.kind", "x": [1]},
    {"t": 13, "seq": 12, "pid": 7, "kind": "sem.wait", "obj": "counter"},
    {"t": 14, "seq": 13, "pid": 7, "kind": "sem.wait", "obj": "nothing"},
    {"t": 15, "seq": 14, "pid": 7, "kind": "proc.exit", "code": None},
]  # fmt: skip

ODD: list[Any] = [
    True, False, None, 0, -1, 1, 2**31, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64,
    1.5, -0.0, 1e300, float("inf"), float("nan"), "", "x", "AAA=", "A", "not base64!",
    "lock", "counter", [], [1], ["a"], {}, {"a": 1},
]  # fmt: skip


def _variants(rng: random.Random) -> list[Any]:
    """Every real event as it is, then each with one field made odd, gone, or added, in
    two orders; and some that are no object at all."""
    out: list[Any] = []
    for event in REAL:
        out.append(dict(event))
        for name in event:
            for odd in ODD:
                out.append({**event, name: odd})
            out.append({k: v for k, v in event.items() if k != name})
        out.append({**event, "extra": rng.choice(ODD)})
        out.append(dict(reversed(list(event.items()))))
    out += [[], "x", 1, None, {"kind": 1}, {"kind": None, "t": 1, "seq": 1, "pid": 1}]
    return out


def test_compiled_shapes_say_what_the_plain_check_says() -> None:
    rng = random.Random(14)
    events = _variants(rng)
    rng.shuffle(events)
    events = [dict(e) for e in REAL[:3]] + events  # objects declared first, then anything
    fast, plain = Validator(), Validator()
    for event in events:
        assert fast.check(event) == plain.plain_check(event), event
        assert fast.declared == plain.declared
    shape = ("shm.write", tuple(REAL[6]))
    assert validate._SHAPES.get(shape) is not None  # the fast path was taken


def test_a_flood_of_new_shapes_stays_bounded(monkeypatch: Any) -> None:
    """A hostile trace of ever new fields: the shapes kept stop at ``MAX_SHAPES``, later
    ones get the plain check, and a megabyte of names is never kept."""
    monkeypatch.setattr(validate, "_SHAPES", {})
    monkeypatch.setattr(validate, "MAX_SHAPES", 8)
    v = Validator()
    for i in range(50):
        e = {"t": 1, "seq": i, "pid": 1, "kind": "proc.output", f"f{i}": "x"}
        assert v.check(e) is None
        assert v.check({**e, "t": "late"}) == "'t' must be an integer, not a string"
    assert len(validate._SHAPES) == 8
    monkeypatch.setattr(validate, "_SHAPES", {})
    assert v.check({"t": 1, "seq": 1, "pid": 1, "kind": "x", "y" * 2_000_000: 1}) is None
    assert validate._SHAPES == {}


def _render_plain(said: Lazy, lang: str) -> str:
    """``Lazy.render`` as it was before its fast path: every value worded first."""
    template = said.message if lang == "en" else i18n.translate(said.message, lang)
    values = {}
    for k, v in said.params.items():
        if type(v) is str:
            if "\n" in v or "\r" in v:
                v = v.replace("\r", "\\r").replace("\n", "\\n")
        elif isinstance(v, Lazy):
            v = v.render(lang)
        values[k] = v
    return template.format_map(values)


class _Str(str):
    """A string of another type: passed as it is by both paths."""


ODD_VALUES: list[Any] = [
    0, -1, 2**63, None, True, 1.5, "", "lock", "a\nb", "a\rb", "\r\n", "탄", "\x1b[31m",
    _Str("x\ny"), lazy("took {obj} (value now {value})", obj="a\nb", value=1),
    Verbatim("v\nw"), [1], {"a": 1},
]  # fmt: skip


def test_a_sentence_is_worded_as_it_was_value_by_value() -> None:
    for lang in ("en", "ko"):
        for a in ODD_VALUES:
            for b in ODD_VALUES:
                said = lazy("took {obj} (value now {value})", obj=a, value=b)
                assert said.render(lang) == _render_plain(said, lang), (a, b)


def test_a_log_line_is_the_one_the_f_string_made() -> None:
    """``Entry.lines``' one %-format against the f-string it replaced, on odd times,
    names and words."""
    times = [0, 1, -1, 50_000, 150_000, 999_950_000, 282_634_703, 2**53 + 1, 2**63 - 1, -(2**63)]
    whos = ["·", "p1[7]", "a-very-long-name[123456]", "탄탄[1]", ""]
    texts = ["took lock (value now 0)", "탄 \x1b[2J", "", "%s %d {x}", "a\tb"]
    for t in times:
        for who in whos:
            for text in texts:
                entry = Entry(t, 1, None, "x", who, Verbatim(text))
                want = f"{t / 1e9:9.4f}s  {who:<12} {safe(text, None)}"
                assert entry.lines() == [want]


def test_a_blank_line_is_what_strip_called_blank() -> None:
    """The reader skips a line by ``isspace`` (no copy of the line) where it used ``strip``."""
    for b in range(256):
        for line in (bytes([b]) + b"\n", bytes([b]), b" " + bytes([b, b]) + b"\r\n"):
            assert line.isspace() == (not line.strip()), line
