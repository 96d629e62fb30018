"""The generated document: a partial run updates its own rows and keeps the others."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.faults.matrix import CATALOGUE, DOC, ROOT, WRITE_ENV, Matrix


def test_partial_runs_merge_rows_into_the_document(tmp_path: Path) -> None:
    doc = tmp_path / "reliability.md"
    first = Matrix()
    first.record("sigint", "t::a", "exit 0 in /tmp/pytest-of-root/pytest-9/t0/x", [], "yes")
    first.write(doc)
    second = Matrix()
    second.record("sigterm", "t::b", "exit 0", ["process 42"], "yes")
    second.write(doc)
    text = doc.read_text()
    sigint = next(ln for ln in text.splitlines() if ln.startswith("| SIGINT"))
    sigterm = next(ln for ln in text.splitlines() if ln.startswith("| SIGTERM"))
    assert "exit 0 in TMP/x" in sigint and "`t::a`" in sigint  # kept, tmp path neutral
    assert "process 42" in sigterm
    assert text.count("not measured yet") <= len(CATALOGUE) - 2
    assert Matrix().write(doc) is None and doc.read_text() == text  # nothing measured: as is


def test_a_plain_pytest_run_leaves_the_tracked_document_alone() -> None:
    """Only ``python -m tests.faults.matrix --write`` (IPCVIZ_WRITE_RELIABILITY=1) writes it."""
    before = DOC.read_bytes()
    env = {k: v for k, v in os.environ.items() if k != WRITE_ENV}
    test = "tests/faults/test_bad_scenarios.py::test_bad_scenario_is_one_line_exit_2[syntax-error]"
    try:
        r = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:randomly",
             "-p", "no:cacheprovider", test],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        after = DOC.read_bytes()
    finally:
        DOC.write_bytes(before)  # a regression must not leave the tracked file changed
    assert r.returncode == 0, r.stdout[-2000:]
    assert after == before


def test_write_needs_the_flag() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "tests.faults.matrix"], cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 2 and "--write" in r.stderr
