"""A FIFO's bytes are dropped by the kernel when its last open end closes (the pipe behind
the name is freed); the next open finds it empty. Review finding: the model keeps them, so
a later end of file is an ``order.conflict`` and ``ipcviz verify`` says illegal. A traced
command like ``while :; do cat FIFO; done`` beside a Python writer hits it at random."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.mechanisms.helpers import by_kind, run_file

DISCARD = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("fifo-discard", "a FIFO's bytes go with its last end", timeout=30)
    f = scenario.fifo("data")
    written = scenario.semaphore("written", 0)
    closed = scenario.semaphore("closed", 0)

    @scenario.process("reader")
    def reader(ctx):
        f.open_read()
        written.wait()  # the writer wrote 10 B and closed its end
        f.close_read()  # the last end closes: the kernel drops the 10 B
        closed.post()
        f.open_read()
        ctx.report("got", f.read(4096).decode())  # end of file: a new, empty pipe
        f.close_read()

    @scenario.process("writer")
    def writer(ctx):
        f.open_write()
        f.write(b"0123456789")
        f.close_write()
        written.post()
        closed.wait()
        f.open_write()
        f.close_write()

    @scenario.check("the reader read end of file")
    def eof(run):
        return run.report("reader", "got") == ""
"""


def test_a_fifos_bytes_go_when_its_last_end_closes(tmp_path: Path) -> None:
    result, _, events = run_file(tmp_path, "discard", DISCARD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert by_kind(events, "order.conflict") == []
    done = subprocess.run(
        [sys.executable, "-m", "ipcviz", "verify", str(tmp_path / "discard.jsonl")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "legal history" in done.stdout, done.stdout
