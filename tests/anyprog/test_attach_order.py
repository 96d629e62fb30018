"""``ipcviz attach``: what a watched program does with an object that was there before
the attach (``outside``) is shown in an order the kernel could have made. Such an object
may hold what no event shows, so no rule stops a read from going before the write that
supplied its bytes: the order itself must. Every step is driven by the test, and every
wait is for a condition (a log line, /proc), never a sleep."""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ipcviz.sources.strace.attached import LISTED_ENV
from tests.anyprog.test_attach import (
    DEADLINE,
    READER,
    WRITER,
    Attached,
    events,
    pipeline,
    tell,
    traced,
    tree,
    verified,
    wait_for,
)
from tests.anyprog.test_programs import compile_c, needs_tools


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


#: Opens the POSIX queue given and forks: the child sends each line it is told on stdin
#: ("q" ends it), the parent receives and prints each message until an empty one.
QUEUE_PAIR = r"""
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
    char text[64], line[64];
    mqd_t q = mq_open(argv[1], O_RDWR);
    if (q == (mqd_t)-1) { perror("mq_open"); return 1; }
    pid_t kid = fork();
    if (kid == 0) {
        while (fgets(line, sizeof line, stdin) && line[0] != 'q') {
            size_t n = strcspn(line, "\n");
            if (mq_send(q, line, n, 0) < 0) { perror("mq_send"); return 1; }
        }
        return mq_send(q, "", 0, 0) < 0;
    }
    printf("ready\n");
    fflush(stdout);
    ssize_t n;
    while ((n = mq_receive(q, text, sizeof text, NULL)) > 0) {
        printf("got %.*s\n", (int)n, text);
        fflush(stdout);
    }
    int st;
    waitpid(kid, &st, 0);
    return n < 0 || !WIFEXITED(st) || WEXITSTATUS(st);
}
"""


