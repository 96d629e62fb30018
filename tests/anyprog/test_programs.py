"""Real C programs, compiled here, watched with ``ipcviz run -- PROG``: what ipcviz shows is
what the program did (bytes, message types, order), the trace is a legal history, and
nothing is left behind that the program did not leave."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ipcviz.events.codec import payload
from ipcviz.events.trace import TraceReader
from tests.anyprog import programs


def _strace_works() -> bool:
    """strace is there and may trace (ptrace can be refused: a container, Yama)."""
    if shutil.which("strace") is None:
        return False
    try:
        done = subprocess.run(
            ["strace", "-f", "-o", os.devnull, "true"], capture_output=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


NO_GCC = shutil.which("gcc") is None
NO_STRACE = not _strace_works()
needs_tools = pytest.mark.skipif(
    NO_GCC or NO_STRACE,
    reason="needs gcc and a strace that may trace (the C programs are compiled and traced "
    "here): apt-get install gcc strace",
)
TIMEOUT = 120


def compile_c(tmp_path: Path, name: str, source: str, *flags: str) -> Path:
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    binary = tmp_path / name
    subprocess.run(["gcc", "-O2", "-pthread", *flags, "-o", str(binary), str(src)], check=True)
    return binary


def ipcviz(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ipcviz", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
    )


def watch(tmp_path: Path, binary: Path, *argv: str) -> tuple[subprocess.CompletedProcess, list]:
    trace = tmp_path / "run.jsonl"
    done = ipcviz("run", "--headless", "--record", str(trace), "--", str(binary), *argv)
    assert done.returncode == 0, done.stdout + done.stderr
    verify = ipcviz("verify", str(trace))
    assert verify.returncode == 0, verify.stdout
    assert "legal history" in verify.stdout
    return done, list(TraceReader.open(trace).events())


def said(events: list) -> list[list[str]]:
    """The program's own report (its stdout), line by line, split in words."""
    text = b"".join(payload(e) for e in events if e["kind"] == "proc.output").decode()
    return [[*line.split(), ""] for line in text.splitlines()]  # "" : no bytes (EOF)


@needs_tools
def test_pipe_bytes_are_what_the_program_wrote_and_read(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "pipe", programs.PIPE)
    _, events = watch(tmp_path, binary)
    report = said(events)
    wrote = [bytes.fromhex(w[2]) for w in report if w[0] == "W"]
    read = [bytes.fromhex(w[2]) for w in report if w[0] == "R"]
    shown_writes = [payload(e) for e in events if e["kind"] == "pipe.write"]
    shown_reads = [payload(e) for e in events if e["kind"] == "pipe.read"]
    assert shown_writes == wrote  # each write, its bytes, in order
    assert shown_reads == read  # each read (7 bytes at most), and the end of file
    assert [e["n"] for e in events if e["kind"] == "pipe.read"][-1] == 0
    # who did what: the pids the program printed are the pids ipcviz shows
    writer = {int(w[1]) for w in report if w[0] == "W"}
    reader = {int(w[1]) for w in report if w[0] == "R"}
    assert {e["pid"] for e in events if e["kind"] == "pipe.write"} == writer
    assert {e["pid"] for e in events if e["kind"] == "pipe.read"} == reader
    starts = {e["pid"]: e for e in events if e["kind"] == "proc.start"}
    assert starts[reader.pop()]["parent"] in starts
    pipes = [e for e in events if e["kind"] == "obj.declare"]
    assert len(pipes) == 1 and pipes[0]["obj"].startswith("pipe:[")


@needs_tools
def test_a_blocked_read_began_before_the_write_that_ended_it(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "blocked", programs.BLOCKED)
    _, events = watch(tmp_path, binary)
    write = next(e for e in events if e["kind"] == "pipe.write")
    read = next(e for e in events if e["kind"] == "pipe.read")
    begin = next((e for e in events if e["kind"] == "pipe.read.begin"), None)
    began = begin["t"] if begin is not None else read["since"]
    assert began < write["t"] and payload(read) == b"go"
    if begin is not None:  # seen waiting: the begin comes before the write in the stream
        assert begin["seq"] < write["seq"] < read["seq"]


def sysv_queue_exists(ident: int) -> bool:
    lines = Path("/proc/sysvipc/msg").read_text().splitlines()[1:]
    return any(line.split()[1] == str(ident) for line in lines)


@needs_tools
def test_typed_queue_types_and_order(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "msgq", programs.MSGQ)
    done, events = watch(tmp_path, binary)
    report = said(events)
    ident = int(next(w[1] for w in report if w[0] == "Q"))
    sent = [(int(w[2]), bytes.fromhex(w[3])) for w in report if w[0] == "S"]
    got = [(int(w[1]), int(w[2]), bytes.fromhex(w[3])) for w in report if w[0] == "R"]
    shown_sent = [(e["mtype"], payload(e)) for e in events if e["kind"] == "mq.send"]
    shown_got = [(e["want"], e["mtype"], payload(e)) for e in events if e["kind"] == "mq.recv"]
    assert shown_sent == sent
    assert shown_got == got
    assert [g[2] for g in got] == [b"b1\x1b[31m", b"a1", b"c1", b"a2", b"c2"]
    declared = next(e for e in events if e["kind"] == "obj.declare")
    assert declared["obj"] == f"msqid:{ident}" and declared["type"] == "sysv_mq"
    # the program removed its queue itself; ipcviz says so and leaves nothing
    assert any(e["kind"] == "obj.remove" and e["obj"] == f"msqid:{ident}" for e in events)
    assert not sysv_queue_exists(ident)
    assert "left" not in done.stdout.split("result:")[-1]


#: A receive with MSG_NOERROR and a buffer shorter than the message: the kernel cuts it.
CUT_RECEIVE = r"""
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
struct msg { long type; char text[64]; };
int main(void) {
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    struct msg m = {1, "hello, world"}, got;
    msgsnd(q, &m, strlen(m.text), 0);   /* 12 bytes */
    msgsnd(q, &m, 5, 0);                /* "hello": a message as long as the buffer */
    ssize_t a = msgrcv(q, &got, 5, 0, MSG_NOERROR);
    ssize_t b = msgrcv(q, &got, 5, 0, MSG_NOERROR);
    printf("%zd %zd\n", a, b);
    msgctl(q, IPC_RMID, NULL);
    return 0;
}
"""


