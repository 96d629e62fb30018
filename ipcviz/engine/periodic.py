"""Tasks the engine's loop runs every so often (kernel sweeps, deadlock checks, the gate's
clock, the adopter): each with its interval, run from the loop, never from a thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class Task:
    interval: float  # seconds; 0.0: every loop turn
    fn: Callable[[], None]
    due: float = 0.0  # time.monotonic() of its next run


class Periodic:
    def __init__(self) -> None:
        self.tasks: list[Task] = []

    def add(self, interval: float, fn: Callable[[], None]) -> None:
        self.tasks.append(Task(interval, fn))

    def run_due(self, now: float) -> None:
        """Run every task that is due, in the order they were added."""
        for task in self.tasks:
            if now >= task.due:
                task.due = now + task.interval
                task.fn()
