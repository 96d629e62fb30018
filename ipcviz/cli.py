"""The ``ipcviz`` command. Imports nothing heavy at module level: ``--help`` is instant."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

from ipcviz import __version__
from ipcviz.engine.options import EngineOptions
from ipcviz.errors import IpcvizError
from ipcviz.i18n import N_, Lazy, _, get_lang, lazy

#: The environment variable in which ``ipcviz serve`` gives each browser session's app
#: its pid: the app ends when the server dies (``_end_with_the_server``).
SERVED_BY = "IPCVIZ_SERVED_BY"

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2

#: argparse's own words (it says them through gettext's ``_``, which ``_argparse_speaks``
#: points at ours): marked here so they are in the catalog.
ARGPARSE_WORDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("show program's version number and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("expected one argument"),
    N_("expected at least one argument"),
    N_("expected at most one argument"),
    N_("invalid %(type)s value: %(value)r"),
    N_("not allowed with argument %s"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("ignored explicit argument %r"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
)
#: outcomes ``ipcviz runs`` shows
OUTCOMES = (
    N_("passed"),
    N_("failed"),
    N_("undecided"),
    N_("error"),
    N_("stopped"),
    N_("timeout"),
    N_("recording"),
    N_("incomplete"),
)


def _argparse_speaks() -> None:
    """argparse words its usage, headings and errors with gettext's ``_`` (a module
    global it looks up when it speaks): ours, so they follow --lang too."""
    argparse._ = _  # type: ignore[attr-defined]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 2, not the usage block too (up to
    six lines before the error, and the top-level usage for a command's unknown argument):
    the line names the command and where its whole usage is. ``--help`` prints it all."""

    def error(self, message: str) -> NoReturn:
        from ipcviz.bytefmt import safe_text

        # inert: an unrecognized argument is quoted as typed, control bytes and all
        message = safe_text(message, 500) + "; " + _("see {help}").format(help=f"{self.prog} -h")
        self.exit(EXIT_BAD_INPUT, _("%(prog)s: error: %(message)s\n") % {
            "prog": self.prog, "message": message})  # fmt: skip

    def parse_args(self, args: Any = None, namespace: Any = None) -> argparse.Namespace:
        """Arguments no parser took are the command's error, said with its name."""
        found, extras = self.parse_known_args(args, namespace)
        if extras:
            command = self._commands.get(getattr(found, "command", None) or "", self)
            command.error(_("unrecognized arguments: %s") % " ".join(extras))
        return found

    @property
    def _commands(self) -> dict[str, argparse.ArgumentParser]:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return dict(action.choices)
        return {}


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="ipcviz",
        description=_("Watch inter-process communication happen on the real Linux kernel."),
        epilog=_(
            "Exit codes: 0 success, 1 a scenario check failed, 2 bad input or usage. "
            "With no command, opens the scenario picker."
        ),
    )
    ap.add_argument("--version", action="version", version=f"ipcviz {__version__}")
    ap.add_argument(
        "--present", action="store_true", help=_("picker, then presenter mode (see run --present)")
    )
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help=_("list the built-in scenarios"))
    p.add_argument(
        "--json",
        action="store_true",
        help=_("id, title, teaching points and --set settings as JSON"),
    )

    p = sub.add_parser(
        "run",
        help=_("run a scenario (built-in id or FILE.py), or any program: run -- PROG ARGS…"),
        description=_(
            "Run a scenario, or watch any program's IPC under strace: "
            "`ipcviz run -- ./a.out ARGS…`; a C example or FILE.c is compiled first "
            "(`ipcviz run c/pipe-parent-child`, `ipcviz run lab.c -- ARGS…`)."
        ),
    )
    p.add_argument("scenario", metavar="SCENARIO|FILE", nargs="?")
    _viewer_options(p)
    p.add_argument("--record", metavar="PATH", type=Path, help=_("trace file to write (new)"))
    p.add_argument("--force", action="store_true", help=_("--record may replace an existing file"))
    p.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help=_(
            "stop the run after S seconds (default: the scenario's own limit "
            "headless, none in the TUI)"
        ),
    )
    p.add_argument("--quick", action="store_true", help=_("shorter settings (for CI)"))
    p.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help=_(
            "step mode: at every gate the engine picks who goes next with random.Random(N); "
            "the same seed gives the same interleaving"
        ),
    )
    p.add_argument(
        "--schedule",
        metavar="A,B,...",
        help=_(
            "step mode: processes go in this order (NAME, NAME*K for K operations, NAME* "
            "until it ends or blocks); afterwards seeded if --seed is given, else free-running"
        ),
    )
    p.add_argument(
        "--pace",
        metavar="OPS",
        help=_(
            "release IPC operations one at a time, at most OPS per second (e.g. 2), so "
            "people can follow them; < > change it on the screen, u removes it"
        ),
    )
    _set_option(p)
    p.add_argument(
        "--challenge",
        action="store_true",
        help=_(
            "you are the scheduler: the run waits for you at every step (s, 1-9, n) and "
            "says when you reached the scenario's goal, in how many steps (x: explore's answer)"
        ),
    )

    p = sub.add_parser(
        "attach",
        help="watch a running process tree's IPC (strace -p); q detaches, it runs on",
        description="Watch a running process and its descendants through strace -p and the "
        "kernel probes. Objects it already holds are shown with the kernel's readings (and "
        "their age); q (or Ctrl-C, --duration) detaches: the processes run on, untouched.",
    )
    p.add_argument("pid", metavar="PID")
    p.add_argument("--headless", action="store_true", help="print the narrated log instead")
    p.add_argument(
        "--lang", choices=["en", "ko"], default=None, help="narration language (default: locale)"
    )
    p.add_argument("--record", metavar="PATH", type=Path, help="trace file to write (new)")
    p.add_argument("--force", action="store_true", help="--record may replace an existing file")
    p.add_argument(
        "--duration",
        type=float,
        metavar="S",
        help="detach after S seconds (default: when stopped, or when every process ended)",
    )

    from ipcviz.explore.cli import add_parser as add_explore

    add_explore(sub, _set_option)

    p = sub.add_parser("replay", help=_("replay a recorded trace"))
    p.add_argument("trace", metavar="TRACE", type=Path)
    _viewer_options(p)

    p = sub.add_parser("export", help=_("export a trace (perfetto, svg, html)"))
    p.add_argument("trace", metavar="TRACE", type=Path)
    p.add_argument("--format", required=True, choices=["perfetto", "svg", "html"])
    p.add_argument("-o", "--output", required=True, type=Path)
    p.add_argument(
        "--force",
        action="store_true",
        help=_(
            "-o may replace an existing file; into a directory of an earlier svg export, "
            "remove only the files that export wrote"
        ),
    )
    p.add_argument(
        "--theme",
        choices=["light", "dark"],
        default=None,
        help=_(
            "handout pictures (svg, html): light for print (the default) or dark as on "
            "the projector"
        ),
    )
    p.add_argument(
        "--view",
        choices=["diagram", "detail"],
        default=None,
        help=_(
            "handout pictures (svg, html): the diagram, as in presenter mode (the default), "
            "or the detail panels"
        ),
    )
    # The handout is in the run's language, not the locale's: it is a record of what the
    # class saw, and the same trace gives the same handout on any machine (a build
    # script under LANG=C made English handouts of a Korean lecture).
    p.add_argument(
        "--lang",
        choices=["en", "ko"],
        default=None,
        help=_(
            "the handout's language (default: the run's, as recorded in the trace, not the "
            "locale's)"
        ),
    )

    p = sub.add_parser(
        "verify",
        help=_("check that a trace is a legal history of every object (exit 1: it is not)"),
    )
    p.add_argument("trace", help=_("a trace file (.jsonl)"))
    sub.add_parser("clean", help=_("remove kernel objects left by your dead sessions"))
    sub.add_parser("runs", help=_("list recorded runs"))

    p = sub.add_parser("serve", help=_("serve the app to web browsers (textual-serve)"))
    p.add_argument("--port", type=int, default=8000, help=_("TCP port (default 8000)"))
    p.add_argument(
        "--host", default="127.0.0.1", help=_("address to listen on (default 127.0.0.1)")
    )
    p.add_argument("--present", action="store_true", help=_("sessions open in presenter mode"))
    _lang_option(ap, dest="top_lang")
    for command in sub.choices.values():  # every command speaks the language asked for
        if "--lang" not in command._option_string_actions:
            _lang_option(command)
    return ap