@needs_tools
def test_a_receive_of_an_outside_queue_comes_after_the_send_that_woke_it(
    tmp_path: Path,
) -> None:
    """A receiver asleep in mq_receive on a queue it opened before the attach, and a
    sender the test tells when to send: each send comes before the receive of its message.

    Before, each receive was shown first, its message counted as from outside, and the
    send after it: any receive of an ``outside`` queue is legal, and strace stamps the
    send with the receive's return, so the receive, a take, went first."""
    import posix_ipc

    binary = compile_c(tmp_path, "queue_pair", QUEUE_PAIR)
    name = f"/ipcviz-test-attach-order-{os.getpid()}"
    queue = posix_ipc.MessageQueue(
        name, posix_ipc.O_CREX, 0o600, max_messages=4, max_message_size=64
    )
    trace = tmp_path / "attach.jsonl"
    obj = f"mq:{name}"
    proc = subprocess.Popen(
        [str(binary), name], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        wait_for(lambda: len(tree(proc.pid)) == 2, "the sender")
        ipc = Attached(proc.pid, trace)
        try:
            ipc.attached(tree(proc.pid))
            for i, text in enumerate(("one", "two")):
                wait_for(
                    lambda i=i: ipc.log().count(f"receives from {obj}…") > i,
                    "the receiver asleep in mq_receive",
                )
                proc.stdin.write(text + "\n")
                proc.stdin.flush()
                assert proc.stdout.readline() == f"got {text}\n"
            proc.stdin.write("q\n")
            proc.stdin.close()
            assert proc.wait(DEADLINE) == 0
            ipc.end()
        finally:
            ipc.kill()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        queue.close()
        queue.unlink()
    verified(trace)
    for text in ("one", "two", ""):
        data = base64.b64encode(text.encode()).decode()
        sent = _index(trace, "mq.send", obj, data=data)
        received = _index(trace, "mq.recv", obj, data=data)
        assert sent < received, f"{text!r} is shown received before it was sent"


@needs_tools
def test_a_writer_strace_cannot_attach_to_does_not_hold_off_the_end_of_file(
    tmp_path: Path,
) -> None:
    """The pipeline's writer is traced already (another strace holds it), so ipcviz's
    strace is refused it: its close is never seen, and the reader's end of file, once it
    exited, is a legal history.

    Before, the writer was among the pipe's ``writer_pids`` (it held the write end at the
    attach) and nothing took it out: the end of file was judged read while a writer held
    the write end, an ``order.conflict`` that accused a correct pipeline."""
    trace = tmp_path / "attach.jsonl"
    with pipeline(tmp_path) as (sh, to_writer, to_reader):
        wait_for(lambda: len(tree(sh.pid)) == 3, "the pipeline's two programs")
        sh_pid, writer, reader = tree(sh.pid)
        pipe = os.readlink(f"/proc/{writer}/fd/1")
        other = subprocess.Popen(
            ["strace", "-qq", "-o", os.devnull, "-p", str(writer)], stderr=subprocess.DEVNULL
        )
        try:
            wait_for(lambda: traced(writer), "the other strace to hold the writer")
            ipc = Attached(sh.pid, trace)
            try:
                ipc.attached([sh_pid, writer, reader])  # (the refusal is said before this)
                tell(to_reader, "r 64")
                tell(to_writer, "w hello")
                assert sh.stdout is not None
                assert sh.stdout.readline() == "got 5: hello\n"
                tell(to_reader, "r 64")
                tell(to_writer, "q")  # the writer exits: the kernel closes its write end
                assert sh.stdout.readline() == "got 0: \n"
                ipc.end()  # every watched process ended
            finally:
                ipc.kill()
            assert other.wait(DEADLINE) == 0  # (it ends with the writer)
        finally:
            if other.poll() is None:
                other.kill()
                other.wait()
    assert sh.returncode == 0
    assert any(e["kind"] == "pipe.read" and e.get("n") == 0 for e in events(trace)), pipe
    verified(trace)
    said = [e for e in events(trace) if e["kind"] == "notice" and e["pid"] == writer]
    assert [e.get("reason") for e in said] == ["attach-refused"]


@contextlib.contextmanager
def listed_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """The engine's hold between its ``/proc`` listing and strace's start (``LISTED_ENV``):
    the body runs once the listing is done; calling what it is given lets strace start."""
    hold = tmp_path / "listed"
    os.mkfifo(hold, 0o600)
    monkeypatch.setenv(LISTED_ENV, str(hold))

    def go() -> None:
        with open(hold, "w") as f:
            f.write("go\n")

    yield go


def _wait_listed(tmp_path: Path, ipc: Attached) -> None:
    """Until the engine says it read ``/proc`` (a failed start ends the wait too)."""
    fd = os.open(tmp_path / "listed", os.O_RDONLY | os.O_NONBLOCK)
    got = b""
    try:

        def said() -> bool:
            nonlocal got
            with contextlib.suppress(BlockingIOError):
                got += os.read(fd, 64)
            return got.endswith(b"\n") or ipc.proc.poll() is not None

        wait_for(said, "the listing")
    finally:
        os.close(fd)
    assert got == b"listed\n", ipc.log()


@needs_tools
@pytest.mark.parametrize("how", ["close", "exit"])
def test_a_write_end_let_go_of_before_strace_held_its_writer_holds_off_no_end_of_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The writer held the pipe's write end when ``/proc`` was read, then closed it (or
    exited) before strace held it: that close is never seen. The reader's end of file
    after it is a correct program's, and the trace is a legal history.

    Before, the writer stayed counted (``writer_pids``) for good: the end of file was
    judged read while a writer held the write end, an ``order.conflict`` that accused
    the pipeline."""
    trace = tmp_path / "attach.jsonl"
    with pipeline(tmp_path) as (sh, to_writer, to_reader), listed_hold(tmp_path, monkeypatch) as go:
        wait_for(lambda: len(tree(sh.pid)) == 3, "the pipeline's two programs")
        sh_pid, writer, reader = tree(sh.pid)
        pipe = os.readlink(f"/proc/{writer}/fd/1")
        ipc = Attached(sh.pid, trace)
        try:
            _wait_listed(tmp_path, ipc)  # the writer is counted: it holds the write end
            if how == "close":
                tell(to_writer, "c")  # it closes stdout, and runs on
                wait_for(lambda: not os.path.exists(f"/proc/{writer}/fd/1"), "the close")
            else:
                tell(to_writer, "q")  # it exits (sh reaps it)
                wait_for(lambda: not os.path.exists(f"/proc/{writer}"), "the writer gone")
            go()
            ipc.attached([p for p in (sh_pid, writer, reader) if os.path.exists(f"/proc/{p}")])
            tell(to_reader, "r 64")
            assert sh.stdout is not None
            assert sh.stdout.readline() == "got 0: \n"
            if how == "close":
                tell(to_writer, "q")
            ipc.end()  # every watched process ended
        finally:
            ipc.kill()
    assert sh.returncode == 0
    seen = events(trace)
    eof = [e for e in seen if e["kind"] == "pipe.read" and e.get("obj") == pipe]
    assert [e["n"] for e in eof] == [0]
    exits = [e for e in seen if e["kind"] == "proc.exit" and e["pid"] == writer]
    if how == "exit":  # ended before strace held it, reaped: said, its status unknown
        assert [e.get("code", "?") for e in exits] == [None]
        assert seen.index(exits[0]) < seen.index(eof[0])
    verified(trace)


#: The pipeline's two programs, started by a parent that reaps neither until told (a
#: line on its stdin): the writer, once it exits, stays a zombie meanwhile.
UNREAPING_PARENT = r"""
import subprocess, sys
writer, reader, c1, c2 = sys.argv[1:5]
with open(c1, "rb") as told:
    w = subprocess.Popen([writer], stdin=told, stdout=subprocess.PIPE)
