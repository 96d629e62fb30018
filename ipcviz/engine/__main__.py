"""``python -m ipcviz.engine``: started by the CLI or the TUI with ``subprocess``, never forked.

Events go to stdout (JSON Lines) and to the trace file; control commands come on stdin.
The command line is ``EngineOptions.argv()`` (ipcviz/engine/options.py), read back here by
``EngineOptions.from_argv``.
"""

from __future__ import annotations

import re
import signal
import sys
from pathlib import Path

from ipcviz import i18n
from ipcviz.engine.engine import Engine
from ipcviz.engine.gate import check_pace, check_schedule
from ipcviz.engine.options import EngineOptions
from ipcviz.errors import IpcvizError, ScenarioError
from ipcviz.i18n import N_, _
from ipcviz.scenario.api import Scenario
from ipcviz.scenario.loader import load
from ipcviz.scenario.settings import apply_settings, parse_settings

SID_RE = re.compile(r"^[0-9a-f]{8,32}$")


def _control_header(opts: EngineOptions, declared: str | None) -> dict:
    """The language, and how the run was stepped: a seeded run says so in its trace."""
    extra: dict = {"lang": opts.lang}
    if opts.seed is not None:
        extra["seed"] = opts.seed
    if opts.schedule is not None:
        extra["schedule"] = opts.schedule
    if declared:
        extra["schedule"] = declared
        extra["schedule_declared"] = True  # the scenario's own, not the user's
    if opts.present:
        extra["present"] = True
    if opts.pace is not None:
        extra["pace"] = opts.pace
    return extra


def main(argv: list[str] | None = None) -> int:
    try:
        opts = EngineOptions.from_argv(sys.argv[1:] if argv is None else argv)
    except IpcvizError as exc:
        print(f"ipcviz: {exc}", file=sys.stderr)
        return exc.exit_code
    if opts.lang in i18n.LANGS:  # what it says on stderr, in the run's language
        i18n.set_lang(opts.lang)
    return run(opts)


def run(opts: EngineOptions) -> int:
    """One engine run as ``opts`` asks; returns its exit code."""
    if opts.attach:
        return _run_attach(opts)
    if opts.program:
        return _run_program(opts)
    try:
        with i18n.speaking("en"):  # a failure here is recorded in the trace: in English
            scenario, declared, opts = _prepare(opts)
    except IpcvizError as exc:
        from ipcviz.engine.failed import tell_failure

        tell_failure(str(opts.scenario), str(exc))  # bad input: no trace file
        return exc.exit_code
    # -1: the scenario's own limit (headless default); 0: none (the TUI's default)
    timeout = scenario.timeout if opts.timeout < 0 else opts.timeout
    if opts.sid is not None and not SID_RE.match(opts.sid):
        print("ipcviz: " + _bad_sid(opts.sid), file=sys.stderr)
        return 2
    if not _replace_old_trace(opts):
        return 2
    engine_class = Engine
    if any(p.argv is not None and p.trace for p in scenario.processes):
        from ipcviz.sources.strace.commands import CommandsEngine

        engine_class = CommandsEngine  # its commands seen through strace
    try:
        engine = engine_class(
            scenario,
            opts.trace,
            timeout=timeout,
            quick=opts.quick,
            header_extra=_control_header(opts, declared),
            traced=opts.traced,
            sid=opts.sid,
            probe_interval=opts.probe_interval,
        )
    except IpcvizError as exc:  # the trace exists, the runtime directory is not ours, …
        print(f"ipcviz: {exc}", file=sys.stderr)
        return exc.exit_code
    engine.gate.configure(
        opts.seed,
        opts.schedule or declared,
        end_on_deadlock=opts.end_on_deadlock,
        step=opts.step,
        present=opts.present,
        pace=opts.pace,
    )
    return engine.run()


def _prepare(opts: EngineOptions) -> tuple[Scenario, str | None, EngineOptions]:
    """The scenario, its declared schedule and the options checked against it (a user's
    error: IpcvizError)."""
    scenario = load(Path(opts.scenario))
    example = getattr(scenario, "example", "")
    if example and not scenario.processes:  # a C example's: its program runs it
        raise ScenarioError(
            f"{opts.scenario} narrates the C example {example}: `ipcviz run {example}`"
        )
    if opts.settings:
        apply_settings(scenario, parse_settings(list(opts.settings)))
    if opts.schedule is not None:
        check_schedule(scenario, opts.schedule)
    if opts.pace is not None:
        opts = opts.replace(pace=check_pace(opts.pace))
    return scenario, _declared_schedule(opts, scenario), opts


def _replace_old_trace(opts: EngineOptions) -> bool:
    """``--force``: the old trace goes now that the input proved good (False: it cannot,
    said in one line)."""
    if not opts.overwrite:
        return True
    from ipcviz.engine.client import claim_record_path

    try:
        claim_record_path(opts.trace, force=True, remove=True)
    except IpcvizError as exc:
        print(f"ipcviz: {exc}", file=sys.stderr)
        return False
    return True


def _bad_sid(sid: str) -> str:
    return _("--sid {sid}: 8 to 32 lowercase hex digits").format(sid=repr(sid))


