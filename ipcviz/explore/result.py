"""What one explored run did and showed: plain data, no engine (the TUI's challenge mode
and the goals use it without importing the engine)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    """One choice at the gate: who could go (scenario order) and who went."""

    enabled: list[str]
    chosen: str


@dataclass
class RunResult:
    """What one explored run did and showed."""

    steps: list[Step]
    outcome: str  # the engine's: passed, failed, timeout, error, stopped
    failed_checks: list[str] = field(default_factory=list)  # "description: detail"
    #: every check: [ok, description, detail]
    checks: list[list[Any]] = field(default_factory=list)
    lost_updates: int = 0
    deadlock: bool = False
    errors: list[str] = field(default_factory=list)
    #: choices among two or more processes after a ``schedule`` plan was used up, where
    #: ``ipcviz run --schedule`` would run free (runner.Chooser): 0 = the schedule alone
    #: decides the whole run
    free_choices: int = 0
    lost_at: int | None = None  # the step (gate.step count) of the first lost update
    deadlock_at: int | None = None  # … of the deadlock
    trace: str = ""  # where its trace was kept (a run that ended in an error)

    @property
    def choices(self) -> list[str]:
        return [s.chosen for s in self.steps]

    @staticmethod
    def from_json(data: dict[str, Any]) -> RunResult:
        steps = [Step(list(e), c) for e, c in data.pop("steps")]
        return RunResult(steps=steps, **data)
