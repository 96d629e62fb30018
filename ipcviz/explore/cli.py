"""``ipcviz explore``: the command line around ``search.Explorer``. Light at import time
(the CLI builds its parser from here on every start)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ipcviz.errors import IpcvizError
from ipcviz.i18n import N_, _, get_lang

EXIT_CLEAN, EXIT_FOUND, EXIT_BAD_INPUT = 0, 1, 2


def add_parser(sub: Any, set_option: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "explore",
        help=_("search the interleavings of a scenario for one that breaks it (exit 1: found)"),
        description=_(
            "Run the scenario again and again under the step gate, choosing who goes "
            "next systematically (PCT or a preemption-bounded DFS), until a check fails, an "
            "update is lost or the processes deadlock, or the budget is spent. Prints the "
            "failing interleaving, shortened, as a --schedule for `ipcviz run`."
        ),
    )
    p.add_argument("scenario", metavar="SCENARIO|FILE")
    p.add_argument("--budget", type=int, default=200, metavar="N", help=_("runs at most (200)"))
    p.add_argument(
        "--strategy",
        choices=["pct", "dfs", "random"],
        default="pct",
        help=_(
            "pct: random priorities with D-1 change points (default); dfs: depth-first "
            "over the interleavings with at most D preemptions; random: run i is `run --seed "
            "S+i` (the baseline the others beat)"
        ),
    )
    p.add_argument(
        "--depth",
        type=int,
        metavar="D",
        help=_("pct: the bug depth (default 2); dfs: the preemption bound (default 2)"),
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help=_("pct's random seed (0)"))
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="J",
        help=_(
            "runs at once (default: 2 if the machine has 2 CPUs or more); the results are "
            "the same as one after another (dfs runs one at a time)"
        ),
    )
    p.add_argument("--quick", action="store_true", help=_("the scenario's shorter settings"))
    p.add_argument(
        "--timeout", type=float, metavar="S", help=_("per run (default: the scenario's limit)")
    )
    p.add_argument(
        "--no-shrink", action="store_true", help=_("print the failing interleaving as found")
    )
    p.add_argument(
        "--keep-going",
        action="store_true",
        help=_(
            "run the whole budget for the lecture's summary (how many runs lost an update, "
            "deadlocked, failed a check); the first failing run is still the one shown"
        ),
    )
    p.add_argument("--record", metavar="PATH", type=Path, help=_("trace of the failing run (new)"))
    set_option(p)


def cmd_explore(args: argparse.Namespace) -> int:
    from ipcviz.explore.goals import goal_of
    from ipcviz.explore.search import Explorer
    from ipcviz.explore.strategies import make
    from ipcviz.scenario.loader import load, resolve
    from ipcviz.scenario.settings import apply_settings, parse_settings
    from ipcviz.session.registry import runtime_dir

    if args.budget < 1:
        raise IpcvizError(_("--budget {n}: give at least 1 run").format(n=args.budget))
    if args.depth is not None and args.depth < (1 if args.strategy == "pct" else 0):
        raise IpcvizError(
            _("--depth {n}: too small for --strategy {strategy}").format(
                n=args.depth, strategy=args.strategy
            )
        )
    if args.jobs is not None and not 1 <= args.jobs <= 64:
        raise IpcvizError(_("--jobs {n}: give 1 to 64 runs at once").format(n=args.jobs))
    jobs = args.jobs or min(2, os.cpu_count() or 1)
    from ipcviz.cli import check_timeout

    check_timeout(args.timeout)
    runtime_dir()
    path = resolve(args.scenario)
    scenario = load(path)
    values = parse_settings(args.set)
    apply_settings(scenario, values)
    if args.record is not None:
        from ipcviz.engine.client import claim_record_path

        claim_record_path(args.record, False)  # refused now, not after the search
    goal = goal_of(scenario)
    names = [p.name for p in scenario.processes if p.fn is not None]
    if len(names) < 2:
        raise IpcvizError(
            _("scenario {id}: explore needs two stepped processes or more").format(id=scenario.id)
        )
    strategy = make(args.strategy, names, args.seed, args.depth)
    timeout = args.timeout or scenario.timeout
    how = {
        "pct": lambda: _("pct, depth {depth}, seed {seed}").format(
            depth=strategy.depth,  # type: ignore[attr-defined]
            seed=args.seed,
        ),
        "dfs": lambda: _("dfs, at most {n} preemption(s)").format(
            n=strategy.bound  # type: ignore[attr-defined]
        ),
        "random": lambda: _("random, seeds {first}…{last}").format(
            first=args.seed, last=args.seed + args.budget - 1
        ),
    }[args.strategy]()
    say(_("exploring {id} ({how}, budget {n} runs)").format(id=scenario.id, how=how, n=args.budget))
    say(_("goal: {goal}").format(goal=goal.text(get_lang())))
    started = time.monotonic()
    last = [started]

    def progress(report: Any) -> None:
        now = time.monotonic()
        if now - last[0] >= 1.0 or report.runs in (1, 10) or report.runs % 50 == 0:
            last[0] = now
            # at most: the search ends sooner when it finds the goal or runs out of
            # interleavings (a rate, not a promise)
            left = (now - started) / report.runs * max(args.budget - report.runs, 0)
            say(
                "  "
                + _(
                    "so far: {n} of at most {budget} run(s), {distinct} distinct outcome(s), "
                    "at most about {left} s left"
                ).format(
                    n=report.runs,
                    budget=args.budget,
                    distinct=report.distinct,
                    left=f"{left:.0f}",
                )
            )

    with Explorer(scenario, goal, timeout, args.quick) as explorer, explorer.stoppable():
        report = explorer.search(
            strategy, args.budget, progress, jobs=jobs, keep_going=args.keep_going
        )
        searched = time.monotonic() - started
        if report.found and not args.no_shrink and not report.errors:
            explorer.shrink(report)
    say(
        _("searched: {n} runs in {s} s ({rate} runs/s)").format(
            n=report.runs, s=f"{searched:.1f}", rate=f"{report.runs / max(searched, 1e-9):.1f}"
        )
        + (_(" — every interleaving within the bound was tried") if report.exhausted else "")
    )
    summary(report, goal)
    if report.error_at:
        return explain_error(report, args, names, scenario.id)
    if report.failing is None:
        say("")
        say(
            _("nothing found: {goal} did not happen in {n} runs").format(
                goal=repr(goal.text(get_lang())), n=report.runs
            )
        )
        return EXIT_CLEAN
    return show_failure(report, path, args, values, goal, names)


def summary(report: Any, goal: Any) -> None:
    """The lecture's numbers: every run of the search, by what it showed (not the one
    failure shown below, which is replayed on its own)."""
    from rich.cells import cell_len

    n = report.runs
    say("")
    say(_("summary of the {n} search run(s), for the lecture:").format(n=n))
    counts = {N_("reached the goal"): report.reached}
    counts |= {k: report.tally[k] for k in (N_("lost update"), N_("deadlock"))}
    if goal.kind == "bug":
        counts[N_("failed check")] = report.tally["failed check"]
    counts |= {k: report.tally[k] for k in (N_("timeout"), N_("error")) if report.tally[k]}
    shown = {_(k): v for k, v in counts.items()}
    width = max(cell_len(k) for k in shown)
    for kind, count in shown.items():
        pad = " " * (width + 1 - cell_len(kind + ":"))
        say(f"  {kind}:{pad} " + _("{count} of {n} runs").format(count=count, n=n))
    if goal.kind != "bug":
        say("  " + _("(this scenario's checks claim its bug: they fail in a run without it)"))
    say("  " + _("{n} distinct outcome(s):").format(n=report.distinct))
    for line, count in report.outcomes.most_common():
        say(f"    {count:>5} × {line}")


def explain_error(report: Any, args: argparse.Namespace, names: list[str], sid: str) -> int:
    """A run ended in an error: shown as such, with its trace, never retried (see
    ``Explorer.search``); exit 2, as ``ipcviz run`` exits on that run."""
    from ipcviz.explore.search import runs_of, schedule_text

    bad = report.errors[-1]
    why = bad.errors[0] if bad.errors else _("no reason given")
    say("")
    say(_("run {n} ended in an error: {why}").format(n=report.error_at, why=why))
    if bad.trace:
        say(_("its trace: {path}").format(path=bad.trace))
    if bad.steps and all(n in names for n in bad.choices):
        sets = " ".join(x for pair in args.set for x in ("--set", pair))
        quick = " --quick" if args.quick else ""
        schedule = schedule_text(runs_of(bad.choices))
        command = f"ipcviz run {args.scenario}{quick}{(' ' + sets) if sets else ''}"
        say(
            _("its steps up to the error: {command}").format(
                command=f"{command} --schedule {schedule}"
            )
        )
    raise IpcvizError(
        _("run {n} of {id} failed: {why}").format(n=report.error_at, id=sid, why=why)
        + (_(" (trace: {path})").format(path=bad.trace) if bad.trace else "")
    )


def show_failure(
    report: Any, path: Path, args: argparse.Namespace, values: Any, goal: Any, names: list[str]
) -> int:
    """The failure found: its schedule, shortened, and what that schedule alone shows,
    read from a fresh ``ipcviz run --schedule``-style replay (its trace is the one named)."""
    from ipcviz.explore.search import schedule_text, signature
    from ipcviz.scenario.settings import settings_args

    say("")
    say(_("found in run {n}: {what}").format(n=report.found_at, what=kind_of(goal, report.failing)))
    choices = report.failing.choices
    schedule = schedule_text(report.schedule)
    unnamed = sorted({n for n in choices if n not in names})
    if unnamed:
        say(
            _(
                "(processes forked by workers ({names}) cannot be named in --schedule: this "
                "interleaving cannot be replayed)"
            ).format(names=", ".join(unnamed))
        )
        return EXIT_FOUND
    if not report.replays:
        say(
            _(
                "warning: its steps, given as a schedule, did not fail the same way again: "
                "the scenario depends on more than the order of its operations (not shortened)"
            )
        )
    elif report.shrink_runs:
        found = report.found_schedule.split(",")
        say(
            _("as found: {schedule} ({n} items)").format(
                schedule=report.found_schedule, n=len(found)
            )
        )
        say(
            _(
                "shortened in {runs} more runs (each run for real, kept only if it still "
                "failed the same way): {n} items"
            ).format(runs=report.shrink_runs, n=len(report.schedule))
        )
    bad = [r for r in report.errors if r.trace]
    if bad:
        say(_("warning: {n} shortening run(s) ended in an error; their traces:").format(n=len(bad)))
        for r in bad:
            say(f"  {r.trace} ({r.errors[0] if r.errors else _('no reason given')})")
    sets = " ".join(settings_args(values))
    quick = " --quick" if args.quick else ""
    trace, again = reproduce(path, args, schedule)
    say(_("what this schedule shows (replayed by itself, as `ipcviz run` does):"))
    shown = found_line(goal, again)
    if shown is None:
        say("  " + _("nothing: {goal} did not happen").format(goal=repr(goal.text(get_lang()))))
    elif not again.failed_checks or goal.kind != "bug":  # (a failed check: listed below)
        say(f"  {shown}")
    for ok, description, detail in again.checks:
        verdict = _("ok") if ok else _("FAILED")
        said = _("check {verdict}: {description}").format(verdict=verdict, description=description)
        say(f"  {said}" + (f" ({detail})" if detail else ""))
    if signature(goal, again) != signature(goal, report.failing) or not same_steps(
        again.choices, choices
    ):
        say(
            _(
                "warning: the replay did not take the same steps or fail the same way "
                "(is the scenario deterministic?)"
            )
        )
    say(_("schedule: {schedule}").format(schedule=f"--schedule {schedule}"))
    command = f"ipcviz run {args.scenario}{quick}{(' ' + sets) if sets else ''}"
    say(_("reproduce: {command}").format(command=f"{command} --schedule {schedule}"))
    say(_("trace: {path}").format(path=trace))
    return EXIT_FOUND


def kind_of(goal: Any, result: Any) -> str:
    """What the found run showed, without its numbers: the schedule printed is shorter,
    and the numbers printed are those of its replay."""
    from ipcviz.explore.search import signature

    how = signature(goal, result) or "?"
    said = {
        "lost_update": _("a lost update"),
        "deadlock": _("a deadlock"),
        "claim": _("the goal ({goal})").format(goal=goal.text(get_lang())),
        "lost update": _("a lost update"),
        "timeout": _("a run that did not end (timeout)"),
    }.get(how)
    if said is not None:
        return said
    if how.startswith("check: "):
        return _("a failed check: {check}").format(check=how[len("check: ") :])
    return how


def same_steps(replayed: list[str], explored: list[str]) -> bool:
    """The replay took the explored run's steps. Where the schedule ended with one process
    left, the replay runs it free (no steps at the gate), the explored run stepped it."""
    rest = explored[len(replayed) :]
    return explored[: len(replayed)] == replayed and len(set(rest)) <= 1


def found_line(goal: Any, result: Any) -> str | None:
    from ipcviz.explore.goals import found

    what = found(goal, result)
    if what is None:
        return None
    if result.lost_at is not None and goal.kind in ("lost_update", "bug") and "lost" in what:
        what += _(" (the first at step {n})").format(n=result.lost_at)
    elif result.deadlock_at is not None and "deadlock" in what:
        what += _(" (at step {n})").format(n=result.deadlock_at)
    return what


def reproduce(path: Path, args: argparse.Namespace, schedule: str) -> tuple[Path, Any]:
    """Record the failing interleaving the way ``ipcviz run --schedule`` runs it (a fresh
    engine process, the schedule given on its command line): the trace to show, and what
    the printed schedule alone makes happen (the numbers printed are this run's)."""
    from ipcviz.cli import trace_path_for
    from ipcviz.engine.client import EngineProcess
    from ipcviz.explore.result import RunResult
    from ipcviz.explore.runner import summarize
    from ipcviz.session.registry import new_session_id

    sid = new_session_id()
    trace = trace_path_for(path, args.record, sid)
    engine = EngineProcess(
        path,
        trace,
        timeout=-1.0,
        quick=args.quick,
        sid=sid,
        schedule=schedule,
        end_on_deadlock=True,
        settings=tuple(args.set),
    )
    kept: list[dict[str, Any]] = []
    outcome = "stopped"
    try:
        for event in engine.events():
            if event.get("kind") == "session.end":
                outcome = str(event.get("outcome", "stopped"))
            if event.get("kind") in _JUDGED:
                kept.append(event)
        engine.terminate()
    finally:
        if engine.proc.poll() is None:
            engine.terminate(grace=1.0)
        engine.close()
    return trace, RunResult.from_json(summarize(kept, None, outcome))


_JUDGED = frozenset(
    {"check", "deadlock", "race.lost_update", "error", "proc.error", "gate.step", "proc.start"}
)


def say(line: str) -> None:
    from ipcviz.bytefmt import safe_text

    sys.stdout.write(safe_text(line, 2000) + "\n")
    sys.stdout.flush()