def _run_program(opts: EngineOptions) -> int:
    """``ipcviz run -- PROG ARGS…``: the program under strace (ipcviz/sources/strace), or,
    where strace cannot run, seen by the kernel probes alone."""
    from ipcviz.sources.strace.commands import why_untraced

    if opts.sid is not None and not SID_RE.match(opts.sid):
        print("ipcviz: " + _bad_sid(opts.sid), file=sys.stderr)
        return 2
    timeout = max(opts.timeout, 0.0) if opts.timeout >= 0 else 60.0
    if not _replace_old_trace(opts):
        return 2
    make = _program_engine if why_untraced() is None else _untraced_program_engine
    try:
        engine = make(opts, timeout)
    except IpcvizError as exc:
        print(f"ipcviz: {exc}", file=sys.stderr)
        return exc.exit_code
    # headless: a proven deadlock is ended, by one victim (ProgramEngine.break_deadlock)
    engine.gate.end_on_deadlock = opts.end_on_deadlock
    return engine.run()


def _program_engine(opts: EngineOptions, timeout: float) -> Engine:
    from ipcviz.sources.strace.engine import ProgramEngine

    return ProgramEngine(
        list(opts.program),
        opts.trace,
        scenario=_program_scenario(opts.scenario),
        timeout=timeout,
        header_extra=_program_header(opts),
        sid=opts.sid,
        quick=opts.quick,  # (a program has no settings: recorded as asked, changes nothing)
        ran=list(opts.ran),
    )


def _program_header(opts: EngineOptions) -> dict:
    """The language, and what the user ran if it is not the program itself (a C file)."""
    return {"lang": opts.lang, **({"ran": list(opts.ran)} if opts.ran else {})}


def _untraced_program_engine(opts: EngineOptions, timeout: float) -> Engine:
    """No strace here, or no tracing allowed: the program runs as a scenario's command,
    seen by the kernel probes alone (its pipes' fill level), and the trace's first line
    says why (``notice``)."""
    from ipcviz.sources.strace.commands import CommandsEngine
    from ipcviz.sources.strace.engine import program_scenario

    program = list(opts.program)
    seen = N_("{name} seen by the kernel probes")
    scenario = program_scenario(
        program, timeout or 60.0, _program_scenario(opts.scenario), seen, list(opts.ran)
    )
    name = re.sub(r"[^A-Za-z0-9_-]", "_", Path(program[0]).name)[:32].lstrip("-_") or "program"
    if not name[0].isalpha():
        name = "p" + name[:31]
    scenario.command(name, program)  # traced where it can be: here it cannot (the notice)
    header = {**_program_header(opts), "program": program, "source": "probes"}
    return CommandsEngine(
        scenario, opts.trace, timeout=timeout, header_extra=header, sid=opts.sid, quick=opts.quick
    )


def _run_attach(opts: EngineOptions) -> int:
    """``ipcviz attach PID``: a running process tree under strace -p (ipcviz/sources/strace)."""
    from ipcviz.sources.strace.attached import AttachEngine

    if opts.sid is not None and not SID_RE.match(opts.sid):
        print("ipcviz: " + _bad_sid(opts.sid), file=sys.stderr)
        return 2
    if not _replace_old_trace(opts):
        return 2
    try:
        engine = AttachEngine(
            opts.attach,
            opts.trace,
            duration=max(opts.timeout, 0.0),
            header_extra={"lang": opts.lang},
            sid=opts.sid,
            quick=opts.quick,
        )
    except IpcvizError as exc:
        print(f"ipcviz: {exc}", file=sys.stderr)
        return exc.exit_code
    return engine.run()


def _program_scenario(label: Path) -> Scenario | None:
    """A C example's scenario (``scenarios/c/NAME.py``) when the label names one; else the
    label is only the program's name."""
    from ipcviz.sources.strace.cscenario import ProgramScenario

    if label.suffix != ".py" or not label.is_file():
        return None
    scenario = load(label)
    return scenario if isinstance(scenario, ProgramScenario) else None


def _declared_schedule(opts: EngineOptions, scenario: Scenario) -> str | None:
    """The scenario's own schedule (it forces its race or deadlock on every run), unless
    the user chose the interleaving (--schedule, --seed) or steps by hand (--step)."""
    if opts.schedule is not None or opts.seed is not None or opts.step:
        return None
    try:
        text = scenario.schedule_for(scenario.settings(opts.quick))
    except Exception as exc:  # a scenario's bug: one line, exit 2
        raise ScenarioError(f"scenario {scenario.id}: its schedule raised {exc!r}") from None
    if not text:
        return None
    try:
        check_schedule(scenario, text)
    except IpcvizError as exc:
        raise ScenarioError(f"scenario {scenario.id}: declared {exc}") from None
    return text


def _exit(code: int) -> None:
    """End the process: the viewer's second stop (SIGUSR1, ``EngineProcess.hurry``) that
    comes while the interpreter finishes, its handlers back to the default, is ignored,
    not a death by signal that says "the engine stopped unexpectedly" for a run that
    ended well. (Only now: ignored at the start, it would pass to what the engine runs.)"""
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    sys.exit(code)


if __name__ == "__main__":
    _exit(main())
