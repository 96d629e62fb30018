"""Bad scenario files: exit 2, one line on stderr, no traceback, nothing left, a valid trace."""

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


@pytest.mark.parametrize("fault", list(CASES))
def test_bad_scenario_is_one_line_exit_2(tmp_path: Path, record, fault: str) -> None:
    body, needle = CASES[fault]
    src = write_scenario(tmp_path, body)
    run = LiveRun(tmp_path, src)
    rc = run.finish()
    left = run.leaks()
    ok, why = replays(run.trace) if run.trace.exists() else (False, "no trace written")
    err = [ln for ln in run.stderr.splitlines() if ln.strip()]
    shown = " / ".join(err).replace(str(tmp_path), "TMP")
    record(fault, f"exit {rc}: {shown[:200]}", left, "yes" if ok else why)
    assert rc == 2, (rc, run.stdout[-500:], run.stderr)
    assert len(err) == 1 and err[0].startswith("ipcviz: "), err
    assert needle in err[0], err
    assert "Traceback" not in run.stderr + run.stdout
    assert not left and ok, (left, why)
