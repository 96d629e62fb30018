"""``ipcviz attach``: what a watched program does with an object that was there before
the attach (``outside``) is shown in an order the kernel could have made. Such an object
may hold what no event shows, so no rule stops a read from going before the write that
supplied its bytes: the order itself must. Every step is driven by the test, and every
wait is for a condition (a log line, /proc), never a sleep."""

from __future__ import annotations

import os
from pathlib import Path

from tests.anyprog.test_attach import (
    Attached,
    events,
    pipeline,
    tell,
    tree,
    verified,
    wait_for,
)
from tests.anyprog.test_programs import needs_tools


def _index(trace: Path, kind: str, obj: str, **fields: object) -> int:
    """Where the first event of ``kind`` on ``obj`` with these fields is in the trace."""
    found = [
        i
        for i, e in enumerate(events(trace))
        if e["kind"] == kind
        and e.get("obj") == obj
        and all(e.get(k) == v for k, v in fields.items())
    ]
    assert found, (kind, obj, fields)
    return found[0]


@needs_tools
def test_a_read_of_an_outside_pipe_comes_after_the_write_that_woke_it(tmp_path: Path) -> None:
    """The reader asleep in read() when the writer writes: the write comes first, and the
    end of file the reader gets once the writer exits comes after that exit.

    Before, both were shown the other way round: strace stamps the write with the read's
    return (the next line it prints), and on a pipe found at attach every read is legal,
    so the read, a take, went first; an end of file was legal while the writer held the
    write end, since the model did not know it held it."""
    trace = tmp_path / "attach.jsonl"
    with pipeline(tmp_path) as (sh, to_writer, to_reader):
        wait_for(lambda: len(tree(sh.pid)) == 3, "the pipeline's two programs")
        sh_pid, writer, reader = tree(sh.pid)
        pipe = os.readlink(f"/proc/{writer}/fd/1")
        ipc = Attached(sh.pid, trace)
        try:
            ipc.attached([sh_pid, writer, reader])
            ipc.says(f"reads from {tmp_path / 'c1'}…")
            ipc.says(f"reads from {tmp_path / 'c2'}…")
            tell(to_reader, "r 64")
            ipc.says(f"reads from {pipe}…")  # asleep in it: the pipe is empty
            tell(to_writer, "w hello")
            assert sh.stdout is not None
            assert sh.stdout.readline() == "got 5: hello\n"
            ipc.says(f'read 5 B from {pipe}: "hello"')
            tell(to_reader, "r 64")
            wait_for(lambda: ipc.log().count(f"reads from {pipe}…") == 2, "the second read")
            tell(to_writer, "q")  # the writer exits: the kernel closes its write end
            assert sh.stdout.readline() == "got 0: \n"
            ipc.end()  # every watched process ended
        finally:
            ipc.kill()
    assert sh.returncode == 0
    verified(trace)
    write = _index(trace, "pipe.write", pipe)
    read = _index(trace, "pipe.read", pipe, n=5)
    assert write < read, "the read of hello is shown before its write"
    eof = _index(trace, "pipe.read", pipe, n=0)
    gone = [
        i
        for i, e in enumerate(events(trace))
        if e["pid"] == writer and e["kind"] in ("proc.exit", "pipe.close")
    ]
    assert gone and gone[0] < eof, "the end of file is shown before the writer let go"
