"""States at any point of a run, cheaply: checkpoints every K events, replay the rest.

``state_at(i)`` costs one copy and at most K applies, so seeking and stepping back in a
long trace stay fast (issue [replay]).
"""

from __future__ import annotations

import copy
from typing import Any

from ipcviz.model.reducer import apply
from ipcviz.model.state import State


class Timeline:
    """Holds the events of a run and checkpoints of the state every ``every`` events."""

    def __init__(self, header: dict[str, Any], every: int = 1000) -> None:
        self.header = header
        self.every = every
        self.events: list[dict[str, Any]] = []
        self.checkpoints: list[State] = [State(header=header)]  # state before event k*every
        self._live = State(header=header)

    def append(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        apply(self._live, event)
        if len(self.events) % self.every == 0:
            self.checkpoints.append(copy.deepcopy(self._live))

    @property
    def latest(self) -> State:
        """The state after every event so far (shared: do not modify)."""
        return self._live

    def __len__(self) -> int:
        return len(self.events)

    def state_at(self, i: int) -> State:
        """A fresh copy of the state after events ``0..i`` (``i = -1``: before any)."""
        i = max(-1, min(i, len(self.events) - 1))
        k = (i + 1) // self.every
        state = copy.deepcopy(self.checkpoints[k])
        for event in self.events[k * self.every : i + 1]:
            apply(state, event)
        return state
