"""The search: run until the goal shows up or the budget is spent; then shorten the failing
interleaving and give it back as a ``--schedule`` that ``ipcviz run`` replays."""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import shutil
import signal
import tempfile
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipcviz.errors import IpcvizError
from ipcviz.explore.goals import Goal, found
from ipcviz.explore.result import RunResult
from ipcviz.explore.runner import Pending
from ipcviz.explore.strategies import Strategy

#: Runs spent at most on shortening a failing interleaving (on top of the budget).
SHRINK_RUNS = 60
#: A plan turns fair after FAIR_FACTOR x the first run's steps (+ 64), or after FAIR_FIRST
#: steps in the first run itself (see runner.Chooser.fair_after).
FAIR_FACTOR, FAIR_FIRST = 4, 2000


@dataclass
class Report:
    """What a search did: for the progress line, the verdict and the lecture's summary."""

    runs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    found: str | None = None
    found_at: int = 0  # the run that found it (1-based)
    failing: RunResult | None = None  # its run, shortened if shrinking worked
    shrink_runs: int = 0
    exhausted: bool = False  # the strategy had nothing left to try (DFS)

    @property
    def distinct(self) -> int:
        return len(self.outcomes)


def outcome_line(goal: Goal, result: RunResult) -> str:
    """One run's outcome in one line; equal lines count as the same outcome.

    A scenario whose goal is the bug itself claims the bug in its checks: for it the
    checks' details (the counter's value…) are shown without their verdict, which would
    read backwards ("FAILED" for a run without the bug)."""
    parts = []
    if goal.kind == "lost_update":
        parts.append(
            f"{result.lost_updates} lost update(s)" if result.lost_updates else "none lost"
        )
    elif goal.kind == "deadlock":
        parts.append("deadlock" if result.deadlock else "no deadlock")
    elif goal.kind == "claim":
        parts.append("reached" if found(goal, result) else "not reached")
    else:
        if result.lost_updates:
            parts.append(f"{result.lost_updates} lost update(s)")
        if result.deadlock:
            parts.append("deadlock")
    for ok, description, detail in result.checks:
        if goal.kind == "bug":
            parts.append(
                f"{'ok' if ok else 'FAILED'}: {description}" + (f" ({detail})" if detail else "")
            )
        elif detail:
            parts.append(str(detail))
    if result.outcome in ("timeout", "error"):
        parts.append(result.outcome + (f" ({result.errors[0]})" if result.errors else ""))
    return "; ".join(parts) or result.outcome


def compress(names: list[str]) -> str:
    """``[a, a, b, a]`` → ``"a*2,b,a"`` (``--schedule`` syntax: NAME*K = K steps in a row)."""
    out: list[str] = []
    i = 0
    while i < len(names):
        j = i
        while j < len(names) and names[j] == names[i]:
            j += 1
        out.append(names[i] if j - i == 1 else f"{names[i]}*{j - i}")
        i = j
    return ",".join(out)


def switches(names: list[str]) -> int:
    return sum(1 for a, b in itertools.pairwise(names) if a != b)