def _set_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=_("change a scenario setting for this run (e.g. --set increments=3); repeatable"),
    )


def _viewer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--headless", action="store_true", help=_("print the narrated log instead"))
    p.add_argument(
        "--present",
        action="store_true",
        help=_(
            "presenter mode: big narration, the run pauses at each narration step "
            "(→ continue, ← previous step's text, l English/Korean)"
        ),
    )
    _lang_option(p)


def _lang_option(p: argparse.ArgumentParser, dest: str = "lang") -> None:
    """``--lang``: read before the parser is built (``_lang_of``); accepted everywhere."""
    p.add_argument(
        "--lang",
        choices=["en", "ko"],
        default=None,
        dest=dest,
        help=_("language of everything shown (default: from the locale)"),
    )


def default_lang() -> str:
    from ipcviz.i18n import lang_from_env

    return lang_from_env()


def _lang(args: argparse.Namespace) -> str:
    """The run's language: the command's ``--lang``, else the one given before the command
    (``ipcviz --lang ko run …``: it was dropped, and the log came out in English), else
    the locale."""
    return getattr(args, "lang", None) or getattr(args, "top_lang", None) or default_lang()


def _lang_of(argv: list[str]) -> str:
    """The language asked for (``--lang X`` or the locale), known before the parser is
    built, so that its help and errors are in that language too."""
    for i, word in enumerate(argv):
        if word == "--":
            break
        if word.startswith("--lang="):
            value = word.split("=", 1)[1]
        elif word == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        else:
            continue
        from ipcviz.i18n import LANGS

        if value in LANGS:
            return value
    return default_lang()


