"""What an explored run is looking for: the oracle of ``explore`` and the goal of a challenge.

Most scenarios claim correct behaviour in their checks, so a failed check is a bug found.
A few built-ins show a bug on purpose (their declared schedule forces it, and their checks
claim it happened): for those the goal is the bug itself, seen by the engine's own
watchers (lost updates, a deadlock proven by the kernel), not a failing check. A scenario
file can state its own: ``scenario.goal = Goal("deadlock", "deadlock the philosophers")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ipcviz.explore.result import RunResult
from ipcviz.i18n import _

KINDS = ("bug", "lost_update", "deadlock", "claim")


@dataclass(frozen=True)
class Goal:
    """``kind``: "bug" (a check fails, an update is lost, or a deadlock), "lost_update",
    "deadlock", or "claim": the check whose description starts with ``check`` passes (a
    scenario whose check claims its bug happened; known once the run has ended).
    ``en``/``ko``: the goal as a challenge states it to the student."""

    kind: str
    en: str
    ko: str = ""
    check: str = ""

    def text(self, lang: str = "en") -> str:
        return self.ko if lang == "ko" and self.ko else self.en


BUG = Goal(
    "bug",
    "break it: make a check fail, lose an update or deadlock the processes",
    "망가뜨리기: 검사를 실패시키거나, 갱신을 잃게 하거나, 교착 상태를 만드세요",
)

BUILTIN: dict[str, Goal] = {
    "shm-race": Goal(
        "lost_update",
        "make the counter lose an update",
        "카운터가 갱신 하나를 잃게 만드세요",
    ),
    "atomicity": Goal(
        "claim",
        "get both processes inside at once through the flag 'lock'",
        "플래그 '잠금'으로 두 프로세스를 동시에 임계 구역에 들어가게 하세요",
        check="with the flag 'lock', both processes were inside at once",
    ),
    "deadlock": Goal(
        "deadlock",
        "deadlock the two processes: each holds one lock and waits for the other's",
        "두 프로세스를 교착 상태로 만드세요: 각자 잠금 하나를 쥐고 상대의 잠금을 기다립니다",
    ),
}


def goal_of(scenario: Any) -> Goal:
    own = getattr(scenario, "goal", None)
    if isinstance(own, Goal):
        return own
    return BUILTIN.get(getattr(scenario, "id", ""), BUG)


def found(goal: Goal, result: RunResult) -> str | None:
    """What this run showed that the goal looks for, in one line; None: nothing."""
    return reached(
        goal,
        lost_updates=result.lost_updates,
        deadlock=result.deadlock,
        failed_checks=result.failed_checks,
        timeout=result.outcome == "timeout",
        errors=result.errors,
        passed_checks=[f"{d}: {x}" if x else d for ok, d, x in result.checks if ok],
    )


def reached(
    goal: Goal,
    lost_updates: int = 0,
    deadlock: bool = False,
    failed_checks: Sequence[str] = (),
    timeout: bool = False,
    errors: Sequence[str] = (),
    passed_checks: Sequence[str] = (),
) -> str | None:
    """The goal's verdict from what a run showed so far (also live, in a challenge)."""
    if goal.kind == "claim":
        return next((c for c in passed_checks if c.startswith(goal.check)), None)
    lost = _("{n} lost update(s)").format(n=lost_updates) if lost_updates else None
    dead = _("a deadlock") if deadlock else None
    if goal.kind == "lost_update":
        return lost
    if goal.kind == "deadlock":
        return dead
    if failed_checks:
        return _("check failed: {check}").format(check=failed_checks[0])
    if timeout:
        return _("the run did not end (timeout)")
    if errors:
        return _("error: {message}").format(message=errors[0])
    return lost or dead
