"""``python -m ipcviz.engine``: started by the CLI or the TUI with ``subprocess``, never forked.

Events go to stdout (JSON Lines) and to the trace file; control commands come on stdin.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ipcviz.engine.engine import Engine
from ipcviz.engine.gate import check_pace, check_schedule
from ipcviz.errors import IpcvizError, ScenarioError
from ipcviz.scenario.api import Scenario
from ipcviz.scenario.loader import load
from ipcviz.scenario.settings import apply_settings, parse_settings

SID_RE = re.compile(r"^[0-9a-f]{8,32}$")


def _control_header(args: argparse.Namespace, declared: str | None) -> dict:
    """The language, and how the run was stepped: a seeded run says so in its trace."""
    extra: dict = {"lang": args.lang}
    if args.seed is not None:
        extra["seed"] = args.seed
    if args.schedule is not None:
        extra["schedule"] = args.schedule
    if declared:
        extra["schedule"] = declared
        extra["schedule_declared"] = True  # the scenario's own, not the user's
    if args.present:
        extra["present"] = True
    if args.pace is not None:
        extra["pace"] = args.pace
    return extra


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ipcviz.engine")
    ap.add_argument("scenario", help="path of the scenario file")
    ap.add_argument("--trace", required=True, type=Path)
    ap.add_argument("--timeout", type=float, default=0.0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--lang", default="en")
    ap.add_argument("--sid", default=None, help="session id (chosen by the viewer)")
    ap.add_argument("--seed", type=int, default=None, help="step mode, seeded choice")
    ap.add_argument("--schedule", default=None, help="step mode, in this order (names)")
    ap.add_argument("--end-on-deadlock", action="store_true", help="headless: end the run")
    ap.add_argument("--step", action="store_true", help="start in step mode (user steps)")
    ap.add_argument("--set", action="append", default=[], help="KEY=VALUE: a scenario setting")
    ap.add_argument("--present", action="store_true", help="pause at each narration step")
    ap.add_argument("--pace", default=None, help="at most this many operations per second")
    ap.add_argument(
        "--no-trace", action="store_true", help="workers run untraced (a benchmark's baseline)"
    )
    ap.add_argument(
        "--program",
        action="store_true",
        help="run what follows -- under strace (SCENARIO: a label)",
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    program: list[str] = []
    if "--" in argv:  # ``--program -- PROG ARGS…``: the program's own arguments, untouched
        program = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    args = ap.parse_args(argv)
    if args.program:
        return _run_program(args, program)
    try:
        scenario = load(Path(args.scenario))
        if args.set:
            apply_settings(scenario, parse_settings(args.set))
        if args.schedule is not None:
            check_schedule(scenario, args.schedule)
        if args.pace is not None:
            args.pace = check_pace(args.pace)
        declared = _declared_schedule(args, scenario)
    except IpcvizError as exc:
        from ipcviz.engine.failed import record_failure

        record_failure(args.trace, args.scenario, str(exc))
        return exc.exit_code
    # -1: the scenario's own limit (headless default); 0: none (the TUI's default)
    timeout = scenario.timeout if args.timeout < 0 else args.timeout
    if args.sid is not None and not SID_RE.match(args.sid):
        print(f"ipcviz: --sid {args.sid!r}: 8 to 32 lowercase hex digits", file=sys.stderr)
        return 2
    try:
        engine = Engine(
            scenario,
            args.trace,
            timeout=timeout,
            quick=args.quick,
            header_extra=_control_header(args, declared),
            traced=not args.no_trace,
            sid=args.sid,
        )
    except IpcvizError as exc:  # the trace exists, the runtime directory is not ours, …
        print(f"ipcviz: {exc}", file=sys.stderr)
        return exc.exit_code
    engine.gate.configure(
        args.seed,
        args.schedule or declared,
        end_on_deadlock=args.end_on_deadlock,
        step=args.step,
        present=args.present,
        pace=args.pace,
    )
    return engine.run()


def _run_program(args: argparse.Namespace, program: list[str]) -> int:
    """``ipcviz run -- PROG ARGS…``: the program under strace (ipcviz/sources/strace)."""
    from ipcviz.sources.strace.engine import ProgramEngine

    if not program:
        print("ipcviz: --program needs -- PROG [ARGS…]", file=sys.stderr)
        return 2
    if args.sid is not None and not SID_RE.match(args.sid):
        print(f"ipcviz: --sid {args.sid!r}: 8 to 32 lowercase hex digits", file=sys.stderr)
        return 2
    try:
        engine = ProgramEngine(
            program,
            args.trace,
            timeout=max(args.timeout, 0.0) if args.timeout >= 0 else 60.0,
            header_extra={"lang": args.lang},
            sid=args.sid,
        )
    except IpcvizError as exc:
        print(f"ipcviz: {exc}", file=sys.stderr)
        return exc.exit_code
    return engine.run()


def _declared_schedule(args: argparse.Namespace, scenario: Scenario) -> str | None:
    """The scenario's own schedule (it forces its race or deadlock on every run), unless
    the user chose the interleaving (--schedule, --seed) or steps by hand (--step)."""
    if args.schedule is not None or args.seed is not None or args.step:
        return None
    try:
        text = scenario.schedule_for(scenario.settings(args.quick))
    except Exception as exc:  # a scenario's bug: one line, exit 2
        raise ScenarioError(f"scenario {scenario.id}: its schedule raised {exc!r}") from None
    if not text:
        return None
    try:
        check_schedule(scenario, text)
    except IpcvizError as exc:
        raise ScenarioError(f"scenario {scenario.id}: declared {exc}") from None
    return text


if __name__ == "__main__":
    sys.exit(main())