r = subprocess.Popen(["sh", "-c", 'exec "$0" 3< "$1"', reader, c2], stdin=w.stdout)
w.stdout.close()
sys.stdin.readline()
sys.exit(w.wait() or r.wait())
"""


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@needs_tools
def test_a_writer_that_is_a_zombie_when_strace_attaches_let_go_of_its_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer exits after the listing and its parent does not reap it: strace cannot
    attach to a zombie. It is no error of strace's nor the program's: its ends were let
    go of (the kernel closed them at its exit), said so, and the reader's end of file
    after it is a legal history.

    Before, the zombie was taken for a process strace was refused: an ``error`` said
    strace could not attach to it ("Operation not permitted")."""
    writer = compile_c(tmp_path, "writer", WRITER)
    reader = compile_c(tmp_path, "reader", READER)
    c1, c2 = tmp_path / "c1", tmp_path / "c2"
    os.mkfifo(c1, 0o600)
    os.mkfifo(c2, 0o600)
    args = [sys.executable, "-c", UNREAPING_PARENT, str(writer), str(reader), str(c1), str(c2)]
    parent = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    trace = tmp_path / "attach.jsonl"
    assert parent.stdin is not None and parent.stdout is not None
    try:
        with (
            open(c1, "w") as to_writer,
            open(c2, "w") as to_reader,
            listed_hold(tmp_path, monkeypatch) as go,
        ):
            wait_for(lambda: len(tree(parent.pid)) == 3, "the two programs")
            _, writer_pid, reader_pid = tree(parent.pid)
            wait_for(lambda: os.readlink(f"/proc/{reader_pid}/exe") == str(reader), "exec")
            pipe = os.readlink(f"/proc/{writer_pid}/fd/1")
            ipc = Attached(parent.pid, trace)
            try:
                _wait_listed(tmp_path, ipc)
                tell(to_writer, "q")  # it exits; nobody reaps it
                wait_for(lambda: _state(writer_pid) == "Z", "the writer a zombie")
                go()
                ipc.attached([parent.pid, reader_pid])
                tell(to_reader, "r 64")
                assert parent.stdout.readline() == "got 0: \n"
                tell(parent.stdin, "")  # the parent reaps both, and exits
                ipc.end()  # every watched process ended
            finally:
                ipc.kill()
        assert parent.wait(DEADLINE) == 0
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        parent.stdin.close()
        parent.stdout.close()
    seen = events(trace)
    assert [e["message"] for e in seen if e["kind"] == "error"] == []
    # its exit, never printed by strace, is said with the status the zombie keeps: it was
    # shown running to the end; the exit lets go of its ends (no ``attach-let-go``)
    exits = [e for e in seen if e["kind"] == "proc.exit" and e["pid"] == writer_pid]
    assert [e.get("code") for e in exits] == [0]
    let_go = {e["pid"] for e in seen if e.get("reason") == "attach-let-go"}
    assert writer_pid not in let_go
    eof = [e for e in seen if e["kind"] == "pipe.read" and e["obj"] == pipe]
    assert [e["n"] for e in eof] == [0] and seen.index(exits[0]) < seen.index(eof[0])
    verified(trace)