def require_terminal(headless_hint: str) -> None:
    """Refuse to start the screen unless stdout, stderr and stdin are a terminal (not a
    pipe, a file, cron, CI): Textual draws on stderr and reads keys from stdin, so without
    them it writes escape codes where a log was expected and waits for keys that never
    come. Under ``ipcviz serve`` textual-serve sets TEXTUAL_DRIVER and talks to the app
    over pipes: that screen is real."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return
    for name in ("stdout", "stderr", "stdin"):
        try:
            tty = getattr(sys, name).isatty()
        except (AttributeError, ValueError):  # closed or replaced
            tty = False
        if not tty:
            raise IpcvizError(
                _("{name} is not a terminal: for a text log use {hint}").format(
                    name=name, hint=headless_hint
                )
            )


def require_linux() -> None:
    if not sys.platform.startswith("linux"):
        raise IpcvizError(
            _(
                "ipcviz runs scenarios on Linux only (this is {platform}): it watches Linux "
                "kernel objects; `ipcviz replay` of a recorded trace works anywhere"
            ).format(platform=sys.platform)
        )


# -- commands --------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    """Built-in scenarios in lecture order (by first teaching point), grouped by the notes'
    sections, each teaching point with a few words saying what it is."""
    from ipcviz.scenario.lecture import first_point, gloss, lecture_order, section_of
    from ipcviz.scenario.loader import load_listed
    from ipcviz.scenario.settings import describe

    scenarios = lecture_order(load_listed())
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": s.id,
                        "title": s.title,
                        "title_ko": s.title_ko,
                        "teaches": list(s.teaches),
                        "points": {t: gloss(t).partition(" ")[2] for t in s.teaches},
                        "section": section_of(first_point(s))[0],
                        "description": s.description,
                        "description_ko": s.description_ko,
                        # its ``--set`` keys (none for a C example: its program has none)
                        "settings": describe(s),
                    }
                    for s in scenarios
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return EXIT_OK
    width = max((len(s.id) for s in scenarios), default=10)
    section = None
    for s in scenarios:
        here = section_of(first_point(s))
        if here != section:
            section = here
            print(f"# {here[0]} {here[1]}".replace("#  ", "# "))
        title = s.title_in(get_lang())
        print(f"{s.id:<{width}}  {title}  [{'; '.join(gloss(t) for t in s.teaches)}]")
    return EXIT_OK


def check_timeout(timeout: float | None) -> None:
    """``--timeout S``: a finite number of seconds above 0, or one line (exit 2). The engine
    reads a negative value as "the scenario's own limit" and 0 (or NaN) as "none", so a
    typo would otherwise silently run a headless run with no limit at all."""
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise IpcvizError(
            _("--timeout {n}: give a positive number of seconds").format(n=f"{timeout:g}")
        )


def cmd_run(args: argparse.Namespace) -> int:
    require_linux()
    check_timeout(args.timeout)
    from ipcviz.scenario.loader import resolve
    from ipcviz.session.registry import runtime_dir

    runtime_dir()  # refused in one line here (taken by another user), not in the engine

    program = _program(args)
    lang = _lang(args)
    if program is not None:
        # a C example's scenario file (steps, checks), else only a label: the program's name
        path = _c_scenario(args.scenario) or Path(os.path.basename(program[0]) or "program")
        _check_program_args(args)
        control = EngineOptions.template(program=tuple(program), ran=_ran(args))
    else:
        path = resolve(args.scenario)
        control = _control_options(args)
    control = control.replace(quick=args.quick, lang=lang)
    if program is None and (args.set or not args.headless):
        # a scenario that cannot load is bad input: one line and exit 2 here, not a
        # screen that opens to say ERROR (headless, the engine says it in one line)
        _check_settings(path, args.set or [])
    if args.schedule is not None and program is None:
        _check_schedule(path, args.schedule)
    if args.present and args.headless:
        raise IpcvizError(
            _("--present needs the screen (it waits for → at each step): drop --headless")
        )
    challenge = None
    if args.challenge:
        challenge = _challenge(args, path)
        control = control.replace(step=True)  # the engine starts in step mode
    if args.headless:
        return run_headless(
            control.replace(
                scenario=path,
                end_on_deadlock=True,
                timeout=-1.0 if args.timeout is None else args.timeout,
            ),
            args.record,
            force=args.force,
        )
    require_terminal(f"`{_headless_command(args)}`")
    from ipcviz.tui.launch import run_tui

    return run_tui(
        path,
        record=args.record,
        timeout=args.timeout,
        quick=args.quick,
        lang=lang,
        present=args.present,
        engine_options=control,  # the TUI's engine steps the same way (--seed, …)
        force=args.force,
        session_class=challenge,
    )


def _headless_command(args: argparse.Namespace) -> str:
    """The run as asked, with ``--headless``: what to type for a text log (a program run
    said ``ipcviz run None --headless``)."""
    from ipcviz.bytefmt import shell_words

    words = ["ipcviz", "run", *([args.scenario] if args.scenario is not None else [])]
    given = getattr(args, "program", None)
    return shell_words([*words, "--headless", *(["--", *given] if given else [])])


def cmd_attach(args: argparse.Namespace) -> int:
    """``ipcviz attach PID``: a running tree under strace -p; the end detaches, never kills."""
    require_linux()
    from ipcviz.session.registry import runtime_dir
    from ipcviz.sources.strace.attach import check_pid, check_tools

    runtime_dir()
    pid = check_pid(args.pid)
    check_tools()
    if args.duration is not None and not (math.isfinite(args.duration) and args.duration > 0):
        # (inf, or 1e309, watched until the processes end, as if none were given)
        raise IpcvizError(
            _("--duration {n}: give a number of seconds above 0").format(n=f"{args.duration:g}")
        )
    lang = _lang(args)
    duration = args.duration or 0.0
    label = Path(f"attach-{pid}")
    control = EngineOptions.template(attach=pid, lang=lang)
    if args.headless:
        return run_headless(
            control.replace(scenario=label, timeout=duration), args.record, force=args.force
        )
    require_terminal(f"`ipcviz attach {pid} --headless`")
    from ipcviz.tui.launch import run_tui

    return run_tui(
        label,
        record=args.record,
        timeout=duration,
        lang=lang,
        engine_options=control,
        force=args.force,
    )


def _check_settings(path: Path, pairs: list[str]) -> None:
    """The scenario loads, and ``--set`` values fit its settings (name, type, range): one
    line and exit 2 here, before an engine or a screen starts (the engine checks again)."""
    from ipcviz.scenario.loader import load
    from ipcviz.scenario.settings import apply_settings, parse_settings

    apply_settings(load(path), parse_settings(pairs))


def _check_schedule(path: Path, text: str) -> None:
    """``--schedule``'s names against the scenario's processes: one line and exit 2 here,
    before a trace file, an engine or a screen is made (the engine checks them again)."""
    from ipcviz.engine.gate import check_schedule
    from ipcviz.scenario.loader import load

    check_schedule(load(path), text)


def _program(args: argparse.Namespace) -> list[str] | None:
    """``run -- PROG ARGS…`` (or a C example / FILE.c, compiled first): the command line
    to watch under strace; None for a scenario."""
    given = getattr(args, "program", None)
    name = args.scenario
    if name is None and not given:
        raise IpcvizError(_("run: give a scenario (ipcviz list), FILE.py, or -- PROG ARGS…"))
    from ipcviz.sources import cbuild

    if name is not None and cbuild.is_c(name):
        return [str(cbuild.build(name)), *(given or [])]
    if name is not None:
        if given:
            raise IpcvizError(
                _(
                    "run {name}: arguments after -- are a program's; a scenario takes "
                    "--set KEY=VALUE"
                ).format(name=name)
            )
        return None
    import shutil

    prog = given[0]
    found = prog if os.sep in prog else shutil.which(prog)
    if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
        raise IpcvizError(_("run -- {prog}: no such program (or not executable)").format(prog=prog))
    why = _unstartable(found, prog)
    if why is not None:
        raise IpcvizError(
            _("run -- {prog}: the kernel cannot start it: {why}").format(prog=prog, why=why)
        )
    return list(given)


def _unstartable(path: str, prog: str) -> Lazy | None:
    """Why ``execve`` of ``path`` would fail (ENOEXEC, or ENOENT for its interpreter), or
    None. Under strace that failure was strace's own: "strace: exec: Exec format error"
    among the program's output, a process that "exits with code 1" and a FAILED run
    (exit 1), for a script with no #! line that a shell would have run."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)  # (the kernel reads as much: BINPRM_BUF_SIZE)
    except OSError:
        return None  # execute-only: the kernel may still start it
    if head.startswith(b"\x7fELF"):
        return None
    if head.startswith(b"#!"):  # the kernel's reading: split at spaces and tabs only
        words = head[2:].split(b"\n", 1)[0].replace(b"\t", b" ").split(b" ")
        interp = next((w for w in words if w), b"")
        if not interp:
            return lazy("its #! line names no interpreter")
        name = os.fsdecode(interp)
        if os.path.isfile(name) and os.access(name, os.X_OK):
            return None
        if name.endswith("\r"):
            return lazy(
                "its #! line ends in \\r (Windows line endings): no interpreter {interp}; "
                "dos2unix {prog} removes them",
                interp=name,
                prog=prog,
            )
        return lazy("its #! line names {interp}, which is no program here", interp=name)
    if _binfmt_misc():
        return None  # a format registered with the kernel (a foreign binary, a jar) may run
    return lazy(
        "it is neither a compiled program (ELF) nor a script with a #! line: a shell "
        "script without one runs as `ipcviz run -- sh {prog}`",
        prog=prog,
    )


