"""Bad scenario files: exit 2, one line on stderr, no traceback, nothing left; no trace for
one that cannot start (bad input), a valid one for a run that started and then failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.harness import LiveRun, replays, write_scenario

HEAD = "from ipcviz.scenario import Scenario\n"

CASES = {
    "syntax-error": (
        HEAD + "scenario = Scenario('bad', 'bad')\ndef w(ctx)\n    pass\n",
        "faulty.py:3: syntax error",
    ),
    "import-error": (
        HEAD + "import ipcviz_no_such_module_xyz\nscenario = Scenario('bad', 'bad')\n",
        "ModuleNotFoundError: No module named 'ipcviz_no_such_module_xyz'",
    ),
    # sys.exit() at import escaped the loader (not an Exception): "the engine stopped
    # unexpectedly (status 3); trace so far: PATH", and no file at PATH
    "exits-at-import": (
        HEAD + "import sys\nscenario = Scenario('bad', 'bad')\nsys.exit(3)\n",
        "faulty.py: line 4: SystemExit: 3",
    ),
    "no-processes": (
        HEAD + "scenario = Scenario('idle', 'nothing runs')\nscenario.semaphore('s')\n",
        "declares no processes",
    ),
    "check-raises": (
        HEAD
        + "scenario = Scenario('chk', 'a check raises')\n"
        + "scenario.shared_memory('m', cells=2)\n"
        + "@scenario.process('w')\n"
        + "def w(ctx):\n"
        + "    ctx.report('n', 0)\n"
        + "@scenario.check('ratio is sane')\n"
        + "def c(run):\n"
        + "    return 1 / run.report('w', 'n') > 0\n",
        "ZeroDivisionError",
    ),
}


#: Faults met after the run started (its processes ran): its trace is kept.
STARTED = {"check-raises"}


@pytest.mark.parametrize("fault", list(CASES))
def test_bad_scenario_is_one_line_exit_2(tmp_path: Path, record, fault: str) -> None:
    body, needle = CASES[fault]
    src = write_scenario(tmp_path, body)
    run = LiveRun(tmp_path, src)
    rc = run.finish()
    left = run.leaks()
    started = fault in STARTED  # else bad input, found before anything ran: no file
    if run.trace.exists():
        ok, why = replays(run.trace)
    else:
        ok, why = not started, "no trace (bad input)"
    err = [ln for ln in run.stderr.splitlines() if ln.strip()]
    shown = " / ".join(err).replace(str(tmp_path), "TMP")
    record(fault, f"exit {rc}: {shown[:200]}", left, "yes" if ok and started else why)
    assert rc == 2, (rc, run.stdout[-500:], run.stderr)
    assert len(err) == 1 and err[0].startswith("ipcviz: "), err
    assert needle in err[0], err
    assert "Traceback" not in run.stderr + run.stdout
    assert not left and ok, (left, why)
    assert run.trace.exists() == started, fault


_SAYS_NOTHING = (
    HEAD
    + "scenario = Scenario('chk', 'a check says nothing')\n"
    + "@scenario.process('w')\n"
    + "def w(ctx):\n"
    + "    ctx.report('n', 0)\n"
    + "@scenario.check('n is one')\n"
    + "def c(run):\n"
)
#: A check must say True or False. One that forgot its `return` (None), or returned
#: ((ok, detail), detail_ko), was counted as passed: a green tick for a claim never
#: judged (sysv-mq-typed and mq-two-way shipped the second).
SILENT_CHECKS = {
    "returns-none": _SAYS_NOTHING + "    run.report('w', 'n') == 1\n",
    "ok-is-a-tuple": _SAYS_NOTHING + "    return (run.report('w', 'n') == 1, 'n'), 'n (ko)'\n",
}


@pytest.mark.parametrize("case", list(SILENT_CHECKS))
def test_a_check_that_says_neither_true_nor_false_is_a_scenario_bug(
    tmp_path: Path, case: str
) -> None:
    src = write_scenario(tmp_path, SILENT_CHECKS[case])
    run = LiveRun(tmp_path, src)
    rc = run.finish()
    err = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert not run.leaks()
    assert rc == 2, (rc, run.stdout[-500:])
    assert len(err) == 1 and "'n is one'" in err[0], err