@needs_tools
def test_a_write_end_closed_while_traced_is_no_let_go_and_the_end_of_file_follows_it(
    tmp_path: Path,
) -> None:
    """The writer closes its stdout once strace holds it: that close is seen, so nothing
    is said let go of, and the reader's end of file comes after the close."""
    trace = tmp_path / "attach.jsonl"
    with pipeline(tmp_path) as (sh, to_writer, to_reader):
        wait_for(lambda: len(tree(sh.pid)) == 3, "the pipeline's two programs")
        sh_pid, writer, reader = tree(sh.pid)
        pipe = os.readlink(f"/proc/{writer}/fd/1")
        ipc = Attached(sh.pid, trace)
        try:
            ipc.attached([sh_pid, writer, reader])
            tell(to_writer, "c")
            wait_for(lambda: not os.path.exists(f"/proc/{writer}/fd/1"), "the close")
            tell(to_reader, "r 64")
            assert sh.stdout is not None
            assert sh.stdout.readline() == "got 0: \n"
            tell(to_writer, "q")
            ipc.end()  # every watched process ended
        finally:
            ipc.kill()
    assert sh.returncode == 0
    verified(trace)
    assert not [e for e in events(trace) if e.get("reason") == "attach-let-go"]
    closed = _index(trace, "pipe.close", pipe, pid=writer, end=1)
    assert closed < _index(trace, "pipe.read", pipe, n=0), "the end of file before the close"


@needs_tools
def test_a_write_end_moved_to_another_descriptor_before_strace_held_its_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer moves its write end from descriptor 1 to 9 (dup2, close) after the
    listing and before strace held it, then, traced, closes 9: that close is its last
    of the write end, and the reader's end of file after it is a legal history.

    Before, ipcviz knew the end at descriptor 1 only (the listing's): the close of 9
    was no close of the pipe, the writer stayed counted, and the end of file was an
    ``order.conflict``."""
    trace = tmp_path / "attach.jsonl"
    with pipeline(tmp_path) as (sh, to_writer, to_reader), listed_hold(tmp_path, monkeypatch) as go:
        wait_for(lambda: len(tree(sh.pid)) == 3, "the pipeline's two programs")
        sh_pid, writer, reader = tree(sh.pid)
        pipe = os.readlink(f"/proc/{writer}/fd/1")
        ipc = Attached(sh.pid, trace)
        try:
            _wait_listed(tmp_path, ipc)
            tell(to_writer, "d")
            wait_for(lambda: not os.path.exists(f"/proc/{writer}/fd/1"), "the move")
            go()
            ipc.attached([sh_pid, writer, reader])
            tell(to_writer, "x")
            wait_for(lambda: not os.path.exists(f"/proc/{writer}/fd/9"), "the close")
            tell(to_reader, "r 64")
            assert sh.stdout is not None
            assert sh.stdout.readline() == "got 0: \n"
            tell(to_writer, "q")
            ipc.end()  # every watched process ended
        finally:
            ipc.kill()
    assert sh.returncode == 0
    verified(trace)
    closed = _index(trace, "pipe.close", pipe, pid=writer, end=1)
    assert closed < _index(trace, "pipe.read", pipe, n=0), "the end of file before the close"