def _binfmt_misc() -> bool:
    """Whether the kernel knows program formats beyond ELF and #! (binfmt_misc entries)."""
    try:
        names = os.listdir("/proc/sys/fs/binfmt_misc")
    except OSError:
        return False
    return any(n not in ("register", "status") for n in names)


def _ran(args: argparse.Namespace) -> tuple[str, ...]:
    """What the user ran, as typed after ``ipcviz run``, where the program is not it: a C
    file (or example), whose binary is a path in the build cache (``lab.c -- ARGS``)."""
    from ipcviz.sources import cbuild

    if args.scenario is None or not cbuild.is_c(args.scenario):
        return ()
    given = list(getattr(args, "program", None) or [])
    return (args.scenario, *(["--", *given] if given else []))


def _c_scenario(spec: str | None) -> Path | None:
    """``c/NAME``: its scenario file (``scenarios/c/NAME.py``), if it has one."""
    from ipcviz.sources import cbuild

    if spec is None or not spec.startswith(cbuild.PREFIX) or spec.endswith(".c"):
        return None
    path = cbuild.source_of(spec).with_suffix(".py")
    return path if path.is_file() else None


def _check_program_args(args: argparse.Namespace) -> None:
    """A program run takes none of a scenario's options (step mode, settings). Said with
    what the user typed: ``c/NAME`` is a program too, though no ``--`` was given."""
    from ipcviz.bytefmt import safe_text

    what = "run -- PROG"
    if args.scenario is not None:
        what = _("{spec} (a C program)").format(spec=safe_text(str(args.scenario), 80))
    if (
        args.seed is not None
        or args.schedule is not None
        or args.set
        or args.challenge
        or getattr(args, "pace", None) is not None
    ):
        raise IpcvizError(
            _(
                "{what}: --seed, --schedule, --pace, --set and --challenge are "
                "for Python scenarios (their processes pass ipcviz's step gate; a program's "
                "do not)"
            ).format(what=what)
        )
    if args.present:
        raise IpcvizError(_("run -- PROG: --present needs a scenario's narration steps"))
    # No strace here (or no tracing allowed) is no error: the engine runs the program seen
    # by the kernel probes alone, and says why in one line (``notice``).


