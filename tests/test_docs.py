"""The worked example in docs/scenarios.md runs, and its check passes."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT, ipcviz


def test_worked_example_in_the_scenario_docs_runs(tmp_path: Path):
    doc = (ROOT / "docs" / "scenarios.md").read_text()
    code = re.search(r"```python\n(.*?)```", doc, re.S)
    assert code, "docs/scenarios.md has no python example"
    src = tmp_path / "ping.py"
    src.write_text(code.group(1))
    result = ipcviz("run", str(src), "--headless", "--quick", "--record", str(tmp_path / "t"))
    assert result.returncode == 0, result.stdout[-1500:] + result.stderr
    assert "check ✓ every ball came back" in result.stdout
