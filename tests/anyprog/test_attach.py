"""``ipcviz attach PID``: real running processes (compiled C, a shell pipeline), watched
through strace -p, then detached. Every step is driven by the test through a pipe or FIFO
it holds, and every wait is for a condition (a log line, a trace event, /proc), never a
sleep: nothing depends on which process is faster."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.anyprog.test_programs import compile_c, ipcviz, needs_tools

DEADLINE = 90.0

#: Writes what it is told on stdin ("w TEXT") to stdout; "c" closes stdout (and runs on),
#: "d" moves stdout to descriptor 9, "x" closes 9, "q" ends it.
WRITER = r"""
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        if (line[0] == 'q') return 0;
        if (line[0] == 'c' && close(1) < 0) return 3;
        if (line[0] == 'd' && (dup2(1, 9) < 0 || close(1) < 0)) return 4;
        if (line[0] == 'x' && close(9) < 0) return 5;
        if (line[0] == 'w') {
            size_t n = strlen(line + 2);
            if (n && line[2 + n - 1] == '\n') n--;
            if (write(1, line + 2, n) < 0) return 2;
        }
    }
    return 0;
}
"""

#: Reads its stdin only when told on fd 3 ("r N": read up to N bytes, print them).
READER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(void) {
    FILE *c = fdopen(3, "r");
    char line[64], buf[4096];
    if (!c) return 3;
    while (fgets(line, sizeof line, c)) {
        if (line[0] == 'q') return 0;
        if (line[0] == 'r') {
            int n = atoi(line + 2);
            if (n > 4096) n = 4096;
            ssize_t got = read(0, buf, n);
            if (got < 0) return 2;
            printf("got %zd: %.*s\n", got, (int)got, buf);
            fflush(stdout);
            if (got == 0) return 0;
        }
    }
    return 0;
}
"""

