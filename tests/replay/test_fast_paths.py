"""The reader's fast paths give the words of the plain ones, on odd input.

Each fast path (a sentence worded without a dict of worded values, ``i18n.Lazy.render``; a
log line in one %-format, ``Entry.lines``) is compared with the plain code it stands for on
values, times and names of every kind.
"""

from __future__ import annotations

from typing import Any

from ipcviz import i18n
from ipcviz.i18n import Lazy, lazy
from ipcviz.narrate.headless import Entry, safe
from ipcviz.narrate.said import Verbatim


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
