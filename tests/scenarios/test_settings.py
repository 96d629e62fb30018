"""``--set KEY=VALUE`` is checked against the scenario's declared setting (the type of its
default, its ``limits``): one line, exit 2, before any process runs — on ``run`` (headless
and screen) and ``explore``. Before, ``increments=abc`` failed inside every worker and
``increments=-5`` ran and reported a nonsense check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ipcviz.errors import ScenarioError
from ipcviz.scenario.api import Scenario
from tests.conftest import ipcviz

BAD = [
    ("increments=abc", "increments is a whole number"),
    ("increments=2.5", "increments is a whole number"),
    ("increments=true", "increments is a whole number"),
    ("increments=NaN", "increments is a whole number"),
    ("increments=-5", "increments must be between 1 and 1000000"),
    ("increments=0", "increments must be between 1 and 1000000"),
    ("workers=4", "workers is fixed at 3"),
]


def one_line_exit_2(result, why: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout[-500:], result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and why in lines[0], result.stderr
    assert "Traceback" not in result.stderr and not result.stdout.strip(), result.stdout


@pytest.mark.parametrize(("pair", "why"), BAD)
def test_run_headless_refuses_a_bad_value(tmp_path: Path, pair: str, why: str) -> None:
    trace = tmp_path / "t.jsonl"
    res = ipcviz("run", "shm-race", "--headless", "--quick", "--set", pair, "--record", str(trace))
    one_line_exit_2(res, why)
    assert not trace.exists()


def test_run_on_screen_refuses_before_it_needs_a_terminal() -> None:
    """The check comes before the screen: no terminal is needed to be told."""
    one_line_exit_2(ipcviz("run", "shm-race", "--set", "pause=x"), "no setting pause")
    one_line_exit_2(ipcviz("run", "pipe-basic", "--set", "pause=-1"), "pause must be between")


@pytest.mark.parametrize(("pair", "why"), BAD[:5])
def test_explore_refuses_a_bad_value(pair: str, why: str) -> None:
    one_line_exit_2(ipcviz("explore", "shm-race", "--set", pair, "--budget", "1"), why)


def test_good_values_run_and_numbers_become_the_declared_type(tmp_path: Path) -> None:
    res = ipcviz("run", "pipe-basic", "--headless", "--quick", "--set", "pause=0", "--set",
                 "messages=2", "--record", str(tmp_path / "t.jsonl"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    header = json.loads((tmp_path / "t.jsonl").read_text().splitlines()[0])
    params = header["scenario"]["params"]
    assert params["pause"] == 0.0 and isinstance(params["pause"], float), params


def test_limits_name_declared_settings_only() -> None:
    with pytest.raises(ScenarioError, match="limits for unknown settings"):
        Scenario("x", "x", params={"n": 1}, limits={"m": (0, 1)})
