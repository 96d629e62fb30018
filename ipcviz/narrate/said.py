"""Pieces of an event's words that :mod:`ipcviz.i18n`'s ``lazy`` alone cannot say: a list
of phrases, a scenario author's text in two languages. Each is worded when shown, like a
``Lazy``, so a log line made of them follows ``l`` too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ipcviz.events.phrases import match
from ipcviz.i18n import Lazy, get_lang


class Joined(Lazy):
    """Phrases (each a ``Lazy`` or plain text) joined by ``sep``, worded when shown."""

    __slots__ = ()

    def __init__(self, sep: str, parts: Sequence[Any]) -> None:
        super().__init__(sep, None, parts=tuple(parts))

    def render(self, lang: str | None = None) -> str:
        lang = lang or get_lang()
        return self.message.join(
            p.render(lang) if isinstance(p, Lazy) else str(p) for p in self.params["parts"]
        )

    def __repr__(self) -> str:
        return f"Joined({self.message!r}, {self.params['parts']!r})"


class Authored(Lazy):
    """A scenario author's text, given in both languages (a step, a title, a check): the
    one for the language shown, English when the author wrote no other."""

    __slots__ = ()

    def __init__(self, en: str, ko: str | None = None) -> None:
        super().__init__(en, None, ko=ko)

    def render(self, lang: str | None = None) -> str:
        lang = lang or get_lang()
        ko = self.params.get("ko")
        return ko if lang == "ko" and isinstance(ko, str) and ko else self.message

    def __repr__(self) -> str:
        return f"Authored({self.message!r}, {self.params.get('ko')!r})"


class Verbatim(Lazy):
    """Text that is no sentence of ours (a traceback, a program's output): as it is in
    every language, but a ``Lazy`` so an entry's words are always one type."""

    __slots__ = ()

    def __init__(self, text: str) -> None:
        super().__init__(text, None)

    def render(self, lang: str | None = None) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"Verbatim({self.message!r})"


def known(text: str) -> Lazy:
    """A short reason the engine recorded in English (``"not in step mode"``), in the
    language shown when the catalog knows it, as it is otherwise (the engine marks such
    phrases with ``N_`` where it says them). A sentence with values in it is one of the
    engine's templates (``ipcviz/events/phrases.py``) filled in: found again, it is
    worded with the same values."""
    return match(text) or Lazy(text)
