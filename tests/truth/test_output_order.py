"""A line a process prints after an operation is never shown before that operation."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.mechanisms.helpers import by_kind, run_file

#: The boss sends a job only after a pause, so the engine sits idle in its poll with
#: nothing pending when the worker receives and prints: the line reaches the engine
#: through the worker's stdout while the receive is still in the worker's ring.
PRINTS_AFTER_RECEIVE = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("prints", "a worker prints each job it receives", timeout=30)
    jobs = scenario.posix_queue("jobs", max_messages=4, max_message_size=16)

    @scenario.process("boss")
    def boss(ctx):
        for i in range(4):
            ctx.sleep(0.2)
            jobs.send(str(i).encode())

    @scenario.process("worker")
    def worker(ctx):
        for _ in range(4):
            data, _prio = jobs.receive()
            print(f"took job {data.decode()}", flush=True)
"""


def test_a_printed_line_comes_after_the_receive_it_reports(tmp_path: Path) -> None:
    """ "took job 2" was published before the receive of job 2 (and the send before
    it) in most runs: the engine, idle, read the line from the worker's stdout and
    published it at once, its receive still undrained in the ring. The ring is drained
    before output is read now, so the line waits for the operations before it."""
    result, _, events = run_file(tmp_path, "prints", PRINTS_AFTER_RECEIVE)
    assert result.returncode == 0, result.stdout + result.stderr
    received = {base64.b64decode(e["data"]).decode(): e["seq"] for e in by_kind(events, "mq.recv")}
    lines = [
        (line, e["seq"])
        for e in by_kind(events, "proc.output")
        for line in base64.b64decode(e["data"]).decode().splitlines()
        if line  # (print's newline may come in a write of its own)
    ]
    assert [line for line, _ in lines] == [f"took job {i}" for i in range(4)]
    late = [(line, seq) for line, seq in lines if seq < received[line.split()[-1]]]
    assert not late, f"printed before its receive (line, seq): {late}; receives {received}"