def _challenge(args: argparse.Namespace, path: Path) -> Any:
    """``--challenge``: the screen that states the goal; the engine starts in step mode."""
    import functools

    if args.headless or args.present or args.seed is not None or args.schedule is not None:
        raise IpcvizError(
            _(
                "--challenge: you choose every step on the screen; drop --headless, --present, "
                "--seed and --schedule"
            )
        )
    from ipcviz.explore.goals import goal_of
    from ipcviz.scenario.loader import load
    from ipcviz.tui.screens.challenge import ChallengeScreen

    explore = ["explore", str(path), *(["--quick"] if args.quick else [])]
    explore += [x for pair in args.set for x in ("--set", pair)]
    return functools.partial(ChallengeScreen, goal=goal_of(load(path)), explore_argv=explore)


def _control_options(args: argparse.Namespace) -> EngineOptions:
    """--seed/--schedule/--pace/--set for the engine; a malformed value is a usage error
    (exit 2) here, before anything starts."""
    pace = None
    if args.schedule is not None:
        from ipcviz.engine.gate import parse_schedule

        parse_schedule(args.schedule)  # names: _check_schedule, against the scenario
    if getattr(args, "pace", None) is not None:
        from ipcviz.engine.gate import check_pace

        pace = check_pace(args.pace)
    if args.set:
        from ipcviz.scenario.settings import parse_settings

        parse_settings(args.set)  # keys are checked by the engine, against the scenario
    return EngineOptions.template(
        seed=args.seed, schedule=args.schedule, pace=pace, settings=tuple(args.set)
    )


def trace_path_for(scenario_path: Path, record: Path | None, sid: str, force: bool = False) -> Path:
    """Where the run is recorded: ``--record`` (an existing file only with ``--force``), or a
    new file named after the session in the traces directory (0700)."""
    from ipcviz.engine.client import claim_record_path, default_trace_path
    from ipcviz.events.trace import default_trace_dir

    if record is not None:
        return claim_record_path(record, force)
    stem = scenario_path.stem.replace("_", "-")
    return default_trace_path(stem, default_trace_dir(), sid)


