"""The ``ipcviz`` command. Imports nothing heavy at module level: ``--help`` is instant."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from ipcviz import __version__
from ipcviz.errors import IpcvizError

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="ipcviz",
        description="Watch inter-process communication happen on the real Linux kernel.",
        epilog="Exit codes: 0 success, 1 a scenario check failed, 2 bad input or usage. "
        "With no command, opens the scenario picker.",
    )
    ap.add_argument("--version", action="version", version=f"ipcviz {__version__}")
    ap.add_argument(
        "--present", action="store_true", help="picker, then presenter mode (see run --present)"
    )
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list the built-in scenarios")
    p.add_argument("--json", action="store_true", help="id, title and teaching points as JSON")

    p = sub.add_parser("run", help="run a scenario (built-in id or FILE.py)")
    p.add_argument("scenario", metavar="SCENARIO|FILE")
    _viewer_options(p)
    p.add_argument("--record", metavar="PATH", type=Path, help="trace file to write")
    p.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="stop the run after S seconds (default: the scenario's own limit "
        "headless, none in the TUI)",
    )
    p.add_argument("--quick", action="store_true", help="shorter settings (for CI)")
    p.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="step mode: at every gate the engine picks who goes next with random.Random(N); "
        "the same seed gives the same interleaving",
    )
    p.add_argument(
        "--schedule",
        metavar="A,B,...",
        help="step mode: processes go in this order (NAME, NAME*K for K operations, NAME* "
        "until it ends or blocks); afterwards seeded if --seed is given, else free-running",
    )

    p = sub.add_parser("replay", help="replay a recorded trace")
    p.add_argument("trace", metavar="TRACE", type=Path)
    _viewer_options(p)

    p = sub.add_parser("export", help="export a trace (perfetto, svg, html)")
    p.add_argument("trace", metavar="TRACE", type=Path)
    p.add_argument("--format", required=True, choices=["perfetto", "svg", "html"])
    p.add_argument("-o", "--output", required=True, type=Path)

    p = sub.add_parser(
        "verify",
        help="check that a trace is a legal history of every object (exit 1: it is not)",
    )
    p.add_argument("trace", help="a trace file (.jsonl)")
    sub.add_parser("clean", help="remove kernel objects left by your dead sessions")
    sub.add_parser("runs", help="list recorded runs")

    p = sub.add_parser("serve", help="serve the app to web browsers (textual-serve)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--present", action="store_true", help="sessions open in presenter mode")
    return ap


def _viewer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--headless", action="store_true", help="print the narrated log instead")
    p.add_argument(
        "--present",
        action="store_true",
        help="presenter mode: big narration, the run pauses at each narration step "
        "(→ continue, ← previous step's text, l English/Korean)",
    )
    p.add_argument(
        "--lang",
        choices=["en", "ko"],
        default=None,
        help="narration language (default: from the locale)",
    )


def default_lang() -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def require_linux() -> None:
    if not sys.platform.startswith("linux"):
        raise IpcvizError(
            f"ipcviz runs scenarios on Linux only (this is {sys.platform}): it watches Linux "
            "kernel objects; `ipcviz replay` of a recorded trace works anywhere"
        )


# -- commands --------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    from ipcviz.scenario.loader import load_builtins

    scenarios = load_builtins()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": s.id,
                        "title": s.title,
                        "teaches": list(s.teaches),
                        "description": s.description,
                    }
                    for s in scenarios
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return EXIT_OK
    width = max((len(s.id) for s in scenarios), default=10)
    for s in scenarios:
        print(f"{s.id:<{width}}  {s.title}  [{' '.join(s.teaches)}]")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    require_linux()
    from ipcviz.scenario.loader import resolve

    path = resolve(args.scenario)
    lang = args.lang or default_lang()
    control = _control_args(args)
    if args.present and args.headless:
        raise IpcvizError(
            "--present needs the screen (it waits for → at each step): drop --headless"
        )
    if args.headless:
        return run_headless(
            path, args.record, args.timeout, args.quick, lang, [*control, "--end-on-deadlock"]
        )
    from ipcviz.tui.launch import run_tui

    return run_tui(
        path,
        record=args.record,
        timeout=args.timeout,
        quick=args.quick,
        lang=lang,
        present=args.present,
        engine_args=control,  # the TUI's engine steps the same way (--seed, --schedule)
    )


def _control_args(args: argparse.Namespace) -> list[str]:
    """--seed/--schedule for the engine; a malformed schedule is a usage error (exit 2)."""
    out: list[str] = []
    if args.seed is not None:
        out += ["--seed", str(args.seed)]
    if args.schedule is not None:
        from ipcviz.engine.gate import parse_schedule

        parse_schedule(args.schedule)  # names are checked by the engine, against the scenario
        out += ["--schedule", args.schedule]
    return out


def trace_path_for(scenario_path: Path, record: Path | None) -> Path:
    from ipcviz.engine.client import default_trace_path
    from ipcviz.events.trace import default_trace_dir

    if record is not None:
        if record.is_dir():
            raise IpcvizError(f"--record {record} is a directory; give a file path")
        return record
    stem = scenario_path.stem.replace("_", "-")
    return default_trace_path(stem, default_trace_dir())


def run_headless(
    path: Path,
    record: Path | None,
    timeout: float | None,
    quick: bool,
    lang: str,
    engine_args: list[str] | None = None,
) -> int:
    from ipcviz.engine.client import EngineProcess
    from ipcviz.narrate.headless import Narrator
    from ipcviz.session.cleanup import clean

    trace = trace_path_for(path, record)
    engine = EngineProcess(
        path,
        trace,
        timeout=-1.0 if timeout is None else timeout,
        quick=quick,
        lang=lang,
        extra=engine_args,
    )
    print(f"# recording to {trace}", flush=True)

    def stop(signum: int, _frame: Any) -> None:
        engine.stop()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    narrator: Narrator | None = None
    errors: list[str] = []
    end: dict[str, Any] | None = None
    try:
        for event in engine.events():
            if narrator is None:
                narrator = Narrator(event, lang)
                _print(narrator.intro())
                continue
            _print(narrator.feed(event))
            kind = event["kind"]
            if kind == "error":
                errors.append(event.get("message", ""))
            elif kind == "proc.error":
                errors.append(_worker_error(narrator, event))
            elif kind == "recording.stopped":
                errors.append(event.get("message", "recording stopped"))
            elif kind == "session.end":
                end = event
    except BrokenPipeError:  # our stdout was closed (e.g. `| head`): stop the run cleanly
        engine.stop()
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    rc = engine.wait()
    engine_err = engine.stderr_tail()
    engine.close()
    if rc < 0 or end is None:
        clean()  # the engine died without cleaning up: remove what it left
        detail = f" ({engine_err.splitlines()[-1]})" if engine_err else ""
        print(
            f"ipcviz: the engine stopped unexpectedly (status {rc}){detail}; trace so far: {trace}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    for message in errors:
        print(f"ipcviz: {message}", file=sys.stderr)
    return rc


def _worker_error(narrator: Any, event: dict[str, Any]) -> str:
    from ipcviz.narrate.headless import safe

    lines = event.get("text", "").strip().splitlines()
    where = next((ln.strip() for ln in reversed(lines) if ln.strip().startswith("File ")), "")
    last = lines[-1] if lines else "an exception"
    name = narrator.state.proc_name(event["pid"])
    return safe(f"worker {name} raised {last}" + (f" ({where})" if where else ""), 300)


def _print(lines: list[str]) -> None:
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()


def cmd_replay(args: argparse.Namespace) -> int:
    from ipcviz.events.trace import TraceReader

    reader = TraceReader.open(args.trace)
    lang = args.lang or default_lang()
    if args.present and args.headless:
        raise IpcvizError("--present needs the screen: drop --headless")
    if args.present:
        from ipcviz.tui.present import replay_present

        return replay_present(reader.path, lang=lang)
    if not args.headless:
        from ipcviz.tui.launch import replay_tui

        return replay_tui(reader, lang=lang)
    from ipcviz.narrate.headless import Narrator

    narrator = Narrator(reader.header, lang)
    print(f"# replaying {args.trace}")
    _print(narrator.intro())
    for event in reader.events():
        _print(narrator.feed(event))
    if reader.notice:
        print(f"ipcviz: {reader.notice}", file=sys.stderr)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from ipcviz.export import export

    return export(args.trace, args.format, args.output)


def cmd_verify(args: argparse.Namespace) -> int:
    """One line per violation (exit 1), or one line saying the history is legal (exit 0)."""
    from ipcviz.bytefmt import safe_text
    from ipcviz.events.trace import TraceError, TraceReader
    from ipcviz.model.verify import check

    reader = TraceReader.open(args.trace)
    found = 0
    count = 0

    def counted() -> Any:
        nonlocal count
        for event in reader.events():
            count += 1
            yield event

    try:
        for v in check(reader.header, counted()):
            found += 1
            print(safe_text(v.line(), 400))
    except TraceError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        raise IpcvizError(
            f"{args.trace}: event {count} has a malformed field ({type(exc).__name__})"
        ) from None
    if found:
        print(f"{args.trace}: {found} violation(s) in {count} events", file=sys.stderr)
        return EXIT_CHECK_FAILED
    print(f"{args.trace}: legal history ({count} events)")
    return EXIT_OK


def cmd_clean(args: argparse.Namespace) -> int:
    require_linux()
    from ipcviz.session.cleanup import clean

    counts = clean()
    print(
        f"removed {counts['objects']} object(s) and {counts['processes']} process group(s) "
        f"of {counts['sessions']} dead session(s); {counts['live_sessions']} live session(s) "
        "left alone"
    )
    return EXIT_OK


def cmd_picker(args: argparse.Namespace) -> int:
    require_linux()
    from ipcviz.tui.launch import run_picker

    return run_picker(lang=default_lang(), present=args.present)


def cmd_serve(args: argparse.Namespace) -> int:
    require_linux()
    from ipcviz.serve import serve

    return serve(host=args.host, port=args.port, present=args.present)


def cmd_runs(args: argparse.Namespace) -> int:
    from ipcviz.events.runs import list_runs

    runs = list_runs()
    if not runs:
        print("no recorded runs yet (ipcviz run SCENARIO records one)")
    for run in runs:
        print(
            f"{run.started}  {run.scenario:<20} {run.duration:>7.2f}s {run.events:>8} events  "
            f"{run.outcome or 'incomplete':<10} {run.path}"
        )
    return EXIT_OK


COMMANDS = {
    "list": cmd_list,
    "run": cmd_run,
    "replay": cmd_replay,
    "export": cmd_export,
    "verify": cmd_verify,
    "clean": cmd_clean,
    "runs": cmd_runs,
    "serve": cmd_serve,
    None: cmd_picker,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except IpcvizError as exc:
        print(f"ipcviz: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
