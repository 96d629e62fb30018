"""The one translation layer: every sentence ipcviz says goes through here.

English is written in the code (it is the msgid); other languages come from standard gettext
catalogs, ``ipcviz/locale/<lang>/LC_MESSAGES/ipcviz.po``, extracted and compiled with Babel
(``docs/translating.md``). Only the standard library's :mod:`gettext` runs at run time.

Three ways to say something:

- ``_("text")`` translates now, into the language now chosen (CLI messages, labels drawn
  at each refresh).
- ``N_("text")`` only marks a constant for extraction; translate it where it is shown.
- ``lazy("took {sem} (value now {value})", sem=..., value=...)`` keeps the sentence and
  its values apart until it is shown. An event's words are fixed when the event happens
  (the values of that moment), but the language is chosen when they are drawn, so ``l``
  re-words the whole log, and a trace (which carries data, never sentences) replays in
  either language.

The language is one process-wide setting (:func:`set_lang`): a screen shows one language.
"""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: The languages with a catalog, English first (the language of the code).
LANGS: tuple[str, ...] = ("en", "ko")
DOMAIN = "ipcviz"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_lang = "en"
_catalogs: dict[str, _gettext.NullTranslations] = {}


def _catalog(lang: str) -> _gettext.NullTranslations:
    catalog = _catalogs.get(lang)
    if catalog is None:
        if lang == "en":
            catalog = _gettext.NullTranslations()
        else:
            catalog = _gettext.translation(
                DOMAIN, localedir=LOCALE_DIR, languages=[lang], fallback=True
            )
        _catalogs[lang] = catalog
    return catalog


def set_lang(lang: str) -> None:
    """Choose the language of everything said from now on."""
    global _lang
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} (known: {', '.join(LANGS)})")
    _lang = lang


def get_lang() -> str:
    return _lang


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Say everything in ``lang`` for a while, then go back: what the engine words for its
    trace (an error that ends a run before it starts) is English whatever the run's
    language, since a trace carries no language (the narrator words a known phrase)."""
    global _lang
    before = _lang
    set_lang(lang)
    try:
        yield
    finally:
        _lang = before


def other_lang(lang: str | None = None) -> str:
    """The language ``l`` switches to."""
    langs = LANGS
    return langs[(langs.index(lang or _lang) + 1) % len(langs)]


def lang_from_env(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """The language the locale asks for (LC_ALL, LC_MESSAGES, LANG, as gettext reads them),
    or English."""
    env = os.environ if environ is None else environ
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            for part in value.split(":"):
                code = part.split("_", 1)[0].split(".", 1)[0].lower()
                if code in LANGS:
                    return code
            return "en"
    return "en"


def _(message: str) -> str:
    """``message`` in the language now chosen."""
    if _lang == "en":
        return message
    return _catalog(_lang).gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` (``"{n} byte"``/``"{n} bytes"``), in the language now chosen."""
    return _catalog(_lang).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` where the same English word needs different translations (a key label
    vs a sentence): ``context`` tells them apart."""
    if _lang == "en":
        return message
    return _catalog(_lang).pgettext(context, message)


def translate(message: str, lang: str) -> str:
    """``message`` in ``lang``, whatever language is chosen now (handouts in both)."""
    return message if lang == "en" else _catalog(lang).gettext(message)


class Lazy:
    """A sentence and its values, worded when shown (``str()``), in the language of then.

    Values are the event's, fixed when it happened. A value that is itself a :class:`Lazy`
    (a phrase inside a sentence) is worded in the same language. Untrusted bytes must
    already be inert text (``ipcviz.bytefmt``) before they become a value.
    """

    __slots__ = ("message", "params", "plural")

    def __init__(
        self, message: str, plural: tuple[str, int] | None = None, /, **params: Any
    ) -> None:
        self.message = message
        self.plural = plural
        self.params = params

    def render(self, lang: str | None = None) -> str:
        lang = lang or _lang
        if self.plural is None:
            message = self.message
            template = message if lang == "en" else _catalog(lang).gettext(message)
        else:
            template = _catalog(lang).ngettext(self.message, self.plural[0], self.plural[1])
        params = self.params
        if not params:
            return template
        for v in params.values():  # the usual sentence: no value to word first
            if type(v) is str:
                if "\n" in v or "\r" in v:
                    break
            elif isinstance(v, Lazy):
                break
        else:
            return template.format_map(params)
        # each value worded for its sentence: a phrase in the same language; a plain string
        # on the sentence's line (a name a program chose may hold a line break: shown
        # escaped, it cannot pass for a line of its own; text of many lines is a
        # ``Verbatim`` phrase). Inline, not a call per value: every told event passes here.
        values = {}
        for k, v in params.items():
            if type(v) is str:
                if "\n" in v or "\r" in v:
                    v = v.replace("\r", "\\r").replace("\n", "\\n")
            elif isinstance(v, Lazy):
                v = v.render(lang)
            values[k] = v
        return template.format_map(values)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Lazy({self.message!r}, {self.params!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Lazy):
            return (self.message, self.plural, self.params) == (
                other.message,
                other.plural,
                other.params,
            )
        if isinstance(other, str):
            return self.render() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable values inside


#: ``lazy("took {sem}", sem=...)``: ``message`` with ``{name}`` placeholders, worded when
#: shown. The class itself, not a function that makes one: every told event makes one,
#: and a call in between was a tenth of the wording's cost.
lazy = Lazy


def lazy_n(singular: str, plural: str, n: int, /, **params: Any) -> Lazy:
    """Like :func:`lazy`, with the form for ``n`` (``n`` is also a value: ``{n}``)."""
    return Lazy(singular, (plural, n), n=n, **params)


#: The functions that mark text for extraction, as Babel's ``-k`` options spell them.
KEYWORDS: dict[str, tuple[Any, ...] | None] = {
    "_": None,
    "N_": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "translate": None,
    "lazy": None,
    "lazy_n": (1, 2),
}


def text(value: str | Lazy) -> str:
    """``value`` worded now: a plain string as it is, a :class:`Lazy` in today's language."""
    return value if isinstance(value, str) else value.render()