#: Says it is ready, then receives two messages from the queue given, printing each.
RECEIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/msg.h>
struct msg { long type; char text[64]; };
int main(int argc, char **argv) {
    int id = atoi(argv[1]);
    struct msg m;
    printf("waiting\n");
    fflush(stdout);
    for (int i = 0; i < 2; i++) {
        ssize_t n = msgrcv(id, &m, sizeof m.text, 0, 0);
        if (n < 0) { perror("msgrcv"); return 1; }
        printf("got %ld %.*s\n", m.type, (int)n, m.text);
        fflush(stdout);
    }
    return 0;
}
"""

#: The same with a POSIX queue, opened by the name given (the test made it).
POSIX_RECEIVER = r"""
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
int main(int argc, char **argv) {
    char text[64];
    mqd_t q = mq_open(argv[1], O_RDONLY);
    if (q == (mqd_t)-1) { perror("mq_open"); return 1; }
    printf("waiting\n");
    fflush(stdout);
    for (int i = 0; i < 2; i++) {
        ssize_t n = mq_receive(q, text, sizeof text, NULL);
        if (n < 0) { perror("mq_receive"); return 1; }
        printf("got %.*s\n", (int)n, text);
        fflush(stdout);
    }
    return 0;
}
"""

#: A sender blocked on a full POSIX queue and a receiver told (a line on stdin) to take
#: three messages: the first two were in the queue before the attach.
POSIX_FULL = r"""
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
    char text[64], line[8];
    mqd_t q = mq_open(argv[1], O_RDWR);
    if (q == (mqd_t)-1) { perror("mq_open"); return 1; }
    pid_t kid = fork();
    if (kid == 0) {
        if (!fgets(line, sizeof line, stdin)) return 2;
        for (int i = 0; i < 3; i++) {
            ssize_t n = mq_receive(q, text, sizeof text, NULL);
            if (n < 0) { perror("mq_receive"); return 1; }
            printf("got %.*s\n", (int)n, text);
            fflush(stdout);
        }
        return 0;
    }
    printf("sending\n");
    fflush(stdout);
    if (mq_send(q, "new", 3, 0) < 0) { perror("mq_send"); return 1; }
    int st;
    waitpid(kid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
"""


def wait_for(cond: Callable[[], object], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def status(pid: int) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def traced(pid: int) -> bool:
    return status(pid).get("TracerPid", "0") != "0"


def tree(pid: int) -> list[int]:
    kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(p for k in kids for p in tree(int(k)))]


def runs_unharmed(pid: int) -> None:
    """Not stopped, not traced any more: ipcviz let it go as it found it."""
    st = status(pid)
    assert st["State"][0] not in "tT", st["State"]
    assert st["TracerPid"] == "0"


def events(trace: Path) -> list[dict]:
    """The trace's complete lines so far (the engine writes it as the run goes)."""
    try:
        text = trace.read_text()
    except FileNotFoundError:
        return []
    lines = [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]
    return [e for e in lines if "kind" in e]  # not the header


class Attached:
    """``ipcviz attach PID --headless --record T`` running; its log lines as they come."""

    def __init__(self, pid: int, trace: Path, *extra: str) -> None:
        self.trace = trace
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ipcviz",
                "attach",
                str(pid),
                "--headless",
                *self.options(extra),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def options(self, extra: tuple[str, ...]) -> list[str]:
        return ["--record", str(self.trace), *extra]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return "\n".join(self.lines)

    def says(self, text: str) -> None:
        wait_for(lambda: text in self.log() or self.proc.poll() is not None, repr(text))
        assert text in self.log(), self.log()

    def attached(self, pids: list[int]) -> None:
        """strace traces every process, and the engine took its first probe after that."""
        wait_for(lambda: all(traced(p) for p in pids), "strace to attach")
        wait_for(
            lambda: any(e.get("why") == "attached" for e in events(self.trace)),
            "the probe taken once attached",
        )

    def detach(self) -> str:
        """SIGINT, as Ctrl-C: ipcviz detaches and ends by itself (exit 0)."""
        self.proc.send_signal(signal.SIGINT)
        return self.end()

    def end(self) -> str:
        rc = self.proc.wait(DEADLINE)
        self._reader.join(DEADLINE)
        assert self.proc.stderr is not None
        err = self.proc.stderr.read()
        assert rc == 0, self.log() + err
        return err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


def verified(trace: Path) -> None:
    done = ipcviz("verify", str(trace))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "legal history" in done.stdout


@contextmanager
def pipeline(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, object, object]]:
    """``sh -c 'writer < c1 | reader 3< c2'``, and the test's ends of both control FIFOs."""
    writer = compile_c(tmp_path, "writer", WRITER)
    reader = compile_c(tmp_path, "reader", READER)
    c1, c2 = tmp_path / "c1", tmp_path / "c2"
    os.mkfifo(c1, 0o600)
    os.mkfifo(c2, 0o600)
    sh = subprocess.Popen(
        ["sh", "-c", f"{writer} < {c1} | {reader} 3< {c2}"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    to_writer = open(c1, "w")  # noqa: SIM115 - closed below (it ends the writer)
    to_reader = open(c2, "w")  # noqa: SIM115
    try:
        yield sh, to_writer, to_reader
    finally:
        for f in (to_writer, to_reader):
            try:
                f.close()
            except BrokenPipeError:
                pass
        try:
            sh.wait(DEADLINE)
        finally:
            if sh.poll() is None:
                sh.kill()
                sh.wait()
            assert sh.stdout is not None
            sh.stdout.close()


def tell(f: object, line: str) -> None:
    f.write(line + "\n")  # type: ignore[attr-defined]
    f.flush()  # type: ignore[attr-defined]


@needs_tools
def test_attach_to_a_running_pipeline_shows_the_pipe_and_the_bytes(tmp_path: Path) -> None:
    """The pipe between two running C programs: found with what it held (a probe reading),
    then every byte written and read after the attach, with its content; after the detach
    both programs finish their work."""
    from ipcviz import probe

    trace = tmp_path / "attach.jsonl"
    with pipeline(tmp_path) as (sh, to_writer, to_reader):
        wait_for(lambda: len(tree(sh.pid)) == 3, "the pipeline's two programs")
        writer = tree(sh.pid)[1]
        pipe = os.readlink(f"/proc/{writer}/fd/1")
        assert pipe.startswith("pipe:[")
        tell(to_writer, "w abc")  # before the attach: 3 bytes ipcviz never saw written
        wait_for(lambda: (p := probe.peek_pipe(writer, 1)) and p.nbytes == 3, "3 bytes in")
        ipc = Attached(sh.pid, trace)
        try:
            ipc.attached(tree(sh.pid))
            ipc.says(f"found pipe {pipe} already there")
            # the reading is said once it is in the trace (written before the viewer gets
            # it); the declare's line may come a flush earlier (seen on a loaded machine)
            ipc.says(f'kernel reading of {pipe}: holds 3 B: "abc" (a probe')
            found = [e for e in events(trace) if e["kind"] == "probe.pipe" and e["obj"] == pipe]
            assert found and found[0]["nbytes"] == 3  # what it held: the kernel's reading
            assert base64.b64decode(found[0]["data"]) == b"abc"
            assert not [e for e in events(trace) if e["kind"] == "pipe.write"]  # none made up
            # both wait for their next command, and strace shows it: their calls are traced
            ipc.says(f"reads from {tmp_path / 'c1'}…")
            ipc.says(f"reads from {tmp_path / 'c2'}…")
            tell(to_writer, "w hello")
            ipc.says(f'wrote 5 B to {pipe}: "hello"')
            tell(to_reader, "r 8")
            assert sh.stdout is not None
            assert sh.stdout.readline() == "got 8: abchello\n"
            ipc.says(f'read 8 B from {pipe}: "abchello"')
            said = ipc.detach()
            # Ctrl-C's line says what attach does: it lets go, it stops nothing
            assert "lets go of the processes (they run on)" in said, said
            assert "the processes stop" not in said, said
        finally:
            ipc.kill()
        for pid in tree(sh.pid):
            runs_unharmed(pid)
        tell(to_writer, "w z")
        tell(to_writer, "q")
        tell(to_reader, "r 8")
        assert sh.stdout.readline() == "got 1: z\n"
        tell(to_reader, "r 8")
        assert sh.stdout.readline() == "got 0: \n"
        assert sh.wait(DEADLINE) == 0
    verified(trace)
    log = "\n".join(ipc.lines)
    assert "stopped by the user" in log
    # the engine said nothing about the processes ending: they did not, while watched
    kinds = [e["kind"] for e in events(trace)]
    assert "proc.exit" not in kinds


@contextmanager
def _blocked(binary: Path, arg: str) -> Iterator[subprocess.Popen]:
    """``binary arg`` started, once it said "waiting" and sleeps in its receive; killed
    and reaped at the end."""
    proc = subprocess.Popen(
        [str(binary), arg], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "waiting\n"
        # asleep after saying so: its next call is the receive, the only one that can sleep
        wait_for(lambda: status(proc.pid)["State"][0] == "S", "the receiver to block")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


@contextmanager
def receiver(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, object]]:
    """A C program blocked in msgrcv on a System V queue the test made (and removes)."""
    import sysv_ipc

    binary = compile_c(tmp_path, "receiver", RECEIVER)
    queue = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX, 0o600)
    try:
        with _blocked(binary, str(queue.id)) as proc:
            yield proc, queue
    finally:
        queue.remove()


@contextmanager
def posix_receiver(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, object]]:
    """A C program blocked in mq_receive on a POSIX queue the test made (and removes)."""
    import posix_ipc

    binary = compile_c(tmp_path, "posix_receiver", POSIX_RECEIVER)
    name = f"/ipcviz-test-attach-{os.getpid()}"
    queue = posix_ipc.MessageQueue(
        name, posix_ipc.O_CREX, 0o600, max_messages=4, max_message_size=64
    )
    try:
        with _blocked(binary, name) as proc:
            yield proc, queue
    finally:
        queue.close()
        queue.unlink()


