"""The default trace file of ``ipcviz run -- PROG`` is named after the program, whatever
the program is called."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.anyprog.test_programs import TIMEOUT, needs_tools


@needs_tools
def test_a_program_with_a_long_or_unprintable_name_is_recorded(tmp_path: Path) -> None:
    """A 240-byte program name (a legal file name) made the trace's name longer than
    NAME_MAX: 'File name too long', exit 2, nothing ran. Escape sequences and a newline in
    the name went into the file's name as they were (``ls`` of the traces printed them)."""
    data = tmp_path / "data"
    names = ["p" * 240, "ev\x1b]0;PWN\x07\x1b[31mil\nx", "프로그램"]
    for name in names:
        program = tmp_path / name
        shutil.copy("/bin/true", program)
        run = subprocess.run(
            [sys.executable, "-m", "ipcviz", "run", "--headless", "--", str(program)],
            env={**os.environ, "XDG_DATA_HOME": str(data)},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert run.returncode == 0, run.stderr
    traces = sorted(os.listdir(data / "ipcviz" / "traces"))
    assert len(traces) == len(names)
    for trace in traces:
        assert trace.isprintable() and len(trace.encode()) < 200, trace
    assert any("프로그램" in trace for trace in traces)  # letters of any script are kept
