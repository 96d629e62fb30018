"""The generated document: a partial run updates its own rows and keeps the others."""

from __future__ import annotations

from pathlib import Path

from tests.faults.matrix import CATALOGUE, Matrix


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
