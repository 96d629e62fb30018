"""``EngineOptions``: the engine's command line is built in one place and read back in one
place; every field survives the trip, and a field argv() forgot would fail here."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ipcviz.engine.client import EngineProcess
from ipcviz.engine.options import EngineOptions
from ipcviz.errors import IpcvizError

BASE = EngineOptions(Path("scenarios/pipe_basic.py"), Path("/tmp/x/t.jsonl"))

#: a value other than the default for every field (scenario and trace differ from BASE's)
CHANGED = {
    "scenario": Path("a b/c.py"),
    "trace": Path("/tmp/y/t u.jsonl"),
    "timeout": 2.5,
    "quick": True,
    "lang": "ko",
    "sid": "0123456789abcdef",
    "seed": 7,
    "schedule": "inc1,inc2,inc1",
    "end_on_deadlock": True,
    "step": True,
    "settings": ("increments=2", "n=3"),
    "present": True,
    "pace": 0.1,
    "traced": False,
    "probe_interval": 0.0,
    "program": ("./a.out", "--", "-x", "two words"),
    "ran": ("lab.c", "--", "-x", "two words"),
    "attach": 4242,
    "overwrite": True,
}


def test_every_field_is_covered_here() -> None:
    assert set(CHANGED) == {f.name for f in dataclasses.fields(EngineOptions)}


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_each_field_round_trips_and_changes_the_command_line(name: str) -> None:
    opts = BASE.replace(**{name: CHANGED[name]})
    assert opts.argv() != BASE.argv(), f"{name} is not on the command line"
    assert EngineOptions.from_argv(opts.argv()) == opts


def test_all_fields_at_once_round_trip() -> None:
    opts = EngineOptions(**CHANGED)
    assert EngineOptions.from_argv(opts.argv()) == opts
    assert opts.command()[1:3] == ["-m", "ipcviz.engine"]


def test_defaults_round_trip() -> None:
    assert EngineOptions.from_argv(BASE.argv()) == BASE


def test_a_template_is_filled_per_run() -> None:
    template = EngineOptions.template(seed=3, present=True)
    opts = template.for_run(Path("s.py"), Path("t.jsonl"), sid="abcdef0123")
    assert (opts.scenario, opts.trace, opts.sid, opts.seed, opts.present) == (
        Path("s.py"),
        Path("t.jsonl"),
        "abcdef0123",
        3,
        True,
    )


def test_lists_become_tuples() -> None:
    opts = BASE.replace(settings=["a=1"], program=["p"])  # type: ignore[arg-type]
    assert opts.settings == ("a=1",) and opts.program == ("p",)
    hash(opts)


def test_program_flag_without_a_program_is_one_clear_error() -> None:
    with pytest.raises(IpcvizError, match="--program needs"):
        EngineOptions.from_argv(["x", "--trace", "t", "--program"])


def test_no_argv_escape_hatch() -> None:
    """Options are fields, never strings handed through: ``extra=`` is no parameter."""
    with pytest.raises(TypeError):
        EngineProcess(Path("x.py"), Path("t.jsonl"), extra=["--step"])
    with pytest.raises(TypeError):
        EngineProcess(BASE, Path("t.jsonl"))