@needs_tools
def test_a_receive_the_kernel_cut_with_msg_noerror_is_no_conflict(tmp_path: Path) -> None:
    """A receive matches a message of its own size only ("xyz" never took "xy"), except
    one with ``MSG_NOERROR`` that filled its buffer: the kernel cut a longer message to it.
    That receive is ``mq.recv`` with ``cut`` (the trace is legal, no conflict)."""
    binary = compile_c(tmp_path, "cut", CUT_RECEIVE)
    _, events = watch(tmp_path, binary)
    assert said(events)[0][:2] == ["5", "5"]
    got = [(e["size"], payload(e), e.get("cut")) for e in events if e["kind"] == "mq.recv"]
    assert got == [(5, b"hello", 1), (5, b"hello", 1)]  # both filled the buffer
    sent = [e["size"] for e in events if e["kind"] == "mq.send"]
    assert sent == [12, 5]
    assert not any(e["kind"] == "order.conflict" for e in events)


@needs_tools
def test_what_the_program_leaves_is_listed_and_never_removed(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "msgq", programs.MSGQ)
    done, events = watch(tmp_path, binary, "--keep")
    ident = int(next(w[1] for w in said(events) if w[0] == "Q"))
    try:
        assert sysv_queue_exists(ident)  # ipcviz did not remove the program's queue
        left = [e for e in events if e["kind"] == "program.leftover"]
        assert [e["obj"] for e in left] == [f"msqid:{ident}"]
        assert f"ipcrm -q {ident}" in done.stdout
    finally:
        import sysv_ipc

        sysv_ipc.remove_message_queue(ident)  # the test ran the program: its queue is ours


def tool_free_path(tmp_path: Path) -> str:
    """A PATH with nothing on it but python (no strace, no compiler)."""
    bare = tmp_path / "bin"
    bare.mkdir()
    os.symlink(sys.executable, bare / "python3")
    return str(bare)


