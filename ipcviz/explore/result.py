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

    @property
    def choices(self) -> list[str]:
        return [s.chosen for s in self.steps]

    @staticmethod
    def from_json(data: dict[str, Any]) -> RunResult:
        steps = [Step(list(e), c) for e, c in data.pop("steps")]
        return RunResult(steps=steps, **data)
