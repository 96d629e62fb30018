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

EXIT_CLEAN, EXIT_FOUND, EXIT_BAD_INPUT = 0, 1, 2


def add_parser(sub: Any, set_option: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "explore",
        help="search the interleavings of a scenario for one that breaks it (exit 1: found)",
        description="Run the scenario again and again under the step gate, choosing who goes "
        "next systematically (PCT or a preemption-bounded DFS), until a check fails, an "
        "update is lost or the processes deadlock, or the budget is spent. Prints the "
        "failing interleaving, shortened, as a --schedule for `ipcviz run`.",
    )
    p.add_argument("scenario", metavar="SCENARIO|FILE")
    p.add_argument("--budget", type=int, default=200, metavar="N", help="runs at most (200)")
    p.add_argument(
        "--strategy",
        choices=["pct", "dfs", "random"],
        default="pct",
        help="pct: random priorities with D-1 change points (default); dfs: depth-first "
        "over the interleavings with at most D preemptions; random: run i is `run --seed "
        "S+i` (the baseline the others beat)",
    )
    p.add_argument(
        "--depth",
        type=int,
        metavar="D",
        help="pct: the bug depth (default 2); dfs: the preemption bound (default 2)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="pct's random seed (0)")
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="J",
        help="runs at once (default: 2 if the machine has 2 CPUs or more); the results are "
        "the same as one after another (dfs runs one at a time)",
    )
    p.add_argument("--quick", action="store_true", help="the scenario's shorter settings")
    p.add_argument(
        "--timeout", type=float, metavar="S", help="per run (default: the scenario's limit)"
    )
    p.add_argument(
        "--no-shrink", action="store_true", help="print the failing interleaving as found"
    )
    p.add_argument("--record", metavar="PATH", type=Path, help="trace of the failing run (new)")
    set_option(p)


def cmd_explore(args: argparse.Namespace) -> int:
    from ipcviz.explore.goals import goal_of
    from ipcviz.explore.search import Explorer, compress, switches
    from ipcviz.explore.strategies import make
    from ipcviz.scenario.loader import load, resolve
    from ipcviz.scenario.settings import apply_settings, parse_settings, settings_args
    from ipcviz.session.registry import runtime_dir

    if args.budget < 1:
        raise IpcvizError(f"--budget {args.budget}: give at least 1 run")
    if args.depth is not None and args.depth < (1 if args.strategy == "pct" else 0):
        raise IpcvizError(f"--depth {args.depth}: too small for --strategy {args.strategy}")
    if args.jobs is not None and not 1 <= args.jobs <= 64:
        raise IpcvizError(f"--jobs {args.jobs}: give 1 to 64 runs at once")
    jobs = args.jobs or min(2, os.cpu_count() or 1)
    if args.timeout is not None and args.timeout <= 0:
        raise IpcvizError(f"--timeout {args.timeout:g}: give a positive number of seconds")
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
        raise IpcvizError(f"scenario {scenario.id}: explore needs two stepped processes or more")
    strategy = make(args.strategy, names, args.seed, args.depth)
    timeout = args.timeout or scenario.timeout
    how = {
        "pct": lambda: f"pct, depth {strategy.depth}, seed {args.seed}",  # type: ignore[attr-defined]
        "dfs": lambda: f"dfs, at most {strategy.bound} preemption(s)",  # type: ignore[attr-defined]
        "random": lambda: f"random, seeds {args.seed}…{args.seed + args.budget - 1}",
    }[args.strategy]()
    say(f"exploring {scenario.id} ({how}, budget {args.budget} runs)")
    say(f"goal: {goal.en}")
    started = time.monotonic()
    last = [started]

    def progress(report: Any) -> None:
        now = time.monotonic()
        if now - last[0] >= 1.0 or report.runs in (1, 10) or report.runs % 50 == 0:
            last[0] = now
            say(f"  {report.runs} runs, {report.distinct} distinct outcome(s)")

    with Explorer(scenario, goal, timeout, args.quick) as explorer, explorer.stoppable():
        report = explorer.search(strategy, args.budget, progress, jobs=jobs)
        searched = time.monotonic() - started
        if report.found and not args.no_shrink:
            explorer.shrink(report)
    say(
        f"{report.runs} runs in {searched:.1f} s ({report.runs / max(searched, 1e-9):.1f} runs/s), "
        f"{report.distinct} distinct outcome(s)"
        + (" — every interleaving within the bound was tried" if report.exhausted else "")
    )
    say("outcomes:")
    for line, count in report.outcomes.most_common():
        say(f"  {count:>5} × {line}")
    if report.failing is None:
        say(f"nothing found: {goal.en!r} did not happen in {report.runs} runs")
        return EXIT_CLEAN
    choices = report.failing.choices
    schedule = compress(choices)
    say(f"found in run {report.found_at}: {report.found}")
    if report.shrink_runs:
        say(
            f"shortened in {report.shrink_runs} more runs: {len(choices)} steps, "
            f"{switches(choices)} switch(es) between processes"
        )
    sets = " ".join(settings_args(values))
    quick = " --quick" if args.quick else ""
    unnamed = sorted({n for n in choices if n not in names})
    if unnamed:
        say(
            f"(processes forked by workers ({', '.join(unnamed)}) cannot be named in "
            "--schedule: this interleaving cannot be replayed)"
        )
        return EXIT_FOUND
    say(f"schedule: --schedule {schedule}")
    say(
        f"reproduce: ipcviz run {args.scenario}{quick}{(' ' + sets) if sets else ''} "
        f"--schedule {schedule}"
    )
    trace, again = reproduce(path, args, schedule, goal)
    say(f"trace: {trace}")
    if again is None:
        say("warning: the recorded run did not show it again (is the scenario deterministic?)")
    return EXIT_FOUND


def reproduce(path: Path, args: argparse.Namespace, schedule: str, goal: Any) -> tuple[Path, Any]:
    """Record the failing interleaving the way ``ipcviz run --schedule`` runs it (a fresh
    engine process, the schedule given on its command line): the trace to show, and the
    proof that the printed schedule alone makes it happen."""
    from ipcviz.cli import trace_path_for
    from ipcviz.engine.client import EngineProcess
    from ipcviz.explore.goals import found
    from ipcviz.explore.result import RunResult
    from ipcviz.explore.runner import summarize
    from ipcviz.session.registry import new_session_id

    sid = new_session_id()
    trace = trace_path_for(path, args.record, sid)
    extra = ["--schedule", schedule, "--end-on-deadlock"]
    extra += [x for pair in args.set for x in ("--set", pair)]
    engine = EngineProcess(path, trace, timeout=-1.0, quick=args.quick, extra=extra, sid=sid)
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
    result = RunResult.from_json(summarize(kept, [], outcome))
    return trace, found(goal, result)


_JUDGED = frozenset({"check", "deadlock", "race.lost_update", "error", "proc.error"})


def say(line: str) -> None:
    from ipcviz.bytefmt import safe_text

    sys.stdout.write(safe_text(line, 2000) + "\n")
    sys.stdout.flush()
