"""How one engine run is asked for: one typed value that the CLI, the TUI, the explorer and
the benchmarks pass down, turned into the engine's command line in exactly one place
(``EngineOptions.argv``) and read back from it in exactly one place (``from_argv``).

Why a dataclass and not argv strings: the layers between the CLI and the engine used to
append ``--step`` or ``--present`` to lists they could not check; a misspelt option then
failed in the engine subprocess, far from its cause. Now a wrong field is a ``TypeError``
where it is written, and ``tests/engine/test_options.py`` proves the round trip.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipcviz.errors import IpcvizError
from ipcviz.i18n import _

#: ``scenario`` / ``trace`` of a template: filled in per run (``EngineOptions.for_run``).
UNSET = Path()


@dataclass(frozen=True)
class EngineOptions:
    """Everything ``python -m ipcviz.engine`` is told on its command line."""

    #: the scenario file; for a program run (``program``) only a label
    scenario: Path
    #: the trace file the engine creates (O_EXCL, 0600)
    trace: Path
    #: seconds; -1: the scenario's own limit (headless), 0: none (the screen's default)
    timeout: float = -1.0
    quick: bool = False
    lang: str = "en"
    #: the session id, chosen by the viewer so it can clean up if the engine dies
    sid: str | None = None
    #: step mode with a seeded choice of who goes next
    seed: int | None = None
    #: step mode in this order (process names, ``ipcviz run --schedule``)
    schedule: str | None = None
    #: headless: a deadlock ends the run instead of waiting for a user
    end_on_deadlock: bool = False
    #: start in step mode (the user steps)
    step: bool = False
    #: scenario settings, each ``KEY=VALUE`` as ``--set`` takes it
    settings: tuple[str, ...] = ()
    #: pause at each narration step (presenter mode)
    present: bool = False
    #: at most this many operations per second
    pace: float | None = None
    #: False: workers run with no ring (a benchmark's baseline)
    traced: bool = True
    #: seconds between kernel sweeps; None: the default (or ``$IPCVIZ_PROBE_INTERVAL``)
    probe_interval: float | None = None
    #: run this command line under strace instead of a scenario's workers
    program: tuple[str, ...] = ()
    #: what the user ran, as typed after ``ipcviz run``, where ``program`` is not it: a C
    #: file's binary is in a cache (``lab.c -- ARGS``); recorded and shown instead
    ran: tuple[str, ...] = ()
    #: watch this running process and its descendants under strace -p (``ipcviz attach``);
    #: ``timeout`` is then how long to watch (0: until stopped), reached as a normal end
    attach: int = 0
    #: ``--force``: a file at ``trace`` is removed, by the engine, once the run's input
    #: proved good (bad input leaves the old trace as it was)
    overwrite: bool = False

    def __post_init__(self) -> None:
        # Lists given by callers become tuples: the value stays hashable and immutable.
        object.__setattr__(self, "settings", tuple(self.settings))
        object.__setattr__(self, "program", tuple(self.program))
        object.__setattr__(self, "ran", tuple(self.ran))

    @classmethod
    def template(cls, **fields: Any) -> EngineOptions:
        """Options without a scenario or trace yet: what a screen keeps for every engine
        it will start (``for_run`` fills them in)."""
        return cls(UNSET, UNSET, **fields)

    def for_run(self, scenario: Path, trace: Path, **fields: Any) -> EngineOptions:
        return dataclasses.replace(self, scenario=scenario, trace=trace, **fields)

    def replace(self, **fields: Any) -> EngineOptions:
        return dataclasses.replace(self, **fields)

    # -- the command line: built here and parsed here, nowhere else ---------------------

    def argv(self) -> list[str]:
        """The engine's arguments (after ``python -m ipcviz.engine``)."""
        out = [str(self.scenario), "--trace", str(self.trace), "--timeout", repr(self.timeout)]
        out += ["--lang", self.lang]
        if self.sid is not None:
            out += ["--sid", self.sid]
        if self.quick:
            out.append("--quick")
        if self.seed is not None:
            out += ["--seed", str(self.seed)]
        if self.schedule is not None:
            out += ["--schedule", self.schedule]
        if self.end_on_deadlock:
            out.append("--end-on-deadlock")
        if self.step:
            out.append("--step")
        for pair in self.settings:
            out += ["--set", pair]
        if self.present:
            out.append("--present")
        if self.pace is not None:
            out += ["--pace", repr(self.pace)]
        if not self.traced:
            out.append("--no-trace")
        if self.probe_interval is not None:
            out += ["--probe-interval", repr(self.probe_interval)]
        if self.attach:
            out += ["--attach", str(self.attach)]
        if self.overwrite:
            out.append("--overwrite")
        if self.ran:  # one JSON word: argparse drops a word "--", and misreads "-x"
            out.append("--ran=" + json.dumps(list(self.ran)))
        if self.program:  # always last: what follows ``--`` is the program's own
            out += ["--program", "--", *self.program]
        return out

    def command(self) -> list[str]:
        """The whole command line of the engine process."""
        return [sys.executable, "-m", "ipcviz.engine", *self.argv()]

    @classmethod
    def from_argv(cls, argv: list[str]) -> EngineOptions:
        """The options back from ``argv()`` (a usage error is one line and exit 2)."""
        argv = list(argv)
        program: list[str] = []
        if "--" in argv:  # ``--program -- PROG ARGS…``: the program's own arguments, untouched
            program = argv[argv.index("--") + 1 :]
            argv = argv[: argv.index("--")]
        args = _parser().parse_args(argv)
        if args.program and not program:
            raise IpcvizError(_("--program needs -- PROG [ARGS…]"))
        return cls(
            scenario=Path(args.scenario),
            trace=args.trace,
            timeout=args.timeout,
            quick=args.quick,
            lang=args.lang,
            sid=args.sid,
            seed=args.seed,
            schedule=args.schedule,
            end_on_deadlock=args.end_on_deadlock,
            step=args.step,
            settings=tuple(args.set),
            present=args.present,
            pace=args.pace,
            traced=not args.no_trace,
            probe_interval=args.probe_interval,
            program=tuple(program) if args.program else (),
            ran=_words(args.ran),
            attach=args.attach,
            overwrite=args.overwrite,
        )


def _words(text: str | None) -> tuple[str, ...]:
    """``--ran``'s JSON list of words (a usage error if it is not one)."""
    if text is None:
        return ()
    try:
        words = json.loads(text)
    except ValueError:
        words = None
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise IpcvizError("--ran: want a JSON list of words")  # (only ipcviz writes it)
    return tuple(words)


def _parser() -> argparse.ArgumentParser:
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
    ap.add_argument(
        "--pace", type=float, default=None, help="at most this many operations per second"
    )
    ap.add_argument(
        "--no-trace", action="store_true", help="workers run untraced (a benchmark's baseline)"
    )
    ap.add_argument(
        "--probe-interval", type=float, default=None, help="seconds between kernel sweeps"
    )
    ap.add_argument(
        "--attach", type=int, default=0, metavar="PID", help="watch a running process tree"
    )
    ap.add_argument("--ran", default=None, help="what the user ran, a JSON list (a C file)")
    ap.add_argument("--overwrite", action="store_true", help="--trace may replace a file")
    ap.add_argument(
        "--program",
        action="store_true",
        help="run what follows -- under strace (SCENARIO: a label)",
    )
    return ap
