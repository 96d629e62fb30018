"""A C example's scenario: title, teaching points, narration steps and checks of a program
that ipcviz sees only through strace (``scenarios/c/NAME.py`` beside ``NAME.c``).

Why a kind of its own: a Python scenario's processes announce their steps themselves
(``ctx.step``); a C program knows nothing of ipcviz. So each step here names what must have
happened before it may be said (``when``: a test over all events published so far), and
each check reads the recorded events, never the program's word. A step is said once, in
the declared order, right after the event that makes its test true: the narration never
claims what the trace does not show. A step may thus come after later events (its turn
came late), so its words say what *has* happened, never "now".
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ipcviz.events import schema
from ipcviz.scenario.api import Run, Scenario

Event = dict[str, Any]
#: A step's test: the events so far (the newest last) → whether what it says has happened.
When = Callable[[list[Event]], bool]


class ProgramScenario(Scenario):
    """A scenario whose processes are one program (a C example) watched under strace."""

    def __init__(self, id: str, title: str, example: str, **kwargs: Any) -> None:
        super().__init__(id, title, **kwargs)
        #: ``c/NAME``: the C example this scenario narrates (``ipcviz run c/NAME``)
        self.example = example
        self.when: dict[str, When] = {}
        #: every event published in this run, for the checks (C examples are small)
        self.events: list[Event] = []

    def step(  # type: ignore[override]
        self,
        id: str,
        en: str,
        ko: str = "",
        teaches: Iterable[str] = (),
        probe: bool = False,
        when: When | None = None,
    ) -> Any:
        """A narration step said when ``when`` first holds (after the steps before it)."""
        step = super().step(id, en, ko, teaches, probe)
        if when is not None:
            self.when[id] = when
        return step

    def trace_check(self, description: str, ko: str = "") -> Callable[[Callable], Callable]:
        """A check over the recorded events: ``fn(events) -> (ok, detail)``; ``ko``: its
        description in Korean."""

        def register(fn: Callable[[list[Event]], Any]) -> Callable[[list[Event]], Any]:
            self.check(description, ko)(lambda _run: fn(self.events))
            return fn

        return register


class Narrator:
    """Which of a program scenario's steps each published event makes true: fed every event
    in the published order, it names the steps to say right after that event."""

    def __init__(self, scenario: ProgramScenario) -> None:
        self.scenario = scenario
        scenario.events = []
        self.next = 0  # the next step to say: steps are said in their declared order

    def feed(self, event: Event) -> list[int]:
        """The indexes of the steps this event (the newest so far) lets us say."""
        if event.get("kind") == schema.NARRATE:
            return []
        seen = self.scenario.events
        seen.append(event)
        said: list[int] = []
        steps = self.scenario.steps
        while self.next < len(steps):
            when = self.scenario.when.get(steps[self.next].id)
            if when is None or not when(seen):
                break
            said.append(self.next)
            self.next += 1
        return said


# -- helpers for steps and checks -------------------------------------------------------


def data(event: Event) -> bytes:
    """The bytes an event carries (base64 in the stream)."""
    try:
        return base64.b64decode(event.get("data") or b"")
    except ValueError:
        return b""


def of(events: Sequence[Event], kind: str, **fields: Any) -> list[Event]:
    """The events of one kind whose fields have these values."""
    return [
        e for e in events if e.get("kind") == kind and all(e.get(k) == v for k, v in fields.items())
    ]


def root(events: Sequence[Event]) -> int:
    """The first process's pid (the program ipcviz started)."""
    starts = of(events, schema.PROC_START)
    return int(starts[0]["pid"]) if starts else 0


def ever(kind: str, **fields: Any) -> When:
    """A step's test: an event of this kind with these field values has been seen."""
    return lambda events: bool(of(events, kind, **fields))


__all__ = ["Narrator", "ProgramScenario", "Run", "data", "ever", "of", "root"]