@needs_tools
def test_attach_finds_the_posix_queue_a_process_holds(tmp_path: Path) -> None:
    """A POSIX queue the process opened before the attach is found in /proc/PID/fd, with
    /dev/mqueue mounted or not (its descriptor is known by its filesystem), and what the
    process receives from it after the attach is shown. Before, without the mount, the
    queue was not found and every receive from it was dropped: nothing on the screen."""
    trace = tmp_path / "attach.jsonl"
    with posix_receiver(tmp_path) as (proc, queue):
        ipc = Attached(proc.pid, trace)
        try:
            ipc.attached([proc.pid])
            declared = [e for e in events(trace) if e["kind"] == "obj.declare"]
            found = [e for e in declared if e["type"] == "posix_mq"]
            assert found and found[0].get("outside"), declared
            name = found[0]["obj"]
            queue.send(b"hello")  # sent by the test: a process ipcviz does not watch
            assert proc.stdout is not None
            assert proc.stdout.readline() == "got hello\n"
            # its depth is not made up from the traced messages alone: it held messages
            # before the attach, which only the kernel's readings count
            ipc.says(f'received from {name} (priority 0): "hello" [0 traced in it; earlier')
            assert "queued]" not in ipc.log(), ipc.log()
            ipc.detach()
        finally:
            ipc.kill()
        runs_unharmed(proc.pid)
        queue.send(b"bye")
        assert proc.stdout.readline() == "got bye\n"
        assert proc.wait(DEADLINE) == 0
    verified(trace)