def test_without_strace_the_probes_alone_see_the_program_and_one_line_says_why(
    tmp_path: Path,
) -> None:
    """No strace on PATH: the program still runs, watched by the kernel probes alone (its
    process, its output, its exit), and the trace's one ``notice`` line says why."""
    env = {**os.environ, "PATH": tool_free_path(tmp_path)}
    trace = tmp_path / "untraced.jsonl"
    done = ipcviz("run", "--headless", "--record", str(trace), "--", "/bin/echo", "hi", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    events = list(TraceReader.open(trace).events())
    notices = [e for e in events if e["kind"] == "notice"]
    assert [e["reason"] for e in notices] == ["no-strace"]
    assert done.stdout.count("strace is not installed") == 1
    assert b"".join(payload(e) for e in events if e["kind"] == "proc.output") == b"hi\n"
    starts = [e for e in events if e["kind"] == "proc.start"]
    assert [(e["name"], e["command"]) for e in starts] == [("echo", ["/bin/echo", "hi"])]
    assert "echo seen by the kernel probes" in done.stdout


def test_without_a_compiler_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": tool_free_path(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    done = ipcviz("run", "--headless", "c/pipe-parent-child", env=env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no C compiler" in lines[0], done.stderr


def test_no_such_program_and_misuse(tmp_path: Path) -> None:
    unstartable = {  # files the kernel's execve refuses (ENOEXEC, or ENOENT: no interpreter)
        "no-hashbang.sh": (b"echo hi\n", "neither a compiled program (ELF) nor a script"),
        "no-interpreter": (b"#!/nonexistent/sh\n", "#! line names /nonexistent/sh"),
        "crlf.sh": (b"#!/bin/sh\r\necho hi\r\n", "ends in \\r (Windows line endings)"),
        "empty-hashbang": (b"#! \t\n", "names no interpreter"),
    }
    for name, (text, _words) in unstartable.items():
        (tmp_path / name).write_bytes(text)
        (tmp_path / name).chmod(0o755)
    for args, words in [
        *(
            (["run", "--headless", "--", str(tmp_path / name)], words)
            for name, (_text, words) in unstartable.items()
        ),
        (["run", "--headless", "--", str(tmp_path / "nope")], "no such program"),
        (["run", "--headless", "pipe-basic", "--", "x"], "arguments after --"),
        (["run", "--headless", "--seed", "1", "--", "/bin/true"], "are for Python scenarios"),
        (["run", "c/pipe-parent-child", "--headless", "--pace", "5"], "(a C program): --seed"),
        (["run", "--headless"], "give a scenario"),
    ]:
        done = ipcviz(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and words in done.stderr, done.stderr


@needs_tools
def test_semaphore_operations_and_value(tmp_path: Path) -> None:
    from ipcviz.model.reducer import apply
    from ipcviz.model.state import State

    binary = compile_c(tmp_path, "sem", programs.SEM)
    _, events = watch(tmp_path, binary)
    report = said(events)
    takes = [int(w[1]) for w in report if w[0] == "P"]
    gives = sum(int(w[2]) for w in report if w[0] == "V")
    final = int(next(w[1] for w in report if w[0] == "VAL"))
    waits = [e["pid"] for e in events if e["kind"] == "sem.wait"]
    posts = [e for e in events if e["kind"] == "sem.post"]
    assert waits == takes  # 3 units taken, by the child, one at a time
    assert len(posts) == gives == 4  # 1 + 1 + 2 units given (2 at once: two posts)
    state = State()
    for e in events:
        if e["kind"] == "obj.remove":  # the value the program read just before removing it
            (sem,) = state.objects.values()
            assert sem.value == final == 1
        apply(state, e)


@needs_tools
def test_a_program_run_replays_and_exports(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "pipe", programs.PIPE)
    watch(tmp_path, binary)
    trace = tmp_path / "run.jsonl"
    replay = ipcviz("replay", str(trace), "--headless")
    assert replay.returncode == 0, replay.stderr
    assert "\x1b" not in replay.stdout and "\\x1b[2J" in replay.stdout
    out = tmp_path / "perfetto.json"
    export = ipcviz("export", str(trace), "--format", "perfetto", "-o", str(out))
    assert export.returncode == 0, export.stderr
    assert out.stat().st_size > 0


def test_ptrace_not_permitted_one_clear_line(tmp_path: Path) -> None:
    """strace that may not trace (a container without CAP_SYS_PTRACE, Yama): one line, 2.
    A stand-in strace that fails the way the real one does there."""
    bare = tmp_path / "bin"
    bare.mkdir()
    fake = bare / "strace"
    fake.write_text(
        "#!/bin/sh\necho 'strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: "
        "Operation not permitted' >&2\nexit 1\n"
    )
    fake.chmod(0o700)
    env = {**os.environ, "PATH": f"{bare}:{os.environ.get('PATH', '')}"}
    done = ipcviz(
        "run", "--headless", "--record", str(tmp_path / "t.jsonl"), "--", "/bin/true", env=env
    )
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Operation not permitted" in lines[0], done.stderr
    assert "cannot watch /bin/true" in lines[0]


@needs_tools
def test_threads_are_program_orders_of_their_own(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "threads", programs.THREADS)
    _, events = watch(tmp_path, binary)
    writes = [e for e in events if e["kind"] == "pipe.write"]
    lanes: dict[int, list[bytes]] = {}
    for e in writes:
        lanes.setdefault(e.get("thread", 0), []).append(payload(e))
    assert sorted(lanes.values()) == [[b"a0\n", b"a1\n", b"a2\n"], [b"b0\n", b"b1\n", b"b2\n"]]
    assert 0 not in lanes  # written by the two threads, not the main one
    read = b"".join(payload(e) for e in events if e["kind"] == "pipe.read")
    said = b"".join(payload(e) for e in events if e["kind"] == "proc.output")
    assert read == said == b"".join(payload(e) for e in writes)
    assert len({e["pid"] for e in events if e["kind"] == "proc.start"}) == 1


@needs_tools
def test_fifo_opened_by_path(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "fifo", programs.FIFO)
    path = tmp_path / "the fifo"
    done, events = watch(tmp_path, binary, str(path))
    (declared,) = [e for e in events if e["kind"] == "obj.declare"]
    assert declared["type"] == "fifo" and declared["obj"] == str(path)
    opens = sorted(e["end"] for e in events if e["kind"] == "pipe.open")
    assert opens == [0, 1]  # the reader's and the writer's open
    read = next(w for w in said(events) if w[0] == "R")
    shown = b"".join(payload(e) for e in events if e["kind"] == "pipe.read")
    assert shown == bytes.fromhex(read[1]) == b"over the fifo"
    assert not path.exists() and "left" not in done.stdout.split("result:")[-1]


@needs_tools
def test_a_forked_child_holds_the_fifo_end_it_inherited(tmp_path: Path) -> None:
    """The parent closes its write end while its child still holds the copy fork gave it:
    the reader's end of file is shown after the child's close, not after the parent's."""
    binary = compile_c(tmp_path, "fifofork", programs.FIFO_FORK)
    _, events = watch(tmp_path, binary, str(tmp_path / "f"))
    child = [e["pid"] for e in events if e["kind"] == "proc.start"][-1]
    close = next(e["seq"] for e in events if e["kind"] == "pipe.close" and e["pid"] == child)
    eof = next(e["seq"] for e in events if e["kind"] == "pipe.read" and e["n"] == 0)
    assert close < eof
    assert said(events) == [["R", "12", ""]]


@needs_tools
@pytest.mark.parametrize("name", ["kept", "kept \x01'q"])
def test_a_fifo_left_behind_is_listed_not_removed(tmp_path: Path, name: str) -> None:
    binary = compile_c(tmp_path, "fifo", programs.FIFO)
    path = tmp_path / name
    done, events = watch(tmp_path, binary, str(path), "--keep")
    assert path.exists()  # ipcviz never removes what the program made
    assert [e["obj"] for e in events if e["kind"] == "program.leftover"] == [str(path)]
    # the removal hint is inert on screen and still names the FIFO when pasted into bash
    assert "\x01" not in done.stdout
    (hint,) = {line.split("`")[1] for line in done.stdout.splitlines() if "remove it with" in line}
    assert hint.startswith("rm ")
    pasted = subprocess.run(
        ["bash", "-c", f'set -- {hint[3:]}; printf %s "$@"'], capture_output=True, check=True
    )
    assert pasted.stdout == os.fsencode(path)


@pytest.mark.skipif(NO_STRACE, reason="needs a strace that may trace")
def test_only_a_process_our_strace_traces_is_registered_for_clean() -> None:
    """``clean`` kills a killed run's traced processes by pid and start time; the engine
    records them only while its strace traces them, never a stranger that took the pid of a
    process that already ended (its start time would make ``clean`` kill the stranger)."""
    from ipcviz.sources.strace.feed import traced_by as _traced_by

    tracer = subprocess.Popen(
        ["strace", "-f", "-o", os.devnull, "sh", "-c", "echo $$; exec sleep 60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert tracer.stdout is not None
    child = int(tracer.stdout.readline())  # the traced shell, about to become sleep
    try:
        assert _traced_by(child, tracer.pid)
        assert not _traced_by(os.getpid(), tracer.pid)  # a process it does not trace
        assert not _traced_by(child, os.getpid())  # traced, but by another tracer
    finally:
        os.kill(child, 9)  # ours: started by this test, still traced (not reaped yet)
        tracer.wait()


def c_example(tmp_path: Path, name: str) -> Path:
    """A built-in C example (scenarios/c/), compiled here like the tests' own programs."""
    from ipcviz.sources import cbuild

    return compile_c(tmp_path, name, (cbuild.examples_dir() / f"{name}.c").read_text())


def posix_queue_exists(name: str) -> bool:
    import posix_ipc

    try:
        posix_ipc.MessageQueue(name).close()
    except posix_ipc.ExistentialError:
        return False
    return True


@needs_tools
def test_posix_queue_priorities_notice_and_full_queue(tmp_path: Path) -> None:
    import re

    binary = c_example(tmp_path, "posix_mq_priority")
    _, events = watch(tmp_path, binary)
    text = b"".join(payload(e) for e in events if e["kind"] == "proc.output").decode()
    kernel_name = re.search(r"queue (/\S+),", text).group(1)  # type: ignore[union-attr]
    got = [(int(p), t.encode()) for t, p in re.findall(r'received "(.*)" \(priority (\d+)\)', text)]
    shown_got = [(e["prio"], payload(e)) for e in events if e["kind"] == "mq.recv"]
    assert shown_got == got  # what the program received, in its order, with its priorities
    assert [p for p, _ in got] == [5, 5, 3, 2, 1]
    shown_sent = [(e["prio"], payload(e)) for e in events if e["kind"] == "mq.send"]
    assert sorted(shown_sent) == sorted(got)  # every message sent was received
    (declared,) = [e for e in events if e["kind"] == "obj.declare"]
    assert declared["obj"] == "mq:" + kernel_name and declared["type"] == "posix_mq"
    assert (declared["max_messages"], declared["max_message_size"]) == (4, 64)
    notify = [e for e in events if e["kind"] == "mq.notify"]
    assert [e["pid"] for e in notify] == [declared["pid"]]  # the parent asked, once
    # the fifth send found the queue full: it ended only after the first receive
    late = next(e for e in events if e["kind"] == "mq.send" and e["prio"] == 2)
    first = next(e for e in events if e["kind"] == "mq.recv")
    assert first["seq"] < late["seq"]
    # the program unlinked and closed its queue: ipcviz says so and leaves nothing
    assert [e["obj"] for e in events if e["kind"] == "obj.remove"] == [declared["obj"]]
    assert not posix_queue_exists(kernel_name)
    assert not [e for e in events if e["kind"] == "program.leftover"]


@needs_tools
def test_a_posix_queue_left_behind_is_listed_not_removed(tmp_path: Path) -> None:
    import posix_ipc

    binary = c_example(tmp_path, "posix_mq_priority")
    done, events = watch(tmp_path, binary, "--keep")
    (declared,) = [e for e in events if e["kind"] == "obj.declare"]
    kernel_name = declared["kernel_name"]
    try:
        assert posix_queue_exists(kernel_name)  # ipcviz did not remove the program's queue
        assert [e["obj"] for e in events if e["kind"] == "program.leftover"] == [declared["obj"]]
        assert not [e for e in events if e["kind"] == "obj.remove"]
        assert f"rm /dev/mqueue{kernel_name}" in done.stdout
    finally:
        posix_ipc.unlink_message_queue(kernel_name)  # the test ran the program: ours


@needs_tools
def test_vector_reads_and_writes_on_a_pipe(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "iov", programs.IOV)
    _, events = watch(tmp_path, binary)
    report = said(events)
    wrote = [bytes.fromhex(w[1]) for w in report if w[0] == "W"]
    read = [bytes.fromhex(w[1]) for w in report if w[0] == "R"]
    writes = [e for e in events if e["kind"] == "pipe.write"]
    assert [payload(e) for e in writes] == wrote == [b"ab\x1b[1mcd"] * 2
    assert [(e["n"], e["size"]) for e in writes] == [(8, 8), (8, 8)]  # the buffers' sum
    assert [payload(e) for e in events if e["kind"] == "pipe.read"] == read
    assert b"".join(read) == b"".join(wrote) and read[-1] == b""  # then end of file


def sysv_segment_exists(ident: int) -> bool:
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return any(line.split()[1] == str(ident) for line in lines)


def _cells(events: list, ident: int) -> tuple[list, list[int]]:
    """The segment's readings, and the program's own report of its final cells."""
    readings = [e for e in events if e["kind"] == "probe.shm" and e["obj"] == f"shmid:{ident}"]
    final = [int.from_bytes(bytes.fromhex(w[2]), "big") for w in said(events) if w[0] == "C"]
    return readings, final


def _as_longs(reading: dict) -> list[int]:
    raw = payload(reading)
    return [int.from_bytes(raw[i : i + 8], "little") for i in range(0, len(raw), 8)]


@needs_tools
def test_shared_memory_cells_are_what_the_program_wrote(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "shm", programs.SHM)
    _, events = watch(tmp_path, binary)
    ident = int(next(w[1] for w in said(events) if w[0] == "S"))
    declared = next(e for e in events if e["kind"] == "obj.declare")
    assert declared["obj"] == f"shmid:{ident}" and declared["type"] == "sysv_shm"
    assert (declared["size"], declared["cells"], declared["probe_cells"]) == (64, 8, True)
    readings, final = _cells(events, ident)
    assert len(final) == 8 and readings
    # the reading taken as the program removed it (ipcviz's attachment kept the segment
    # until then): the cells it left, every one
    removed = next(e for e in events if e["kind"] == "obj.remove")
    last = next(r for r in readings if r["seq"] > removed["seq"])
    assert _as_longs(last) == final and last is readings[-1]
    assert last["size"] == 64 and last["nattch"] == 0  # the program had let go
    # the last attacher the kernel names is one of the program's, never ipcviz's own probe
    pids = {e["pid"] for e in events if e["kind"] == "proc.start"}
    assert all(r["lpid"] in pids for r in readings if "lpid" in r), readings
    # the screen shows those cells (as the probe read them, with the reading's age)
    from ipcviz.mechanisms.posix_shm.view import shm_lines
    from ipcviz.model.reducer import apply
    from ipcviz.model.state import State

    state = State()
    for e in events:
        apply(state, e)
        if e is last:
            break
    # (wide enough for the header whatever the width of the segment's id)
    shown = " ".join(str(x) for line in shm_lines(state, state.objects[declared["obj"]], 160)
                     for x in line)  # fmt: skip
    for value in final:
        assert str(value - (1 << 64) if value >> 63 else value) in shown
    assert "kernel probe" in shown
    # the program removed it; ipcviz let go of its own attachment: nothing is left
    assert not sysv_segment_exists(ident)
    assert not [e for e in events if e["kind"] == "program.leftover"]


@needs_tools
def test_a_segment_left_behind_is_listed_not_removed(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "shm", programs.SHM)
    done, events = watch(tmp_path, binary, "--keep")
    ident = int(next(w[1] for w in said(events) if w[0] == "S"))
    try:
        assert sysv_segment_exists(ident)  # ipcviz did not remove the program's segment
        readings, final = _cells(events, ident)
        assert _as_longs(readings[-1]) == final  # the last reading, at the end of the run
        left = [e for e in events if e["kind"] == "program.leftover"]
        assert [e["obj"] for e in left] == [f"shmid:{ident}"]
        assert f"ipcrm -m {ident}" in done.stdout
        lines = Path("/proc/sysvipc/shm").read_text().splitlines()
        nattch = next(ln.split()[6] for ln in lines[1:] if ln.split()[1] == str(ident))
        assert nattch == "0"  # ipcviz's own read-only attachment went with the run
    finally:
        import sysv_ipc

        sysv_ipc.remove_shared_memory(ident)  # the test ran the program: its segment is ours


@needs_tools
def test_a_pipe_deadlock_of_a_program_is_proven_and_broken(tmp_path: Path) -> None:
    """Two processes each reading first the pipe the other would write: the kernel shows
    both asleep in read; ipcviz names the cycle through the program's two pipes (named by
    inode: no scenario declared them), kills one, and the other reads EOF and ends."""
    binary = compile_c(tmp_path, "pipedl", programs.PIPE_DEADLOCK)
    _, events = watch(tmp_path, binary)
    (deadlock,) = [e for e in events if e["kind"] == "deadlock"]
    pipes = sorted(c["waits_for"] for c in deadlock["cycle"])
    declared = sorted(e["obj"] for e in events if e["kind"] == "obj.declare")
    assert pipes == declared and len(pipes) == 2 and all(p.startswith("pipe:[") for p in pipes)
    (kill,) = [e for e in events if e["kind"] == "control" and e.get("action") == "kill"]
    assert kill["reason"] == "deadlock" and kill["target"] in {c["pid"] for c in deadlock["cycle"]}
    assert any(e["kind"] == "deadlock.resolved" for e in events)


@needs_tools
def test_a_programs_first_output_is_kept_however_fast_it_prints(tmp_path: Path) -> None:
    """What a program prints before strace's first line named it is held until then: all of
    it, from its first byte (only the last 4 KiB of it was kept, without a word)."""
    binary = compile_c(tmp_path, "splicer", programs.SPLICER, "-static")
    _, events = watch(tmp_path, binary)
    output = b"".join(payload(e) for e in events if e["kind"] == "proc.output")
    assert output[:11] == b"FIRST-LINE\n" and output == output[:11] + bytes(200000 - 11)


@needs_tools
def test_a_command_line_is_shown_with_its_argument_boundaries(tmp_path: Path) -> None:
    """``sh -c 'exec true' 'a b'`` is three arguments after sh: joined by spaces alone it
    would read as five."""
    trace = tmp_path / "t.jsonl"
    done = ipcviz("run", "--headless", "--record", str(trace), "--", "sh", "-c", "exec true", "a b")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "starts: sh -c 'exec true' 'a b'" in done.stdout


def _descendants(root: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            kids.setdefault(int(stat[stat.rfind(")") + 2 :].split()[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for kid in kids.get(todo.pop(), ()):
            found.append(kid)
            todo.append(kid)
    return found


def _read_or(path: str, default: str = "") -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return default


def _switches(pid: int) -> int:
    status = _read_or(f"/proc/{pid}/status")
    return sum(int(ln.split()[1]) for ln in status.splitlines() if "ctxt_switches" in ln)


#: Where the kernel has a process asleep in open() of a FIFO with no partner yet.
FIFO_WAITS = ("wait_for_partner", "fifo_open")


@needs_tools
def test_a_server_waiting_for_a_client_is_not_a_deadlock(tmp_path: Path) -> None:
    """A program waits in open() of its FIFO for a client from another shell. The deadlock
    proof took strace (waiting for its child) and the server for a cycle, and killed the
    server: any process may open a FIFO's path, so nothing can be proven about it."""
    binary = compile_c(tmp_path, "fifoserver", programs.FIFO_SERVER)
    fifo, trace = tmp_path / "srv.fifo", tmp_path / "run.jsonl"
    cmd = [sys.executable, "-m", "ipcviz", "run", "--headless", "--record", str(trace)]
    run = subprocess.Popen(
        [*cmd, "--", str(binary), str(fifo)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        server = engine = None
        while server is None or engine is None:  # the server asleep in open(), proof
            assert time.monotonic() < deadline and run.poll() is None, run.communicate()
            for pid in _descendants(run.pid):
                cmdline = _read_or(f"/proc/{pid}/cmdline")
                if cmdline.startswith(str(binary)) and _read_or(f"/proc/{pid}/wchan") in FIFO_WAITS:
                    server = pid
                if "ipcviz.engine" in cmdline:
                    engine = pid
            time.sleep(0.01)
        # Give the watcher (every 0.1 s, in the engine's loop) many looks at the sleeper:
        # at least a second and 30 wake-ups of the engine (never a reason to fail).
        start, woke = time.monotonic(), _switches(engine)
        while time.monotonic() - start < 1.0 or _switches(engine) - woke < 30:
            assert time.monotonic() < deadline and run.poll() is None, run.poll()
            time.sleep(0.05)
        with open(fifo, "wb") as client:  # the client, from outside the session
            client.write(b"hello")
        out, err = run.communicate(timeout=TIMEOUT)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0, out.decode() + err.decode()
    assert b"DEADLOCK" not in out and b"R hello" in out
    verify = ipcviz("verify", str(trace))
    assert verify.returncode == 0, verify.stdout  # its read of bytes nobody traced wrote too
    events = list(TraceReader.open(trace).events())
    said = [(e["reason"], e["obj"]) for e in events if e["kind"] == "notice"]
    assert said == [("outside-end", str(fifo))]  # the client is said, unseen
    from ipcviz.mechanisms.pipe.view import pipe_lines
    from ipcviz.model.reducer import apply_all
    from ipcviz.model.state import State

    state = apply_all(State(), events)
    panel = "\n".join(
        "".join(seg.text for seg in ln) for ln in pipe_lines(state, state.objects[str(fifo)], 160)
    )
    assert "used by a process ipcviz does not watch" in panel and "attach" not in panel


@needs_tools
def test_a_value_given_to_a_known_semaphore_creates_nothing(tmp_path: Path) -> None:
    """semctl(SETVAL) on a semaphore the program used already, and its first use with
    SEM_UNDO, were told "creates sysv_sem …" (it was declared again): one semget, one
    object. The value given is ``sem.set``; the SEM_UNDO is said as such."""
    binary = compile_c(tmp_path, "setval", programs.SETVAL)
    done, events = watch(tmp_path, binary)
    declared = [e for e in events if e["kind"] == "obj.declare"]
    assert [e["value"] for e in declared] == [1, 3]  # made with 1; SEM_UNDO first seen at 3
    assert [e["value"] for e in events if e["kind"] == "sem.set"] == [3]
    told = [ln for ln in done.stdout.splitlines() if "sysv_sem" in ln or "semid" in ln]
    assert sum("creates" in ln for ln in told) == 1, told
    assert any("sets semid" in ln and "to 3" in ln for ln in told), told
    assert any("with SEM_UNDO from now on (value 3)" in ln for ln in told), told


@needs_tools
def test_each_line_of_output_is_its_writers_after_what_it_reports(tmp_path: Path) -> None:
    """A program's stdout and stderr are one pipe the engine reads; strace shows which
    process wrote each line, and when. Every line is listed under the pid it names,
    once, after the operation it reports (the child's "read hi" after its read)."""
    binary = compile_c(tmp_path, "output", programs.OUTPUT)
    done, events = watch(tmp_path, binary)
    outputs = [e for e in events if e["kind"] == "proc.output"]
    lines = [(e, line) for e in outputs for line in payload(e).decode().splitlines()]
    assert len(lines) == 4, [line for _, line in lines]
    for e, line in lines:
        assert line.split()[0] == str(e["pid"]), (line, e)
    read = next(e for e in events if e["kind"] == "pipe.read")
    said = next(e for e, line in lines if line.endswith("read hi"))
    assert said["pid"] == read["pid"] and said["seq"] > read["seq"]
    write = next(e for e in events if e["kind"] == "pipe.write")
    told = next(e for e, line in lines if line.endswith("writes hi"))
    assert told["seq"] < write["seq"]  # printed (and flushed) before the write
    assert done.stdout.count("writes hi") == 1 and done.stdout.count("read hi") == 1


SEM_SET_KEPT = r"""
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>

int main(void)
{
    int s = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    struct sembuf b = {1, 1, 0};
    if (s < 0 || semop(s, &b, 1) < 0)
        return 1;
    printf("SET %d\n", s);
    return 0;  /* the set is left behind */
}
"""


@needs_tools
def test_a_semaphore_set_left_behind_is_named_by_an_object_the_trace_declared(
    tmp_path: Path,
) -> None:
    """A set of two semaphores is declared as semid:ID[0], semid:ID[1]; its leftover was
    named semid:ID, an object the trace never declared, so `ipcviz verify` failed every
    trace of a program that left a set (or that ipcviz ended before it removed one)."""
    binary = compile_c(tmp_path, "semkept", SEM_SET_KEPT)
    trace = tmp_path / "run.jsonl"
    done = ipcviz("run", "--headless", "--record", str(trace), "--", str(binary))
    ident = int(next(w[1] for w in said(list(TraceReader.open(trace).events())) if w[0] == "SET"))
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"ipcrm -s {ident}" in done.stdout
        verify = ipcviz("verify", str(trace))
        assert verify.returncode == 0, verify.stdout
        events = list(TraceReader.open(trace).events())
        declared = {e["obj"] for e in events if e["kind"] == "obj.declare"}
        (left,) = [e for e in events if e["kind"] == "program.leftover"]
        assert left["obj"] in declared and left["obj"].startswith(f"semid:{ident}[")
    finally:
        import sysv_ipc

        sysv_ipc.remove_semaphore(ident)  # the test ran the program: its set is ours


SEM_SETALL = r"""
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

union semun { int val; struct semid_ds *buf; unsigned short *array; };

static void op(int s, int n, int d)
{
    struct sembuf b = {(unsigned short)n, (short)d, 0};
    semop(s, &b, 1);
}

int main(void)
{
    int s = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    unsigned short init[2] = {1, 0};
    union semun u = {.array = init};  /* strace prints the array's address only */
    if (s < 0 || semctl(s, 0, SETALL, u) < 0)
        return 1;
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            for (int j = 0; j < 20; j++) {
                op(s, 0, -1);  /* a lock: semaphore 0 starts at 1 */
                op(s, 0, 1);
            }
            return 0;
        }
    }
    for (int i = 0; i < 2; i++)
        waitpid(kids[i], NULL, 0);
    printf("VAL %d %d\n", semctl(s, 0, GETVAL), semctl(s, 1, GETVAL));
    semctl(s, 0, IPC_RMID);
    return 0;
}
"""


@needs_tools
def test_setall_on_the_programs_own_set_accuses_nobody(tmp_path: Path) -> None:
    """semctl(SETALL) on the program's own set was ignored (strace prints the array's
    address, not its values): the lock's first use declared it at value 0, and every
    correct wait after was an order.conflict, the trace not a legal history. Its values
    are now the kernel's to say (notice unseen-value), as for a scenario's semaphore."""
    binary = compile_c(tmp_path, "setall", SEM_SETALL)
    done, events = watch(tmp_path, binary)
    assert [e for e in events if e["kind"] == "order.conflict"] == []
    assert ["VAL", "1", "0", ""] in said(events)
    assert len([e for e in events if e["kind"] == "sem.wait"]) == 40
    assert "unseen" in done.stdout or "strace does not print" in done.stdout, done.stdout
    # no made-up value is told: the log said "took … (value now 0)" while the kernel's
    # lock stood at 1, a value no traced operation could give
    took = [line for line in done.stdout.splitlines() if " took semid:" in line]
    assert len(took) == 40, done.stdout
    assert all("the kernel's readings only" in line for line in took), took[:3]
    assert "value now" not in done.stdout
    # nor at its making: "creates sysv_sem semid:…[0] (…): value 0" with the kernel at 1
    made = [line for line in done.stdout.splitlines() if "creates sysv_sem" in line]
    assert made and not any("value" in line for line in made), made


SEM_SETALL_READ = r"""
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <unistd.h>

union semun { int val; struct semid_ds *buf; unsigned short *array; };

int main(void)
{
    int s = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    unsigned short init[1] = {3};
    union semun u = {.array = init};  /* strace prints the array's address only */
    struct sembuf take = {0, -1, 0};
    if (s < 0 || semctl(s, 0, SETALL, u) < 0 || semop(s, &take, 1) < 0)
        return 1;
    usleep(1500000);  /* a few of the engine's probe sweeps */
    printf("VAL %d\n", semctl(s, 0, GETVAL));
    fflush(stdout);
    semctl(s, 0, IPC_RMID);
    return 0;
}
"""


@needs_tools
def test_a_semaphore_set_by_an_unseen_setall_is_read_from_the_kernel(tmp_path: Path) -> None:
    """After a SETALL strace does not print, a System V semaphore's value is "the kernel's
    readings only" (its view, its diagram and its log say so), but `ipcviz run -- PROG`
    never read it: the prober read /dev/shm objects only, and the screen said "not read
    yet" for the whole run. The kernel's readings of it are taken now."""
    from ipcviz.mechanisms.posix_sem.view import sem_lines
    from ipcviz.model.reducer import apply_all
    from ipcviz.model.state import State

    binary = compile_c(tmp_path, "setall_read", SEM_SETALL_READ)
    _, events = watch(tmp_path, binary)
    assert ["VAL", "2", ""] in said(events)
    (sem,) = {e["obj"] for e in events if e["kind"] == "sem.wait"}
    readings = [e["value"] for e in events if e["kind"] == "probe.sem" and e["obj"] == sem]
    assert 2 in readings, readings
    before_end = [e for e in events if e["kind"] != "obj.remove" or e["obj"] != sem]
    state = apply_all(
        State(),
        before_end[
            : before_end.index(
                next(e for e in before_end if e["kind"] == "probe.sem" and e["value"] == 2)
            )
            + 1
        ],
    )
    shown = "\n".join(
        "".join(s.text for s in line) for line in sem_lines(state, state.objects[sem], 120)
    )
    assert " 2 " in shown.splitlines()[1] and "not read yet" not in shown, shown


PARENT_DEADLOCK = r"""
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

union semun { int val; struct semid_ds *buf; unsigned short *array; };

static void op(int s, int n, int d)
{
    struct sembuf b = {(unsigned short)n, (short)d, 0};
    semop(s, &b, 1);
}

int main(void)
{
    int s = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    union semun u = {.val = 1};
    if (s < 0 || semctl(s, 0, SETVAL, u) < 0)
        return 1;
    op(s, 0, -1);  /* the parent takes semaphore 0 */
    pid_t kid = fork();
    if (kid == 0) {
        op(s, 0, -1);  /* the child waits for 0, which only the parent would post */
        op(s, 1, 1);
        return 0;
    }
    printf("PARENT %d CHILD %d\n", (int)getpid(), (int)kid);
    fflush(stdout);
    op(s, 1, -1);  /* the parent waits for 1, which only the child would post */
    semctl(s, 0, IPC_RMID);  /* (the child's death stops the parent's semop: EINTR) */
    return 0;
}
"""


@needs_tools
def test_a_deadlock_with_the_programs_first_process_names_no_strace(tmp_path: Path) -> None:
    """The program's first process is strace's child: strace, asleep in wait4, was taken
    for a process of the session, and the cycle named "PID waits for its child P → P waits
    for semid:…, which PID could post" (PID: strace, never shown); the program's first
    process was killed as its victim. The cycle is the program's two processes, and the
    victim the one started last (the child)."""
    binary = compile_c(tmp_path, "parentdl", PARENT_DEADLOCK)
    trace = tmp_path / "run.jsonl"
    done = ipcviz("run", "--headless", "--timeout", "10", "--record", str(trace), "--", str(binary))
    assert "DEADLOCK" in done.stdout and "left behind" not in done.stdout, done.stdout
    events = list(TraceReader.open(trace).events())
    parent, child = (int(w) for w in next(ln for ln in said(events) if ln[0] == "PARENT")[1:4:2])
    (deadlock,) = [e for e in events if e["kind"] == "deadlock"]
    assert {c["pid"] for c in deadlock["cycle"]} == {parent, child}, deadlock
    (kill,) = [e for e in events if e["kind"] == "control" and e.get("action") == "kill"]
    assert kill["target"] == child


@needs_tools
def test_a_semop_broken_by_strace_is_said_to_be_the_watchings_doing(tmp_path: Path) -> None:
    """Under strace a child's SIGCHLD stops its parent even where the parent ignores it,
    and a semop stopped so fails with EINTR: the program does what it would not do
    outside ipcviz. The log must say so, not show it as the program's own failure."""
    binary = compile_c(tmp_path, "sigchld", programs.SIGCHLD_SEMOP)
    done, events = watch(tmp_path, binary)
    assert ["semop", "-1", "Interrupted", "system", "call", ""] in said(events)
    (notice,) = [e for e in events if e["kind"] == "notice" and e["reason"] == "observer-eintr"]
    assert notice["signal"] == "SIGCHLD" and notice["obj"].startswith("semid:")
    assert "failed with EINTR on a SIGCHLD" in done.stdout
    assert "it would still be waiting" in done.stdout


#: A union semun reused: its pointer member set first, then ``val``. On a 64-bit machine
#: the union is passed whole, so its upper 32 bits still hold the pointer's; strace prints
#: them (``0x7ffc00000001``), the kernel takes only the int (``val``).
SETVAL_REUSED_UNION = r"""
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>

union semun { int val; struct semid_ds *buf; unsigned short *array; };

int main(void)
{
    unsigned short init[2] = {0, 0};
    union semun u;
    u.array = init;
    int s = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    u.val = 1;
    if (s < 0 || semctl(s, 0, SETVAL, u) < 0)
        return 1;
    u.val = 2;
    if (semctl(s, 1, SETVAL, u) < 0)
        return 1;
    struct sembuf p = {0, -1, 0}, v = {1, 1, 0};
    if (semop(s, &p, 1) < 0 || semop(s, &v, 1) < 0)
        return 1;
    printf("VAL %d %d\n", semctl(s, 0, GETVAL), semctl(s, 1, GETVAL));
    fflush(stdout);
    semctl(s, 0, IPC_RMID);
    return 0;
}
"""


@needs_tools
def test_setval_takes_the_int_of_the_union_not_its_stale_upper_bytes(tmp_path: Path) -> None:
    """semctl(SETVAL) with a union semun whose pointer member was set before ``val``:
    strace prints the whole 64-bit argument (0x7ffc00000001) and ipcviz showed a
    semaphore of value 140720308486145 ("took … (value now 140720308486144)") where the
    kernel held 1. The kernel reads the union's int: so must ipcviz."""
    from ipcviz.model.reducer import apply
    from ipcviz.model.state import State

    binary = compile_c(tmp_path, "setval_union", SETVAL_REUSED_UNION)
    done, events = watch(tmp_path, binary)
    assert ["VAL", "0", "3", ""] in said(events)
    state = State()
    for e in events:
        if e["kind"] == "obj.remove" and e["obj"].endswith("[0]"):
            values = sorted((name, o.value) for name, o in state.objects.items())
            assert [v for _, v in values] == [0, 3], values
        apply(state, e)
    assert "value now 0" in done.stdout and "value now 3" in done.stdout, done.stdout
    assert "14072" not in done.stdout and "0x7" not in done.stdout, done.stdout


#: Parent and child hand a slot back and forth through a set of two semaphores given
#: their values by SETALL (which strace does not print): empty = 1, full = 0.
SETALL_PING_PONG = r"""
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

union semun { int val; struct semid_ds *buf; unsigned short *array; };

static void op(int s, int n, int d)
{
    struct sembuf b = {(unsigned short)n, (short)d, 0};
    while (semop(s, &b, 1) < 0)
        ;
}

int main(void)
{
    unsigned short init[2] = {1, 0};
    union semun u = {.array = init};
    int s = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    if (s < 0 || semctl(s, 0, SETALL, u) < 0)
        return 1;
    pid_t kid = fork();
    for (int i = 0; i < 8; i++) {
        if (kid == 0) { op(s, 0, -1); op(s, 1, 1); }
        else { op(s, 1, -1); op(s, 0, 1); }
    }
    if (kid == 0)
        return 0;
    waitpid(kid, NULL, 0);
    printf("VAL %d %d\n", semctl(s, 0, GETVAL), semctl(s, 1, GETVAL));
    fflush(stdout);
    semctl(s, 0, IPC_RMID);
    return 0;
}
"""


@needs_tools
def test_values_after_setall_end_where_the_kernels_did(tmp_path: Path) -> None:
    """After a SETALL strace does not print, every order of a wait and a post that overlap
    is legal, and the linearizer put the woken wait before the post that woke it (a take
    before a put): the wait was drawn at 0 instead of -1, so the model gained a unit each
    time. A correct ping-pong ended shown as empty = 2, full = 1 where the kernel said 1
    and 0 (a student reads: an item left unconsumed). A post never makes a wait illegal:
    on such a semaphore the post goes first."""
    from ipcviz.model.reducer import apply
    from ipcviz.model.state import State

    binary = compile_c(tmp_path, "setall_pingpong", SETALL_PING_PONG)
    for i in range(3):
        (tmp_path / str(i)).mkdir()
        _, events = watch(tmp_path / str(i), binary)
        assert ["VAL", "1", "0", ""] in said(events)
        state = State()
        for e in events:
            if e["kind"] == "obj.remove" and e["obj"].endswith("[0]"):
                values = [o.value for _, o in sorted(state.objects.items())]
                assert values == [1, 0], values
            apply(state, e)


TAKER = r"""
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/msg.h>
#include <sys/sem.h>

struct msg { long type; char text[64]; };

int main(int argc, char **argv)
{
    char text[64];
    mqd_t q = mq_open(argv[1], O_RDONLY);  /* opened, not made: it was there before */
    int m = msgget(atoi(argv[2]), 0);
    int s = semget(atoi(argv[3]), 1, 0);
    if (q == (mqd_t)-1 || m < 0 || s < 0)
        return 1;
    for (int i = 0; i < 2; i++) {
        ssize_t n = mq_receive(q, text, sizeof text, NULL);
        struct msg one;
        ssize_t k = msgrcv(m, &one, sizeof one.text, 0, 0);
        struct sembuf down = {0, -1, 0};
        if (n < 0 || k < 0 || semop(s, &down, 1) < 0)
            return 2;
        printf("MQ %.*s MSG %.*s\n", (int)n, text, (int)k, one.text);
    }
    return 0;
}
"""


@needs_tools
def test_objects_the_program_found_full_accuse_nobody(tmp_path: Path) -> None:
    """A POSIX queue, a System V queue and a System V semaphore made before the run, the
    queues holding two messages each and the semaphore at 3, opened and used by the
    program. Each was taken as empty (a value of 0): every receive was "a receive from a
    queue with no message it could take" and every wait one "at value 0", an
    order.conflict each and `verify` failed. Such objects are now the kernel's to say
    (``outside``), their counts said to be the traced ones."""
    import posix_ipc
    import sysv_ipc

    binary = compile_c(tmp_path, "taker", TAKER)
    name = f"/ipcviz-test-taker-{os.getpid()}"
    mq = posix_ipc.MessageQueue(name, posix_ipc.O_CREX, 0o600, max_messages=4, max_message_size=64)
    msq = sem = None
    try:
        msq = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX, 0o600)
        sem = sysv_ipc.Semaphore(None, sysv_ipc.IPC_CREX, 0o600, initial_value=3)
        for text in (b"old1", b"old2"):
            mq.send(text)
            msq.send(text.upper())
        done, events = watch(tmp_path, binary, name, str(msq.key), str(sem.key))
        assert [e for e in events if e["kind"] == "order.conflict"] == []
        assert said(events) == [
            ["MQ", "old1", "MSG", "OLD1", ""],
            ["MQ", "old2", "MSG", "OLD2", ""],
        ]
        declared = {e["obj"]: e for e in events if e["kind"] == "obj.declare"}
        assert all(
            declared[o].get("outside")
            for o in declared
            if o.split(":")[0] in ("mq", "msqid", "semid")
        )
        assert "value now" not in done.stdout and "queued]" not in done.stdout, done.stdout
        assert sem.value == 1
    finally:
        mq.close()
        mq.unlink()
        for obj in (msq, sem):
            if obj is not None:
                obj.remove()
