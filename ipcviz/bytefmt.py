"""The one way ipcviz shows bytes from processes: inert, lossless, one cell per byte shown.

Payloads are untrusted. Printable ASCII is shown as is; every other byte (controls, ESC,
C1 such as 0x9b, anything >= 0x7f, invalid UTF-8) becomes ``\\xNN`` or a short escape. The
result is a plain ``str`` with no markup meaning: views pass it to widgets as ``Text``.
"""

from __future__ import annotations

import shlex
from typing import Any

from ipcviz.i18n import N_, translate

_SHORT = {0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r", 0x00: "\\0", 0x5C: "\\\\"}
#: A byte the trace did not record (past strace's 65536-byte cut of a call): the model
#: holds a zero for it, drawn as this, never as a byte (no byte's cell or escape is it)
UNRECORDED = "░"
#: Escaped form of every byte value, computed once.
_TABLE: tuple[str, ...] = tuple(
    _SHORT.get(b, chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}") for b in range(256)
)


def escape(
    data: bytes, limit: int | None = None, whole: int | None = None, known: int | None = None
) -> str:
    """``data`` as printable text; at most ``limit`` bytes are shown, then a count of the rest.

    ``whole``: how many bytes ``data`` is the start of (a probe copies only its first
    ``DATA_CAP``), so the count is of every byte not shown, not only of the copy's.
    ``known``: only its first ``known`` bytes were recorded; the rest are ``UNRECORDED``."""
    shown = data if limit is None else data[:limit]
    if known is None or known >= len(shown):  # the usual case: every byte recorded
        text = "".join(_TABLE[b] for b in shown)
    else:
        known = max(0, known)
        text = "".join(_TABLE[b] for b in shown[:known]) + UNRECORDED * (len(shown) - known)
    total = whole if whole is not None and whole > len(data) else len(data)
    if total > len(shown):
        text += f"…(+{total - len(shown)} B)"
    return text


def quoted(
    data: bytes, limit: int | None = 48, whole: int | None = None, known: int | None = None
) -> str:
    """``data`` escaped inside double quotes, for log lines (``whole``, ``known``: as in
    ``escape``)."""
    return '"' + escape(data, limit, whole, known).replace('"', '\\"') + '"'


def byte_cells(data: bytes, known: int | None = None) -> list[str]:
    """One short printable label per byte, for strip and grid widgets (``known``: as in
    ``escape``, the bytes past it are ``UNRECORDED``)."""
    if known is None or known >= len(data):  # the usual case: every byte recorded
        return [_TABLE[b] if len(_TABLE[b]) == 1 else "·" for b in data]
    known = max(0, known)
    cells = [_TABLE[b] if len(_TABLE[b]) == 1 else "·" for b in data[:known]]
    return cells + [UNRECORDED] * (len(data) - known)


def safe_text(text: str, limit: int | None = None) -> str:
    """Untrusted *text* (narration, tracebacks, titles from a trace file) made inert.

    Printable Unicode (Korean narration included) stays; controls, C1, bidi and other
    format characters are escaped, so nothing can move the cursor or reorder the line.
    """
    shown = text if limit is None else text[:limit]
    if shown.isprintable():  # the usual case, in C: every character would stay as it is
        out = shown
    else:
        out = "".join(ch if ch.isprintable() else _escape_char(ch) for ch in shown)
    if limit is not None and len(text) > limit:
        out += f"…(+{len(text) - limit})"
    return out


def _escape_char(ch: str) -> str:
    """A character that is not printable, escaped: a byte's own escape, or the byte that a
    surrogate from ``surrogateescape`` stands for (a name's byte that is not UTF-8 shows as
    ``\\xff``, as in a payload, not as ``\\udcff``), else ``\\uXXXX``."""
    code = ord(ch)
    if code < 256:
        return _TABLE[code]
    if 0xDC80 <= code <= 0xDCFF:
        return _TABLE[code - 0xDC00]
    return f"\\u{code:04x}"


def shell_word(text: str) -> str:
    """``text`` as one word a user can paste into bash: ``shlex.quote`` when every character
    is printable, else bash's ``$'…'`` with escapes, so the word is inert on screen (no
    control character reaches the terminal) and still names the same thing when pasted.
    A character that is not printable is written as its bytes (UTF-8, or the byte a
    surrogate stands for): ``\\xa0`` alone would be one byte, not U+00A0's two, and bash's
    ``\\U…`` depends on the locale."""
    if text.isprintable():
        return shlex.quote(text)
    out = []
    for ch in text:
        if ch in "\\'":
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            out.extend(f"\\x{b:02x}" for b in _bytes_of(ch))
    return "$'" + "".join(out) + "'"


def _bytes_of(ch: str) -> bytes:
    """The bytes a character of a name stands for (a lone surrogate from a hand-made trace,
    not one ``os.fsdecode`` makes: its UTF-16 code, encoded as is)."""
    try:
        return ch.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return ch.encode("utf-8", "surrogatepass")


def shell_words(argv: list[str] | tuple[str, ...]) -> str:
    """A command line shown so its argument boundaries survive (``a 'b c'``), inert."""
    return " ".join(shell_word(str(a)) for a in argv)


#: Words for values that Python would print as True, False, None or []: in the catalog,
#: looked up in the language asked for (``readable``).
_YES, _NO, _NONE = N_("yes"), N_("no"), N_("none")
#: A text inside a list or a mapping is quoted when it holds one of these (or is empty or
#: starts or ends with a space): "b1, b2" stays plain, "URGENT: disk full" does not.
_SEPARATORS = (",", ":", '"', "(", ")")


def readable(value: Any, lang: str = "en", limit: int | None = 200) -> str:
    """A check's or a report's value as a person reads it, inert (``safe_text``): yes/no
    (예/아니오), a list as ``a, b, c``, a mapping as ``key: value, …``, a nested one in
    parentheses, a number as it is, bytes quoted and escaped (``quoted``). Python's own
    print (``True``, ``['b1', 'b2']``, ``{'count': 3}``) is for programmers, not students."""
    return safe_text(_readable(value, lang, nested=False), limit)


def _readable(value: Any, lang: str, nested: bool) -> str:
    if value is True or value is False:
        return translate(_YES if value else _NO, lang)
    if value is None:
        return translate(_NONE, lang)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return quoted(bytes(value), limit=None)
    if isinstance(value, str):
        plain = value.isprintable() and value == value.strip() and value != ""
        plain = plain and not any(s in value for s in _SEPARATORS)
        return value if plain or not nested else quoted(value.encode(errors="surrogateescape"))
    if isinstance(value, dict):
        items = [
            f"{_readable(k, lang, True)}: {_readable(v, lang, True)}" for k, v in value.items()
        ]
    elif isinstance(value, list | tuple | set | frozenset):
        if isinstance(value, set | frozenset):  # no order of its own: one to read by
            try:
                value = sorted(value)
            except TypeError:  # mixed types: by their words
                value = sorted(value, key=lambda v: _readable(v, lang, True))
        items = [_readable(v, lang, True) for v in value]
    else:
        return str(value)
    if not items:
        return translate(_NONE, lang)
    joined = ", ".join(items)
    # inside another, in parentheses; one value alone needs none (``cpus: 0``)
    return f"({joined})" if nested and len(items) > 1 else joined
