"""A count of one is said in the singular: the shared memory's caption said "1 writes",
and the same template said "1 waits", "1 msgs", "1 events". Each trace is shown up to
its first operation of the kind counted, in the detail panels and in the diagram."""

from __future__ import annotations

import re

import pytest

from .helpers import load, recorded_app, settle
from .screen_text import screen_rows

#: (fixture trace, the first event kind shown, what the screen says of it)
FIRSTS = [
    ("producer-consumer", "shm.write", ["1 write"]),
    ("producer-consumer", "sem.wait", ["1 wait"]),
    ("pipe-basic", "pipe.write", ["1 write,"]),
    ("sysv-mq-typed", "mq.send", ["1 msg"]),  # (a POSIX queue says "1/4 msgs")
]
#: a count of one followed by an English plural (the words ipcviz counts with)
PLURAL_OF_ONE = re.compile(r"(?<![\d/.])1 (writes|waits|posts|msgs|cells|events|overwrites)\b")


def upto_first(trace: str, kind: str) -> int:
    """How many of the trace's events to apply: up to and with its first ``kind``."""
    _header, events = load(trace)
    return next(i for i, e in enumerate(events) if e.get("kind") == kind) + 1


@pytest.mark.parametrize(("trace", "kind", "said"), FIRSTS)
@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
async def test_one_is_said_in_the_singular(
    trace: str, kind: str, said: list[str], size: tuple[int, int]
) -> None:
    app = recorded_app(trace, upto=upto_first(trace, kind))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        shown = {"detail": "\n".join(screen_rows(app))}
        await pilot.press("v")
        await settle(pilot)
        shown["diagram"] = "\n".join(screen_rows(app))
        for view, text in shown.items():
            assert not PLURAL_OF_ONE.findall(text), (view, PLURAL_OF_ONE.findall(text), text)
        if size == (200, 60):  # room for every caption in full
            for words in said:
                assert any(words in text for text in shown.values()), (words, shown)
        app.exit(0)
