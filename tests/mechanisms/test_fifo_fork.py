"""A FIFO end is a descriptor: fork copies it (T7), so a child holds the end its parent
opened, and the parent's close is not the last. The reader's end of file comes only once
every copy is closed; the model used to forget the children's copies and could show it
after the parent's close, while a child was still writing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.mechanisms.helpers import by_kind, pids_by_name, run_file

FAN_IN = """
    import os

    from ipcviz.scenario import Scenario

    scenario = Scenario("fifo-fork", "children write through the end they inherited")
    log = scenario.fifo("log")
    closed = scenario.semaphore("closed", 0)

    @scenario.process("reader")
    def reader(ctx):
        log.open_read()
        got = b""
        while chunk := log.read(4096):
            got += chunk
        ctx.report("got", got.decode())

    @scenario.process("parent")
    def parent(ctx):
        log.open_write()
        kids = []
        for k in range(2):
            pid = ctx.fork(f"w{k}")
            if pid == 0:  # a child: it writes only after its parent closed its own end
                closed.wait()
                log.write(b"x")
                log.close_write()
                os._exit(0)
            kids.append(pid)
        log.close_write()  # not the last close: both children hold the end
        closed.post()
        closed.post()
        for pid in kids:
            os.waitpid(pid, 0)

    @scenario.check("the reader got both children's bytes before end of file")
    def got(run):
        return run.report("reader", "got") == "xx"
"""


def test_a_fifo_end_inherited_at_fork_is_held_until_the_child_closes_it(tmp_path: Path):
    result, _, events = run_file(tmp_path, "fan", FAN_IN)
    assert result.returncode == 0, result.stdout + result.stderr
    pids = pids_by_name(events)
    children = {pids["parent/w0"], pids["parent/w1"]}
    closes = [e["seq"] for e in by_kind(events, "pipe.close") if e["pid"] in children]
    (eof,) = [e["seq"] for e in by_kind(events, "pipe.read") if e["n"] == 0]
    assert len(closes) == 2 and max(closes) < eof
    done = subprocess.run(
        [sys.executable, "-m", "ipcviz", "verify", str(tmp_path / "fan.jsonl")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "legal history" in done.stdout, done.stdout
