"""The scenario's checks, run once at the end of a normal run against the final model.

Why a part of its own: the verdict (passed, failed, undecided, error) depends only on the
model, the workers' exits and the checks; it is the one place that turns them into an exit
code.

A check that fails (or raises) after the user killed a worker (``k``) says it cannot
decide instead (``undecided``, drawn ``?``): the killed worker did not do what the claim
counted on, and a ✗ would accuse a correct program (shm-semaphore's "no update lost"
said FAILED for a surplus it did not count). A check may say so itself (``Undecided``).
Stops and timeouts run no checks at all (``Engine.run``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ipcviz.engine.context import EngineContext
from ipcviz.events import phrases, schema
from ipcviz.i18n import translate
from ipcviz.scenario.api import Check, Run, Undecided

#: A check that forgot its ``return`` (None), or returned ((ok, detail), detail_ko), used
#: to count as passed: a green tick for a claim nobody judged.
_UNJUDGED = "it returned {got}, not True or False (or (ok, detail[, detail_ko]))"


def _pid(w: Any) -> int:
    return w.pid


def run_checks(ctx: EngineContext, pid_of: Callable[[Any], int] = _pid) -> tuple[str, int]:
    """Emit a ``check`` event per check; return (outcome, exit code). ``pid_of``: the
    model's process a worker is."""
    state = ctx.model
    pids = {w.name: pid_of(w) for w in ctx.workers.values()}
    run = Run(
        params=ctx.params,
        reports={k: dict(v) for k, v in state.reports.items()},
        exits={
            name: {"code": state.procs[pid].exit_code, "signal": state.procs[pid].exit_signal}
            for name, pid in pids.items()
            if pid in state.procs
        },
        state=state,
        counts=dict(state.kinds),
        # the user's kills: the deadlock watcher kills only a program that deadlocked
        killed=[state.proc_name(pid) for pid, why in state.killed.items() if why == "user"],
    )
    failed = crashed = unsure = False
    for check in ctx.scenario.checks:
        ok, undecided, detail, detail_ko, raised = _judge(check, run)
        if raised and run.killed:  # most likely a report the killed worker never made
            undecided, raised = True, ""
            detail, detail_ko = _killed_said(run.killed, detail, detail_ko)
        crashed = crashed or bool(raised)
        failed = failed or not (ok or undecided)
        unsure = unsure or undecided
        said: dict[str, Any] = {"detail_ko": str(detail_ko)} if detail_ko else {}
        if undecided:
            said["undecided"] = True
        ctx.emit(schema.CHECK, description=check.description, ok=ok, detail=str(detail), **said)
        if raised:  # a bug in the scenario, not a failed claim: exit 2 with one line
            message = phrases.CHECK_RAISED.format(description=repr(check.description), error=raised)
            ctx.emit(schema.ERROR, message=message)
    if state.errors or crashed:
        return "error", 2
    if failed:
        return "failed", 1
    if unsure:  # not passed either: exit 1, as a run that did not show its claims
        return "undecided", 1
    return "passed", 0


def _judge(check: Check, run: Run) -> tuple[bool, bool, Any, Any, str]:
    """(ok, undecided, detail, detail_ko, raised): one check's verdict on this run. A
    check that fails after a kill is undecided (see the module's docstring)."""
    try:
        result = check.fn(run)
        # (ok, detail) or (ok, detail, detail in Korean): the author's words, both
        said = result if isinstance(result, tuple) else (result,)
        ok, detail, detail_ko = (*said, "", "")[:3]
        if isinstance(ok, Undecided):  # the check's own words for it
            return False, True, ok.detail, ok.detail_ko, ""
        if ok is None or isinstance(ok, tuple | list):  # a claim never judged: no tick
            raise TypeError(_UNJUDGED.format(got=type(ok).__name__))
    except (Exception, SystemExit) as exc:  # sys.exit(0) must not turn a run green
        raised = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
        # the app's words, not the author's: in Korean from the catalog
        detail = phrases.CHECK_RAISED_DETAIL.format(error=raised)
        detail_ko = translate(phrases.CHECK_RAISED_DETAIL, "ko").format(error=raised)
        return False, False, detail, detail_ko, raised
    if not ok and run.killed:
        return False, True, *_killed_said(run.killed, detail, detail_ko), ""
    return bool(ok), False, detail, detail_ko, ""


def _killed_said(killed: list[str], detail: Any, detail_ko: Any) -> tuple[str, str]:
    """A failed check's words after a kill: who was killed, then what the check saw."""
    names = ", ".join(killed)
    en = phrases.CHECK_UNDECIDED.format(names=names, detail=detail or "-")
    ko = translate(phrases.CHECK_UNDECIDED, "ko").format(
        names=names, detail=detail_ko or detail or "-"
    )
    return en, ko