@needs_tools
def test_a_writer_whose_reader_is_not_watched_is_a_legal_history(tmp_path: Path) -> None:
    """Attached to a writer only; its reader (this test) is outside the tree. 300 writes
    of 250 B, each read by the test before the next: the pipe never holds more than one.
    The model, which sees no read, counted them all in the pipe, and from the 263rd on
    each write was "into a pipe with 0 B of room": an order.conflict each, `verify`
    failed. A found pipe's room is not known: any write is legal there."""
    binary = compile_c(tmp_path, "writer", WRITER)
    trace = tmp_path / "attach.jsonl"
    with subprocess.Popen(
        [str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        ipc = Attached(proc.pid, trace)
        try:
            ipc.attached([proc.pid])
            out = proc.stdout.fileno()
            for _ in range(300):
                tell(proc.stdin, "w " + "y" * 250)
                got = b""
                while len(got) < 250:
                    got += os.read(out, 250 - len(got))
            tell(proc.stdin, "q")
            assert proc.wait(DEADLINE) == 0
            ipc.end()
        finally:
            ipc.kill()
    writes = [e for e in events(trace) if e["kind"] == "pipe.write"]
    assert len(writes) == 300 and sum(e["n"] for e in writes) == 75_000
    assert [e for e in events(trace) if e["kind"] == "order.conflict"] == []
    verified(trace)


@needs_tools
def test_a_process_waiting_for_a_message_is_no_deadlock(tmp_path: Path) -> None:
    """A process asleep in mq_receive on a named queue is waiting for a client, not stuck.
    The watched tree is no descendant of ipcviz's engine, and strace is no party to its
    IPC: the proof's set of processes was empty, so "every process is blocked" held, and
    within 0.2 s the log said DEADLOCK. With no process of the run to look at, nothing is
    proven. (Awaited: the kernel probes of the next two seconds, each 0.5 s apart, while
    the deadlock watcher looks every 0.1 s.)"""
    trace = tmp_path / "attach.jsonl"
    with posix_receiver(tmp_path) as (proc, queue):
        ipc = Attached(proc.pid, trace)
        try:
            ipc.attached([proc.pid])
            begun = len([e for e in events(trace) if e["kind"] == "probe.posix_mq"])
            wait_for(
                lambda: (
                    len([e for e in events(trace) if e["kind"] == "probe.posix_mq"]) >= begun + 4
                ),
                "four more kernel probes",
            )
            queue.send(b"one")
            queue.send(b"two")
            assert proc.wait(DEADLINE) == 0
            ipc.end()
        finally:
            ipc.kill()
    assert [e for e in events(trace) if e["kind"] == "deadlock"] == []
    assert "DEADLOCK" not in ipc.log()
    verified(trace)


@needs_tools
def test_a_queue_full_at_attach_is_a_legal_history(tmp_path: Path) -> None:
    """The queue holds two messages from before the attach, its sender is blocked on it,
    then a receiver takes three. The engine's ordering knew only the traced messages: the
    receive of an old one had no legal place, the send none either (an order.conflict
    each, accusing a correct program), and `verify` failed. Such a queue's contents are
    the kernel's to say, as an outside semaphore's value: every order is legal."""
    import posix_ipc

    binary = compile_c(tmp_path, "posix_full", POSIX_FULL)
    name = f"/ipcviz-test-full-{os.getpid()}"
    queue = posix_ipc.MessageQueue(
        name, posix_ipc.O_CREX, 0o600, max_messages=2, max_message_size=64
    )
    trace = tmp_path / "attach.jsonl"
    try:
        queue.send(b"old1")  # full before the program starts: its send must wait
        queue.send(b"old2")
        with subprocess.Popen(
            [str(binary), name], stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True
        ) as proc:
            try:
                assert proc.stdout is not None and proc.stdin is not None
                assert proc.stdout.readline() == "sending\n"
                wait_for(lambda: len(tree(proc.pid)) == 2, "the receiver to be forked")
                pids = tree(proc.pid)
                wait_for(lambda: all(status(p)["State"][0] == "S" for p in pids), "to block")
                ipc = Attached(proc.pid, trace)
                try:
                    ipc.attached(pids)
                    tell(proc.stdin, "go")
                    got = [proc.stdout.readline() for _ in range(3)]
                    assert got == ["got old1\n", "got old2\n", "got new\n"]
                    assert proc.wait(DEADLINE) == 0
                    ipc.end()  # every watched process ended: the watch ends by itself
                finally:
                    ipc.kill()
            finally:
                if proc.poll() is None:  # the child too: the Popen reaps only the parent
                    with contextlib.suppress(OSError):
                        for pid in tree(proc.pid):
                            os.kill(pid, signal.SIGKILL)
    finally:
        queue.close()
        queue.unlink()
    assert [e for e in events(trace) if e["kind"] == "order.conflict"] == []
    assert len([e for e in events(trace) if e["kind"] == "mq.recv"]) == 3
    verified(trace)


@needs_tools
def test_attach_to_a_process_blocked_in_msgrcv(tmp_path: Path) -> None:
    """The queue and its waiter are shown at once; a message sent after the attach is seen
    received, with its type and bytes; after the detach the process runs on, receives a
    later message and exits 0."""
    trace = tmp_path / "attach.jsonl"
    with receiver(tmp_path) as (proc, queue):
        name = f"msqid:{queue.id}"
        ipc = Attached(proc.pid, trace)
        try:
            ipc.attached([proc.pid])
            ipc.says(f"receives from {name}…")  # the waiter (its type: strace says it later)
            waits = [e for e in events(trace) if e["kind"] == "mq.recv.begin"]
            assert waits and waits[0]["obj"] == name and waits[0]["pid"] == proc.pid
            declared = [e for e in events(trace) if e["kind"] == "obj.declare"]
            assert any(e["obj"] == name and e.get("outside") for e in declared)
            queue.send(b"hello", type=3)  # sent by the test: a process ipcviz does not watch
            assert proc.stdout is not None
            assert proc.stdout.readline() == "got 3 hello\n"
            ipc.says(f'received from {name} (type 3): "hello"')
            ipc.detach()
        finally:
            ipc.kill()
        runs_unharmed(proc.pid)
        queue.send(b"bye", type=1)
        assert proc.stdout.readline() == "got 1 bye\n"
        assert proc.wait(DEADLINE) == 0
    verified(trace)


@needs_tools
def test_duration_ends_the_watch_and_the_process_runs_on(tmp_path: Path) -> None:
    """--duration: ipcviz detaches by itself (exit 0); the process was never stopped, is
    not traced any more, finishes its work; nothing of ipcviz's is left (``no_leaks``)."""
    trace = tmp_path / "attach.jsonl"
    with receiver(tmp_path) as (proc, queue):
        ipc = Attached(proc.pid, trace, "--duration", "0.5")
        try:
            ipc.attached([proc.pid])
            ipc.end()
        finally:
            ipc.kill()
        runs_unharmed(proc.pid)
        queue.send(b"one", type=1)
        queue.send(b"two", type=2)
        assert proc.stdout is not None
        assert proc.stdout.readline() == "got 1 one\n"
        assert proc.stdout.readline() == "got 2 two\n"
        assert proc.wait(DEADLINE) == 0
    verified(trace)
    end = [e for e in events(trace) if e["kind"] == "session.end"]
    assert end and end[0]["outcome"] == "stopped" and end[0]["reason"] == "duration"


@pytest.mark.parametrize("duration", ["0", "-1", "nan", "inf", "1e309"])
def test_a_duration_that_is_no_finite_time_is_one_line_and_exit_2(duration: str) -> None:
    """--duration must be a finite number of seconds above 0, as run's --timeout: "inf"
    (or 1e309) was taken, and the watch ran until the processes ended, as with none."""
    target = subprocess.Popen(["sleep", "60"])
    try:
        done = ipcviz("attach", str(target.pid), "--headless", "--duration", duration)
    finally:
        target.kill()
        target.wait()
    assert done.returncode == 2, done.stdout[-500:] + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "give a number of seconds above 0" in lines[0], done.stderr


@pytest.mark.parametrize(
    ("pid", "says"),
    [
        ("abc", "not a process id"),
        ("0", "not a process id"),
        ("1", "pid 1"),
        ("self", "not a process id"),
        ("parent", "ipcviz itself"),
        ("gone", "no such process"),
        ("thread", "a thread of process"),
    ],
)
def test_bad_pid_is_one_line_and_exit_2(pid: str, says: str) -> None:
    if pid == "thread":  # a thread of this test process: its id is not a process's
        ready, done = threading.Event(), threading.Event()
        tid: list[int] = []

        def wait() -> None:
            tid.append(threading.get_native_id())
            ready.set()
            done.wait(DEADLINE)

        t = threading.Thread(target=wait, daemon=True)
        t.start()
        ready.wait(DEADLINE)
        try:
            test_bad_pid_is_one_line_and_exit_2(str(tid[0]), says)
        finally:
            done.set()
            t.join(DEADLINE)
        return
    if pid == "parent":
        pid = str(os.getpid())  # the test runs ipcviz: its own ancestor
    elif pid == "gone":
        pid = str(2**22 + 1)  # above pid_max's default ceiling: never a process
    elif pid == "self":
        pid = "$$"
    done = ipcviz("attach", pid, "--headless")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ipcviz: attach"), done.stderr
    assert says in lines[0]


@needs_tools
async def test_the_screen_shows_the_attached_queue_and_q_detaches(tmp_path: Path) -> None:
    """On the session screen: the queue the process waits on and the waiter; ``q`` detaches
    (the engine ends, strace with it) and the process goes on: it receives and exits 0."""
    from ipcviz.tui.app import IpcvizApp
    from ipcviz.tui.feed import LiveFeed
    from ipcviz.tui.screens.session import SessionScreen
    from ipcviz.tui.widgets.panels import ObjectView
    from tests.anyprog.test_screen import until

    trace = tmp_path / "attach.jsonl"
    with receiver(tmp_path) as (proc, queue):
        name = f"msqid:{queue.id}"
        feeds: list[LiveFeed] = []

        def feed() -> LiveFeed:
            feeds.append(LiveFeed(Path(f"attach-{proc.pid}"), trace, attach=proc.pid))
            return feeds[-1]

        app = IpcvizApp(feed, lang="en")
        async with app.run_test(size=(140, 50)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, SessionScreen), "the session")
            screen = app.screen
            assert isinstance(screen, SessionScreen)

            def waiting() -> bool:
                p = screen.state.procs.get(proc.pid)
                return name in screen.state.objects and p is not None and p.on == name

            await until(pilot, waiting, "the queue and its waiter")
            await until(pilot, lambda: traced(proc.pid), "strace to attach")
            screen.tick()
            screen.redraw(True)
            await pilot.pause()
            shown = "\n".join(line for v in screen.query(ObjectView) for line in v.plain_lines())
            assert name in shown
            # found at attach: the bar counts the traced messages and says so
            assert "msgs traced" in shown, shown
            await pilot.press("f")  # freeze: refused, the process is not ipcviz's to stop

            def refused() -> bool:
                return any(e.get("action") == "refused" for e in events(trace))

            await until(pilot, refused, "the engine to refuse the freeze")
            assert not screen.state.frozen
            assert status(proc.pid)["State"][0] not in "tT"
            await pilot.press("q")
        (engine,) = feeds
        assert engine.engine.proc.poll() is not None  # the engine ended, strace with it
        runs_unharmed(proc.pid)
        queue.send(b"after", type=5)
        assert proc.stdout is not None
        assert proc.stdout.readline() == "got 5 after\n"
        queue.send(b"last", type=6)
        assert proc.stdout.readline() == "got 6 last\n"
        assert proc.wait(DEADLINE) == 0
    verified(trace)


def test_without_strace_attach_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """No strace on PATH: one line saying so, exit 2; the process is not touched."""
    sleeper = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL)
    try:
        env = {**os.environ, "PATH": str(tmp_path)}
        done = ipcviz("attach", str(sleeper.pid), "--headless", env=env)
        assert done.returncode == 2
        assert done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert lines == [lines[0]] and "strace is not installed" in lines[0]
        runs_unharmed(sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()


# -- the model's rules for objects found at attach (hand-made events, no process) ----------


def _history(declare: dict, *ops: dict) -> tuple[list[str], object]:
    """The violations ``ipcviz verify`` finds in these events, and the final model."""
    from ipcviz.model.reducer import apply
    from ipcviz.model.state import State
    from ipcviz.model.verify import Verifier

    events = [
        {"t": 0, "seq": 0, "pid": 7, "kind": "proc.start", "name": "p"},
        {"t": 1, "seq": 1, "pid": 0, "kind": "obj.declare", **declare},
    ]
    for i, op in enumerate(ops):
        events.append({"t": 10 + 10 * i, "seq": 2 + i, "pid": 7, **op})
    state, verifier, found = State(), Verifier(), []
    for e in events:
        found += [v.line() for v in verifier.feed(state, e)]
        apply(state, e)
    return found, state


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize("outside", [False, True])
def test_bytes_found_at_attach_may_be_read_without_a_traced_write(outside: bool) -> None:
    """A pipe found at attach may hold bytes no event shows: reading them is legal there,
    and only there; a write in flight at once with that read explains its bytes."""
    declare = {"obj": "p", "type": "pipe", "kernel_name": "pipe:[1]", "capacity": 65536}
    if outside:
        declare.update(discovered=True, outside=True)
    read = {"kind": "pipe.read", "obj": "p", "n": 3, "max": 8, "data": _b64(b"abc")}
    write = {"kind": "pipe.write", "obj": "p", "n": 5, "size": 5, "data": _b64(b"abcde")}
    found, state = _history(declare, read, write)
    if not outside:
        assert found and "read of 3 B from a pipe holding 0 B" in found[0]
        return
    assert found == []
    pipe = state.objects["p"]  # type: ignore[attr-defined]
    assert pipe.from_outside == 0 and pipe.nbytes == 2  # the write explained "abc"
    found, state = _history(declare, read)
    assert found == [] and state.objects["p"].from_outside == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize("outside", [False, True])
def test_a_message_found_at_attach_may_be_received_without_a_traced_send(outside: bool) -> None:
    declare = {"obj": "q", "type": "sysv_mq", "kernel_name": "msqid 5", "max_bytes": 16384}
    if outside:
        declare.update(discovered=True, outside=True)
    recv = {"kind": "mq.recv", "obj": "q", "n": 5, "size": 5, "mtype": 3, "data": _b64(b"hello")}
    found, state = _history(declare, recv)
    assert bool(found) is not outside
    if outside:
        assert state.objects["q"].from_outside == 1  # type: ignore[attr-defined]


def test_a_semaphore_found_at_attach_may_be_taken_at_an_unknown_value() -> None:
    declare = {"obj": "s", "type": "sysv_sem", "kernel_name": "semid 9", "value": 0}
    found, _ = _history(declare, {"kind": "sem.wait", "obj": "s", "n": 1})
    assert found  # value 0, known: a wait could not have completed
    found, state = _history(
        {**declare, "discovered": True, "outside": True}, {"kind": "sem.wait", "obj": "s", "n": 1}
    )
    assert found == [] and state.objects["s"].value == 0  # type: ignore[attr-defined]


@needs_tools
def test_the_watch_ends_when_every_watched_process_ended(tmp_path: Path) -> None:
    """Attached to a receiver that then gets its two messages and exits: its exit (code 0)
    is recorded, ipcviz ends by itself (exit 0) and the trace is a legal history."""
    trace = tmp_path / "attach.jsonl"
    with receiver(tmp_path) as (proc, queue):
        ipc = Attached(proc.pid, trace)
        try:
            ipc.attached([proc.pid])
            queue.send(b"one", type=1)
            queue.send(b"two", type=2)
            assert proc.wait(DEADLINE) == 0
            ipc.end()
        finally:
            ipc.kill()
    verified(trace)
    exits = [e for e in events(trace) if e["kind"] == "proc.exit"]
    assert [(e["pid"], e["code"]) for e in exits] == [(proc.pid, 0)]
    end = [e for e in events(trace) if e["kind"] == "session.end"]
    assert end[0]["reason"] == "every watched process ended"


def test_a_read_that_straddles_bytes_from_before_and_traced_ones() -> None:
    """Found holding "abc" (unknown to the trace), then "hello" written: a read of 4 B gets
    "abch": 3 B from before, then the first traced byte; "ello" stays."""
    declare = {
        "obj": "p", "type": "pipe", "kernel_name": "pipe:[1]", "capacity": 65536,
        "discovered": True, "outside": True,
    }  # fmt: skip
    write = {"kind": "pipe.write", "obj": "p", "n": 5, "size": 5, "data": _b64(b"hello")}
    read = {"kind": "pipe.read", "obj": "p", "n": 4, "max": 4, "data": _b64(b"abch")}
    found, state = _history(declare, write, read)
    pipe = state.objects["p"]  # type: ignore[attr-defined]
    assert found == []
    assert (pipe.from_outside, pipe.nbytes, pipe.contents()) == (3, 4, b"ello")


#: A ``sitecustomize`` for the engine of ``ipcviz attach``: its first look at /proc misses
#: every process but the root, as when a child is forked between that look and strace's
#: attach (the race, forced).
MISSING_SCAN = """
import ipcviz.sources.strace.attach as A

real = A.tree
calls = []


def tree(root):
    calls.append(root)
    found = real(root)
    return found[:1] if len(calls) == 1 else found


A.tree = tree
"""


@needs_tools
def test_a_child_the_scan_missed_is_said_untraced(tmp_path: Path) -> None:
    """strace ``-f`` follows forks from its attach on: a child forked before it is traced by
    no one, and the trace says so (``notice``, ``attach-missed``) instead of keeping quiet."""
    trace = tmp_path / "attach.jsonl"
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(MISSING_SCAN)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'site'}:{os.getcwd()}"}
    tree_ = subprocess.Popen(["sh", "-c", "sleep 300 & exec sleep 301"])
    try:
        wait_for(lambda: len(tree(tree_.pid)) == 2, "the child sleep")
        child = tree(tree_.pid)[1]
        args = ["--headless", "--record", str(trace), "--duration", "1"]
        done = ipcviz("attach", str(tree_.pid), *args, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        missed = [e for e in events(trace) if e["kind"] == "notice"]
        assert [(e["pid"], e["reason"], e["name"]) for e in missed] == [
            (child, "attach-missed", "sleep")
        ]
        assert f"process {child} (sleep) started while ipcviz attached" in done.stdout
        verified(trace)  # naming the untraced process is the notice's point: no 'unknown'
        assert not traced(child) and not traced(tree_.pid)  # detached, both run on
        korean = ipcviz("replay", str(trace), "--headless", "--lang", "ko")
        assert f"프로세스 {child} (sleep)" in korean.stdout, korean.stdout
    finally:
        for pid in tree(tree_.pid):
            os.kill(pid, signal.SIGKILL)
        tree_.kill()
        tree_.wait()


#: A writer of 4 KiB every 5 ms to its stdout (800 KiB in all): the writing end of
#: ``writer | cat`` whose reader is no process of the watched tree.
STEADY_WRITER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* Traced yet (/proc/self/status): the writes wait for strace, however slow its attach. */
static int traced(void) {
    char line[256];
    int pid = 0;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "TracerPid:", 10))
            pid = atoi(line + 10);
    if (f)
        fclose(f);
    return pid != 0;
}
int main(void) {
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    fprintf(stderr, "writing\n");
    for (int i = 0; i < 60000 && !traced(); i++)
        usleep(1000);
    for (int i = 0; i < 200; i++) {
        if (write(1, buf, sizeof buf) < 0) return 1;
        usleep(5000);
    }
    return 0;
}
"""


@needs_tools
def test_the_writer_of_a_pipeline_whose_reader_is_not_watched(tmp_path: Path) -> None:
    """``ipcviz attach`` to the writer of ``writer | cat``: cat reads the pipe unwatched.
    The model counted every traced write as still in the pipe, so past 64 KiB each write
    was 'into a pipe with -4096 B of room' (an order.conflict per write, accusing a
    correct program; verify failed), and it kept every byte ever written. A process ipcviz
    does not watch may empty an outside pipe: the model holds no more than its capacity."""
    from ipcviz.model.reducer import apply_all
    from ipcviz.model.state import State

    binary = compile_c(tmp_path, "steady_writer", STEADY_WRITER)
    trace = tmp_path / "attach.jsonl"
    writer = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader = subprocess.Popen(["cat"], stdin=writer.stdout, stdout=subprocess.DEVNULL)
    try:
        assert writer.stdout is not None and writer.stderr is not None
        writer.stdout.close()  # cat alone reads it
        assert writer.stderr.readline() == b"writing\n"
        ipc = Attached(writer.pid, trace)
        try:
            ipc.attached([writer.pid])
            assert writer.wait(DEADLINE) == 0
            ipc.end()  # every watched process ended: the watch ends by itself
        finally:
            ipc.kill()
        assert reader.wait(DEADLINE) == 0
    finally:
        for p in (writer, reader):
            if p.poll() is None:
                p.kill()
                p.wait()
        if writer.stderr is not None:
            writer.stderr.close()
    found = events(trace)
    writes = [e for e in found if e["kind"] == "pipe.write"]
    assert sum(e["n"] for e in writes) > 2 * 65536, len(writes)  # past the capacity
    assert [e for e in found if e["kind"] == "order.conflict"] == []
    verified(trace)
    (name,) = {e["obj"] for e in writes}  # (its stderr, a pipe to the test, is found too)
    pipe = apply_all(State(), found).objects[name]
    assert pipe.outside and pipe.nbytes <= pipe.capacity  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["posix_mq", "sysv_mq"])
def test_traced_sends_past_an_outside_queues_limit_accuse_nobody(kind: str) -> None:
    """A queue found at attach may be emptied by a process ipcviz does not watch: more
    traced sends than it can hold were 'send to a full queue (2/2 messages)'. The model
    keeps no more than the queue can hold."""
    if kind == "posix_mq":
        declare = {"obj": "q", "type": kind, "kernel_name": "/q", "max_messages": 2,
                   "max_message_size": 8}  # fmt: skip
        send = {"kind": "mq.send", "obj": "q", "prio": 0, "size": 1, "data": _b64(b"x")}
    else:
        declare = {"obj": "q", "type": kind, "kernel_name": "msqid 5", "max_bytes": 2}
        send = {"kind": "mq.send", "obj": "q", "mtype": 1, "size": 1, "data": _b64(b"x")}
    found, _ = _history(declare, send, send, send)
    assert found  # its contents all traced: a third message cannot be in it
    found, state = _history({**declare, "discovered": True, "outside": True}, send, send, send)
    assert found == []
    assert len(state.objects["q"].messages) == 2  # type: ignore[attr-defined]


def test_a_queue_fed_by_an_unwatched_sender_keeps_no_growing_record() -> None:
    """A consumer attached, its producer not watched: each message it receives came from
    outside, and the model kept every one in ``early`` (a message received before its
    send, waiting for the send that explains it): a record growing with every message of
    a long watch, searched through at every traced send. Only a send in flight at once
    explains a receive: the model keeps the last few."""
    from ipcviz.mechanisms.posix_mq.model import EARLY_KEPT

    declare = {"obj": "q", "type": "posix_mq", "kernel_name": "/q", "max_messages": 10,
               "max_message_size": 8, "discovered": True, "outside": True}  # fmt: skip
    recvs = [
        {"kind": "mq.recv", "obj": "q", "prio": 0, "size": 2, "data": _b64(b"%02d" % (i % 100))}
        for i in range(EARLY_KEPT * 3)
    ]
    send = {"kind": "mq.send", "obj": "q", "prio": 0, "size": 2, "data": recvs[-1]["data"]}
    found, state = _history(declare, *recvs, send)
    q = state.objects["q"]
    assert found == []
    assert len(q.early) < EARLY_KEPT and q.deficit == len(q.early)  # type: ignore[attr-defined]
    assert q.from_outside == len(recvs) - 1  # the last one's send explained it