class Output:
    """The narrated log on stdout. A reader that went away (``| head``, EPIPE) ends the run
    quietly, as Unix filters do; a stdout that cannot be written (a full disk, /dev/full)
    ends it with one line on stderr."""

    def __init__(self) -> None:
        self.gone = False  # the reader closed the pipe
        self.error: str | None = None  # writing failed otherwise

    @property
    def ok(self) -> bool:
        return not self.gone and self.error is None

    def write(self, lines: list[str]) -> None:
        if not lines or not self.ok:
            return
        try:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            self.gone = True
        except OSError as exc:
            self.error = exc.strerror or str(exc)
        except ValueError:  # stdout closed under us
            self.gone = True
        if not self.ok:  # nothing more goes there, not even Python's flush at exit
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):
                pass


def run_headless(options: EngineOptions, record: Path | None, force: bool = False) -> int:
    """The run ``options`` asks for (its trace: ``record``, else a new file), narrated
    to stdout."""
    from ipcviz.bytefmt import safe_text
    from ipcviz.engine.client import EngineProcess, engine_died
    from ipcviz.narrate.headless import Narrator, error_said, leftover_what
    from ipcviz.session.registry import new_session_id

    sid = new_session_id()
    trace = trace_path_for(options.scenario, record, sid, force)
    # --force: the engine removes the old file once the input proved good
    overwrite = force and record is not None
    engine = EngineProcess(options.replace(trace=trace, sid=sid, overwrite=overwrite))
    lang = options.lang
    out = Output()

    stops = 0

    def stop(signum: int, _frame: Any) -> None:
        """The first stop orders what the processes did before it, which a big backlog
        makes long: say so, and what a second stop does."""
        nonlocal stops
        stops += 1
        if stops > 1:
            engine.hurry()
            return
        engine.stop()
        if signum == signal.SIGINT:
            said = (  # attach never stops the processes: strace lets go, they run on
                _(
                    "stopping: ipcviz lets go of the processes (they run on), and what they "
                    "did is put in order first (Ctrl-C again: end at once, without it)"
                )
                if options.attach
                else _(
                    "stopping: the processes stop, and what they did is put in order "
                    "first (Ctrl-C again: end at once, without it)"
                )
            )
            print("ipcviz: " + said, file=sys.stderr, flush=True)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    narrator: Narrator | None = None
    errors: list[Any] = []  # worded at the end, in this run's language
    leftovers: list[Lazy] = []  # objects a program run left, or ipcviz removed for it
    end: dict[str, Any] | None = None
    said_steps: set[str] = set()  # the narration steps a process said
    bad_stream = ""
    try:
        try:
            for batch in engine.batches():  # one write per batch: a flood is one syscall
                if not out.ok:  # nobody reads the log any more: stop, keep draining
                    engine.stop()
                lines: list[str] = []
                for event in batch:
                    if narrator is None:
                        narrator = Narrator(event, lang)
                        if trace.exists():  # (a scenario that cannot start writes none)
                            lines.append(
                                "# "
                                + _("recording to {path}").format(path=safe_text(str(trace), 300))
                            )
                        lines += narrator.intro()
                        continue
                    lines += narrator.feed(event)
                    kind = event["kind"]
                    if kind == "narrate":
                        said_steps.add(str(event.get("step", "")))
                    elif kind == "error":
                        errors.append(error_said(event))
                    elif kind == "proc.error":
                        errors.append(_worker_error(narrator, event))
                    elif kind == "recording.stopped":
                        errors.append(event.get("message", "recording stopped"))
                    elif kind == "session.end":
                        end = event
                    elif kind == "program.leftover":
                        leftovers.append(leftover_what(event))
                out.write(lines)
        except IpcvizError as exc:  # a garbled line: the engine is not to be trusted
            bad_stream = str(exc)
        rc = engine.terminate()  # waits; cleans its session if it died uncleanly
        engine_err = engine.stderr_tail()
    finally:
        if engine.proc.poll() is None:  # KeyboardInterrupt, a bug: never leave it running
            engine.terminate(grace=1.0)
        engine.close()
    if out.gone:
        return EXIT_OK
    if out.error is not None:
        print(
            "ipcviz: " + _("cannot write the log to stdout: {error}").format(error=out.error),
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    last_err = engine_err.splitlines()[-1] if engine_err else ""
    if narrator is None and rc == EXIT_BAD_INPUT and last_err.startswith("ipcviz: "):
        print(last_err, file=sys.stderr)  # the engine refused to start, in one line
        return rc
    if rc < 0 or end is None or bad_stream:
        why = bad_stream or last_err
        detail = safe_text(f" ({why})" if why else "", 400)
        print("ipcviz: " + engine_died(rc, detail, trace), file=sys.stderr)
        return EXIT_BAD_INPUT
    from ipcviz.narrate.said import known

    for message in errors:  # the engine's English, in the language of this run
        said = message if isinstance(message, Lazy) else known(str(message))
        print(f"ipcviz: {said}", file=sys.stderr)
    for left in leftovers:  # in the language of this run (values made inert when told)
        out.write([f"# {left}"])
    if narrator is not None and end.get("outcome") in ("passed", "failed") and _own(options):
        out.write(_unsaid_steps(narrator.state.steps(), said_steps))
    return rc


def _own(options: EngineOptions) -> bool:
    """A scenario file of the user's own (not a built-in one, not a program): its author
    is the reader of notes about how it is written."""
    from ipcviz.scenario.loader import builtin_dir

    if options.program or options.scenario is None:
        return False
    try:
        Path(options.scenario).resolve().relative_to(builtin_dir().resolve())
    except ValueError:
        return True
    return False


def _unsaid_steps(declared: list[dict[str, Any]], said: set[str]) -> list[str]:
    """A note for each narration step the scenario declares and no process said in a run
    that ran to its end: for its author, a ``ctx.step`` missing or never reached (a note,
    not an error: a step may belong to a branch this run did not take)."""
    from ipcviz.bytefmt import safe_text

    return [
        "# "
        + _("note: narration step {step} is declared but was not said in this run").format(
            step=safe_text(str(step.get("id", "?")), 60)
        )
        for step in declared
        if isinstance(step, dict) and str(step.get("id", "")) not in said
    ]


def _worker_error(narrator: Any, event: dict[str, Any]) -> str:
    from ipcviz.narrate.headless import safe

    lines = event.get("text", "").strip().splitlines()
    frames = [ln.strip() for ln in lines if ln.strip().startswith("File ")]
    package = str(Path(__file__).parent) + os.sep
    # the scenario's line, not the ipcviz call it was in (ctx.fork, a wrapper)
    own = [f for f in frames if package not in f]
    where = (own or frames or [""])[-1]
    last = lines[-1] if lines else _("an exception")
    name = narrator.state.proc_name(event["pid"])
    if where:
        said = _("worker {name} raised {error} ({where})").format(
            name=name, error=last, where=where
        )
    else:
        said = _("worker {name} raised {error}").format(name=name, error=last)
    return safe(said, 300)


def cmd_replay(args: argparse.Namespace) -> int:
    from ipcviz.events.trace import TraceReader

    reader = TraceReader.open(args.trace)
    lang = _lang(args)
    if args.present and args.headless:
        raise IpcvizError(_("--present needs the screen: drop --headless"))
    if not args.headless:
        require_terminal(f"`ipcviz replay {args.trace} --headless`")
    if args.present:
        from ipcviz.tui.launch import replay_present

        return replay_present(reader.path, lang=lang)
    if not args.headless:
        from ipcviz.tui.launch import replay_tui

        return replay_tui(reader, lang=lang)
    from ipcviz.bytefmt import safe_text
    from ipcviz.replay.headless import replay_headless

    try:
        print("# " + _("replaying {path}").format(path=safe_text(str(args.trace), 300)))
        illegal = replay_headless(reader, lang)  # TraceError (exit 2) for a bad line
    except BrokenPipeError:  # our stdout was closed (e.g. `| head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    if reader.notice:
        print(f"ipcviz: {reader.notice}", file=sys.stderr)
    if illegal:
        print(
            "ipcviz: "
            + _(
                "this trace is not a legal history ({n} violation(s)): `ipcviz verify {path}` "
                "lists them"
            ).format(n=illegal, path=safe_text(str(args.trace), 300)),
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from ipcviz.export import export

    lang = args.lang or getattr(args, "top_lang", None)  # None: the run's own language
    return export(args.trace, args.format, args.output, args.force, args.theme, args.view, lang)


def cmd_verify(args: argparse.Namespace) -> int:
    """One line per violation (exit 1), or one line saying the history is legal (exit 0)."""
    from ipcviz.bytefmt import safe_text
    from ipcviz.events.trace import TraceError, TraceReader
    from ipcviz.model.verify import check

    reader = TraceReader.open(args.trace)
    shown = safe_text(str(args.trace), 300)  # the path is untrusted text too
    found = 0
    count = 0
    ended = False

    def counted() -> Any:
        nonlocal count, ended
        for event in reader.events():
            count += 1
            ended = ended or (isinstance(event, dict) and event.get("kind") == "session.end")
            yield event

    try:
        for v in check(reader.header, counted()):
            found += 1
            print(safe_text(v.line(), 400))
    except TraceError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        raise IpcvizError(
            _("{path}: event {n} has a malformed field ({error})").format(
                path=shown, n=count, error=type(exc).__name__
            )
        ) from None
    if reader.notice:  # a cut last line: what was judged is not the whole recording
        print(f"ipcviz: {reader.notice}", file=sys.stderr)
    if not ended:  # its run was killed (SIGKILL, a crash): what follows is unknown
        print(
            _(
                "ipcviz: {path} is cut off: it has no session.end (its run was killed); "
                "what it holds was checked, what came after is not recorded"
            ).format(path=shown),
            file=sys.stderr,
        )
    if found:
        print(
            _("{path}: {n} violation(s) in {count} events").format(
                path=shown, n=found, count=count
            ),
            file=sys.stderr,
        )
        return EXIT_CHECK_FAILED
    print(_("{path}: legal history ({count} events)").format(path=shown, count=count))
    return EXIT_OK


def cmd_clean(args: argparse.Namespace) -> int:
    require_linux()
    from ipcviz.session.cleanup import clean
    from ipcviz.session.registry import runtime_dir

    runtime_dir()  # a runtime directory another user took first: say so, exit 2
    counts = clean()
    print(
        _(
            "removed {objects} object(s) and {processes} process group(s) of {sessions} dead "
            "session(s); {live} live session(s) left alone"
        ).format(
            objects=counts["objects"],
            processes=counts["processes"],
            sessions=counts["sessions"],
            live=counts["live_sessions"],
        )
    )
    return EXIT_OK


def cmd_picker(args: argparse.Namespace) -> int:
    require_linux()
    require_terminal(_("`ipcviz list`, then `ipcviz run SCENARIO --headless`"))
    from ipcviz.tui.launch import run_picker

    return run_picker(lang=_lang(args), present=args.present)


def cmd_serve(args: argparse.Namespace) -> int:
    require_linux()
    from ipcviz.serve import serve

    return serve(host=args.host, port=args.port, present=args.present)


def _explore(args: argparse.Namespace) -> int:
    require_linux()
    from ipcviz.explore.cli import cmd_explore

    return cmd_explore(args)


def cmd_runs(args: argparse.Namespace) -> int:
    from rich.cells import cell_len

    from ipcviz.bytefmt import safe_text
    from ipcviz.events.runs import list_runs

    def pad(text: str, width: int) -> str:
        """Padded to ``width`` terminal cells: a Korean character takes two."""
        return text + " " * max(0, width - cell_len(text))

    from ipcviz.session.cleanup import live_sessions

    runs = list_runs()
    live = live_sessions() if runs else set()
    if not runs:
        print(_("no recorded runs yet (ipcviz run SCENARIO records one)"))
    for run in runs:
        # no end yet: still recording (its engine runs), else cut off
        outcome = run.outcome or ("recording" if run.session in live else "incomplete")
        print(
            f"{run.started}  {pad(run.scenario, 20)} {run.duration:>7.2f}s {run.events:>8} "
            + _("events")
            + f"  {pad(_(outcome), 10)} {safe_text(str(run.path))}"
        )
    return EXIT_OK


COMMANDS = {
    "list": cmd_list,
    "run": cmd_run,
    "attach": cmd_attach,
    "replay": cmd_replay,
    "export": cmd_export,
    "verify": cmd_verify,
    "clean": cmd_clean,
    "runs": cmd_runs,
    "serve": cmd_serve,
    "explore": lambda args: _explore(args),
    None: cmd_picker,
}


def _standard_fds() -> None:
    """Started with stdin, stdout or stderr closed (``>&-``): put /dev/null there, so no
    pipe of ours lands on fd 1 and writes go nowhere instead of raising."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdout is None:
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - lives as long as we do
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115


def split_program(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """``run … -- PROG ARGS…``: the program's command line is cut off before argparse sees
    it, so its own options (``-n``, ``--help``) stay its own."""
    if "--" not in argv or "run" not in argv[: argv.index("--")]:
        return argv, None
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]


def _end_with_the_server() -> None:
    """A browser session's app (``ipcviz serve`` started it and named itself in
    ``SERVED_BY``) is sent SIGHUP when the server dies, even by SIGKILL or the OOM
    killer: it ends and stops its engines, as on any hangup. Before, it ran on forever,
    with what it ran: its web driver does not end when its input does."""
    server = os.environ.pop(SERVED_BY, None)  # (not for what this app starts)
    if server is None:
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGHUP, 0, 0, 0)
    if str(os.getppid()) != server:  # the server died before the prctl: no signal comes
        os.kill(os.getpid(), signal.SIGHUP)


def main(argv: list[str] | None = None) -> int:
    _standard_fds()
    _end_with_the_server()
    argv, program = split_program(list(sys.argv[1:] if argv is None else argv))
    from ipcviz.i18n import set_lang

    set_lang(_lang_of(argv))
    _argparse_speaks()
    args = build_parser().parse_args(argv)
    if args.command == "run":
        args.program = program
    try:
        return COMMANDS[args.command](args)
    except IpcvizError as exc:
        from ipcviz.bytefmt import safe_text

        # one line, inert: a message may quote a file name or a field from a trace
        _say(f"ipcviz: {safe_text(str(exc), 1000)}")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of our output went away: a filter ends quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        except OSError:
            pass
        return EXIT_OK
    except OSError as exc:  # the environment, not a bug: full disk, read-only dir, limits
        from ipcviz.bytefmt import safe_text

        where = f" ({exc.filename})" if exc.filename else ""
        _say(f"ipcviz: {safe_text(f'{exc.strerror or exc}{where}', 1000)}")
        return EXIT_BAD_INPUT


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