class Explorer:
    """Runs a loaded scenario again and again in forked engines (``runner.run_once``)."""

    def __init__(self, scenario: Any, goal: Goal, timeout: float, quick: bool = False) -> None:
        self.scenario = scenario
        self.goal = goal
        self.timeout = timeout
        self.quick = quick
        self._dir: Path | None = None
        self._n = 0
        self.k = 0  # steps of the first run that ended: sets where plans turn fair
        self.stop_requested = False
        self._wake_r = self._wake_w = -1

    def __enter__(self) -> Explorer:
        # The runs' scratch traces: a private (0700) directory of the system's temporary
        # place, not the runtime directory (whose entries are sessions ``clean`` judges).
        self._dir = Path(tempfile.mkdtemp(prefix="ipcviz-explore-"))
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._wake_r, self._wake_w):
            os.set_blocking(fd, False)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1

    @contextlib.contextmanager
    def stoppable(self) -> Iterator[None]:
        """Ctrl-C, SIGTERM and SIGHUP stop the search: the handler only sets a flag (an
        exception raised inside a signal handler can land in a fork hook and be lost);
        the wait for a run wakes up on it, stops the runs in flight (their engines clean
        up) and raises KeyboardInterrupt from ordinary code."""

        def stop(signum: int, _frame: Any) -> None:
            self.stop_requested = True

        sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        old = {sig: signal.signal(sig, stop) for sig in sigs}
        old_wake = signal.set_wakeup_fd(self._wake_w)
        try:
            yield
        finally:
            signal.set_wakeup_fd(old_wake)
            for sig, handler in old.items():
                signal.signal(sig, handler)

    def start(self, plan: dict[str, Any]) -> tuple[Pending, Path]:
        """Start one run; its trace is thrown away when it is finished (``finish``)."""
        assert self._dir is not None, "use Explorer as a context manager"
        self._n += 1
        trace = self._dir / f"run{self._n}.jsonl"
        if "random" not in plan:  # (coin flips are fair by themselves)
            plan = {**plan, "fair_after": FAIR_FACTOR * self.k + 64 if self.k else FAIR_FIRST}
        return Pending(self.scenario, plan, trace, self.timeout, self.quick), trace

    def finish(self, run: tuple[Pending, Path], interruptible: bool = True) -> RunResult:
        """The run's result, once it has ended (see ``stoppable``)."""
        pending = run[0]
        try:
            while interruptible and self._wake_r >= 0:
                ready, _, _ = select.select([pending.res_r, self._wake_r], [], [])
                if self.stop_requested:
                    pending.cancel()
                    pending.finish()
                    raise KeyboardInterrupt
                if pending.res_r in ready:
                    break
                _drain(self._wake_r)
            result = pending.finish()
            if not self.k and result.outcome != "error":
                self.k = len(result.steps)
            return result
        finally:
            try:
                os.unlink(run[1])
            except FileNotFoundError:
                pass

    def run(self, plan: dict[str, Any]) -> RunResult:
        """One run, to its end (the reproduction records its own trace)."""
        return self.finish(self.start(plan))

    def search(
        self,
        strategy: Strategy,
        budget: int,
        progress: Callable[[Report], None] | None = None,
        jobs: int = 1,
    ) -> Report:
        """Run plans until the goal shows up or ``budget`` runs are done. With ``jobs`` > 1
        (and a strategy that plans ahead) several runs go at once, on their own engines;
        results are taken in plan order, so the report is the same as with one job."""
        report = Report()
        flight: deque[tuple[dict[str, Any], tuple[Pending, Path]]] = deque()
        started = 0
        try:
            while True:
                width = max(1, jobs) if strategy.plans_ahead() else 1
                while len(flight) < width and started < budget and not report.exhausted:
                    plan = strategy.next_plan()
                    if plan is None:
                        report.exhausted = True
                        break
                    flight.append((plan, self.start(plan)))
                    started += 1
                if not flight:
                    break
                plan, run = flight.popleft()
                result = self.finish(run)
                if result.outcome == "error":  # once more: the machine may have hiccupped
                    result = self.run(plan)
                if result.outcome == "error":  # as `ipcviz run` says: exit 2, not a finding
                    why = result.errors[0] if result.errors else "no reason given"
                    raise IpcvizError(f"run {report.runs + 1} of {self.scenario.id} failed: {why}")
                strategy.learn(plan, result)
                report.runs += 1
                report.outcomes[outcome_line(self.goal, result)] += 1
                what = found(self.goal, result)
                if progress is not None:
                    progress(report)
                if what is not None:
                    report.found, report.found_at, report.failing = what, report.runs, result
                    break
        finally:
            for _plan, run in flight:  # found, or interrupted: the rest stop and clean up
                run[0].cancel()
            for _plan, run in flight:
                self.finish(run, interruptible=False)
        return report

    def shrink(self, report: Report, max_runs: int = SHRINK_RUNS) -> None:
        """Delta debugging (Zeller & Hildebrandt 2002) on the failing run's choices: drop
        chunks of steps while the goal still shows up. A plan of fewer forced steps leaves
        more to the default policy (no preemption), so the interleaving that remains has
        only the switches the bug needs."""
        if report.failing is None:
            return
        best = report.failing
        runs = 0

        def fails(prefix: list[str]) -> bool:
            nonlocal best, runs
            runs += 1
            result = self.run({"prefix": prefix})
            if found(self.goal, result) is None:
                return False
            best = result
            return True

        items = list(best.choices)
        n = 2
        while len(items) >= 2 and runs < max_runs:
            chunk = -(-len(items) // n)
            parts = [items[i : i + chunk] for i in range(0, len(items), chunk)]
            for i in range(len(parts)):
                rest = [x for j, p in enumerate(parts) if j != i for x in p]
                if runs < max_runs and fails(rest):
                    items, n = rest, max(n - 1, 2)
                    break
            else:
                if n >= len(items):
                    break
                n = min(2 * n, len(items))
        report.failing, report.shrink_runs = best, runs


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass
