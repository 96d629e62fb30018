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
SHRINK_RUNS = 150
#: A plan turns fair after FAIR_FACTOR x the first run's steps (+ 64), or after FAIR_FIRST
#: steps in the first run itself (see runner.Chooser.fair_after).
FAIR_FACTOR, FAIR_FIRST = 4, 2000


@dataclass
class Report:
    """What a search did: for the progress line, the verdict and the lecture's summary."""

    runs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    #: runs per kind of trouble, for the lecture: "lost update", "deadlock",
    #: "failed check", "timeout", "error" (a run may count under several)
    tally: Counter[str] = field(default_factory=Counter)
    reached: int = 0  # runs where the goal showed up
    found: str | None = None
    found_at: int = 0  # the run that found it (1-based)
    failing: RunResult | None = None  # its run, shortened if shrinking worked
    #: the failing interleaving as ``--schedule`` items ([name, count], count None: NAME*)
    schedule: list[list[Any]] = field(default_factory=list)
    #: False: the found run did not come back when its own steps were given as a schedule
    #: (the scenario does not only depend on the order of its operations)
    replays: bool = True
    shrink_runs: int = 0
    found_schedule: str = ""  # the failing run's steps as found, before shortening
    #: runs of the search or of the shortening that ended in an error (their traces kept)
    errors: list[RunResult] = field(default_factory=list)
    error_at: int = 0  # the search's run that ended in an error (it stopped there)
    exhausted: bool = False  # the strategy had nothing left to try (DFS)

    @property
    def distinct(self) -> int:
        return len(self.outcomes)


def tally(result: RunResult) -> list[str]:
    """The kinds of trouble one run showed (the lecture's summary counts runs per kind)."""
    kinds = []
    if result.lost_updates:
        kinds.append("lost update")
    if result.deadlock:
        kinds.append("deadlock")
    if result.failed_checks:
        kinds.append("failed check")
    if result.outcome in ("timeout", "error"):
        kinds.append(result.outcome)
    return kinds


def signature(goal: Goal, result: RunResult) -> str | None:
    """How a run fails, for the shortening: a shorter schedule is kept only if its run
    fails the same way (the same failed check, not a timeout instead; a lost update…).
    None: the goal did not show up."""
    if result.outcome == "error" or found(goal, result) is None:
        return None
    if goal.kind != "bug":
        return goal.kind
    failed = [d for ok, d, _x in result.checks if not ok]
    if failed:
        return "check: " + str(failed[0])
    if result.outcome == "timeout":
        return "timeout"
    return "lost update" if result.lost_updates else "deadlock"


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


def runs_of(names: list[str]) -> list[list[Any]]:
    """``[a, a, b]`` → ``[["a", 2], ["b", 1]]``: a schedule that takes exactly these steps."""
    out: list[list[Any]] = []
    for name in names:
        if out and out[-1][0] == name:
            out[-1][1] += 1
        else:
            out.append([name, 1])
    return out


def merged(items: list[list[Any]]) -> list[list[Any]]:
    """Neighbouring items of one process as one: ``a*2,a*3`` is ``a*5``; with ``a*`` in it,
    ``a*`` (the gate drops both when ``a`` cannot go on, at the same moment)."""
    out: list[list[Any]] = []
    for name, count in items:
        if out and out[-1][0] == name:
            last = out[-1][1]
            out[-1][1] = None if last is None or count is None else last + count
        else:
            out.append([name, count])
    return out


def schedule_text(items: list[list[Any]]) -> str:
    """``[["a", 1], ["b", 3], ["c", None]]`` → ``"a,b*3,c*"`` (``--schedule`` syntax)."""
    return ",".join(
        name if count == 1 else f"{name}*{'' if count is None else count}" for name, count in items
    )


def ddmin(
    items: list[Any], fails: Callable[[list[Any]], bool], more: Callable[[], bool]
) -> list[Any]:
    """Delta debugging (Zeller & Hildebrandt 2002), complements only: drop one of n chunks
    while ``fails`` holds; n doubles when no chunk can go. 1-minimal when ``more`` allows:
    no single element can be dropped."""
    n = 2
    while len(items) >= 2 and more():
        chunk = -(-len(items) // n)
        parts = [items[i : i + chunk] for i in range(0, len(items), chunk)]
        for i in range(len(parts)):
            rest = [x for j, p in enumerate(parts) if j != i for x in p]
            if more() and fails(rest):
                items, n = rest, max(n - 1, 2)
                break
        else:
            if n >= len(items):
                break
            n = min(2 * n, len(items))
    return items


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
        # Its name says whose it is (pid and start time): ``ipcviz clean`` removes the
        # directory of an explorer that was killed (``cleanup.remove_dead_explore_dirs``).
        from ipcviz.session.cleanup import explore_dir_prefix

        self._dir = Path(tempfile.mkdtemp(prefix=explore_dir_prefix()))
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
            fair = FAIR_FACTOR * self.k + 64 if self.k else FAIR_FIRST
            # a schedule's own steps are never cut short: fair only after them
            fair += sum(c for _n, c in plan.get("schedule", ()) if c is not None)
            plan = {**plan, "fair_after": fair}
        return Pending(self.scenario, plan, trace, self.timeout, self.quick), trace

    def finish(self, run: tuple[Pending, Path], interruptible: bool = True) -> RunResult:
        """The run's result, once it has ended (see ``stoppable``). The scratch trace of a
        run that ended in an error is kept (``RunResult.trace``): the error is shown, not
        hidden, and its trace is what one looks at."""
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
            if result.outcome == "error" and interruptible:
                result.trace = str(self._keep(run[1]))
            if not self.k and result.outcome != "error":
                self.k = len(result.steps)
            return result
        finally:
            try:
                os.unlink(run[1])
            except FileNotFoundError:
                pass

    def _keep(self, scratch: Path) -> Path | str:
        """Copy a scratch trace to the traces directory (a new 0600 file, as every trace)."""
        from ipcviz.engine.client import default_trace_path
        from ipcviz.events.trace import create_new, default_trace_dir
        from ipcviz.session.registry import new_session_id

        try:
            dest = default_trace_path(self.scenario.id, default_trace_dir(), new_session_id())
            with open(scratch, "rb") as src:
                fd = create_new(dest)
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(src, out)
            return dest
        except (OSError, IpcvizError) as exc:
            return f"(not kept: {exc})"

    def run(self, plan: dict[str, Any]) -> RunResult:
        """One run, to its end (the reproduction records its own trace)."""
        return self.finish(self.start(plan))

    def search(
        self,
        strategy: Strategy,
        budget: int,
        progress: Callable[[Report], None] | None = None,
        jobs: int = 1,
        keep_going: bool = False,
    ) -> Report:
        """Run plans until the goal shows up (with ``keep_going``: until the budget is
        spent; the first finding is the one reported) or a run ends in an error.

        A run that ends in an error is not run again: a retry would hide a scenario that
        fails now and then (a worker that raises under one interleaving only) as well as a
        machine in trouble. The search stops there; the report names the run, its error
        and its kept trace. With ``jobs`` > 1 (and a strategy that plans ahead) several runs
        go at once, on their own engines; results are taken in plan order, so the report
        is the same as with one job."""
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
                report.runs += 1
                report.outcomes[outcome_line(self.goal, result)] += 1
                report.tally.update(tally(result))
                if progress is not None:
                    progress(report)
                if result.outcome == "error":  # as `ipcviz run` says: exit 2, not a finding
                    report.errors.append(result)
                    report.error_at = report.runs
                    break
                strategy.learn(plan, result)
                what = found(self.goal, result)
                report.reached += what is not None
                if what is not None and report.failing is None:
                    report.found, report.found_at, report.failing = what, report.runs, result
                    report.schedule = runs_of(result.choices)
                    report.found_schedule = schedule_text(report.schedule)
                    if not keep_going:
                        break
        finally:
            for _plan, run in flight:  # found, or interrupted: the rest stop and clean up
                run[0].cancel()
            for _plan, run in flight:
                self.finish(run, interruptible=False)
        return report

    def shrink(self, report: Report, max_runs: int = SHRINK_RUNS) -> None:
        """Shorten the failing interleaving, each candidate run for real as the
        ``--schedule`` it would be printed as, and kept only if its run fails the same way
        (``signature``) with nothing left to chance (``free_choices`` 0: where ``ipcviz
        run`` would run free after the schedule, at most one process could go).

        First the found steps themselves are replayed as a schedule (else there is nothing
        to shorten: the scenario depends on more than its order); then delta debugging
        (Zeller & Hildebrandt 2002) drops steps; then each ``NAME*K`` is tried as ``NAME*``
        (on until it blocks or ends) and whole items are dropped (trailing ones too: the
        last process left runs alone), until nothing more can go."""
        if report.failing is None:
            return
        want = signature(self.goal, report.failing)
        tried: dict[str, RunResult | None] = {}
        runs = 0

        def more() -> bool:
            return runs < max_runs and not self.stop_requested

        def fails(items: list[list[Any]]) -> bool:
            nonlocal runs
            items = merged(items)
            key = schedule_text(items)
            if key not in tried:
                if not more():
                    return False
                runs += 1
                result = self.run({"schedule": [list(x) for x in items]})
                if result.outcome == "error":
                    report.errors.append(result)
                same = result.free_choices == 0 and signature(self.goal, result) == want
                tried[key] = result if same else None
            result = tried[key]
            if result is None:
                return False
            best[0], best[1] = items, result
            return True

        best: list[Any] = [report.schedule, report.failing]
        if not fails(report.schedule):
            report.replays = False
            report.shrink_runs = runs
            return
        steps = [name for name, count in best[0] for _ in range(count)]
        steps = ddmin(steps, lambda names: fails(runs_of(names)), more)
        fails(runs_of(steps))  # (from the cache) best = the 1-minimal steps
        while more():
            before = schedule_text(best[0])
            for i in range(len(best[0])):
                items = best[0]
                if i < len(items) and items[i][1] is not None:
                    fails([*items[:i], [items[i][0], None], *items[i + 1 :]])
            ddmin(list(best[0]), fails, more)
            fails(best[0])
            if schedule_text(best[0]) == before:
                break
        report.schedule, report.failing, report.shrink_runs = best[0], best[1], runs


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass
