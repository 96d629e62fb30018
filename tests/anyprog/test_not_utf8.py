"""Names and arguments whose bytes are not UTF-8, from real programs: a kernel name is one
object (two names that differ only in such bytes are two), shown by ``bytefmt`` as its
bytes (``\\xff``), and a leftover's hint and removal reach that very object."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import posix_ipc
import pytest

from ipcviz.events.trace import TraceReader
from ipcviz.mechanisms.pipe import kernel
from ipcviz.session import program
from ipcviz.sources.strace.source import remove_leftover
from tests.anyprog.test_attach import DEADLINE, Attached, events, verified, wait_for
from tests.anyprog.test_programs import compile_c, ipcviz, needs_tools

#: Makes POSIX queues ARGV1 + "\xff" and ARGV1 + "\xfe", one message through each (in
#: the opposite order of the sends), then removes both ("both") or only the "\xfe" one.
TWO_QUEUES = r"""
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    struct mq_attr a = {0, 4, 16, 0};
    char ff[64], fe[64], m[16];
    snprintf(ff, sizeof ff, "%s\xff", argv[1]);
    snprintf(fe, sizeof fe, "%s\xfe", argv[1]);
    mqd_t q1 = mq_open(ff, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
    mqd_t q2 = mq_open(fe, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
    if (q1 < 0 || q2 < 0) return 3;
    if (mq_send(q1, "A", 1, 0) || mq_send(q2, "B", 1, 0)) return 4;
    if (mq_receive(q2, m, 16, 0) != 1 || m[0] != 'B') return 5;
    if (mq_receive(q1, m, 16, 0) != 1 || m[0] != 'A') return 6;
    if (mq_unlink(fe)) return 7;
    if (!strcmp(argv[2], "both") && mq_unlink(ff)) return 8;
    return 0;
}
"""


def _gone(name: str) -> bool:
    """The queue ``name`` is not there (removed when it still is: no leak from a test)."""
    try:
        queue = posix_ipc.MessageQueue(name, read=True, write=False)
    except posix_ipc.ExistentialError:
        return True
    queue.unlink()
    queue.close()
    return False


def _run(tmp_path: Path, base: str, mode: str) -> tuple[str, list[dict]]:
    binary = compile_c(tmp_path, "twoq", TWO_QUEUES)
    trace = tmp_path / "run.jsonl"
    try:
        done = ipcviz("run", "--headless", "--record", str(trace), "--", str(binary), base, mode)
    finally:
        left = [_gone(base + "\udcff"), _gone(base + "\udcfe")]
    assert done.returncode == 0, done.stdout + done.stderr
    verify = ipcviz("verify", str(trace))
    assert verify.returncode == 0, verify.stdout
    assert left == [mode == "both", True]  # only what the program itself left
    return done.stdout, list(TraceReader.open(trace).events())


@needs_tools
def test_names_differing_only_in_bytes_not_utf8_are_two_queues(tmp_path: Path) -> None:
    base = f"/ipcviz-nb{os.getpid()}-"
    out, events = _run(tmp_path, base, "both")
    declared = sorted(e["obj"] for e in events if e["kind"] == "obj.declare")
    assert declared == [f"mq:{base}\udcfe", f"mq:{base}\udcff"]  # the kernel's two names
    assert not [e for e in events if e["kind"] == "order.conflict"]
    # each shown as its bytes, never as the raw byte nor a replacement character
    assert f"sent to mq:{base}\\xff" in out and f"sent to mq:{base}\\xfe" in out
    assert "\ufffd" not in out


@needs_tools
def test_a_leftover_with_a_name_not_utf8_is_named_as_its_bytes(tmp_path: Path) -> None:
    base = f"/ipcviz-nb{os.getpid()}-"
    _, events = _run(tmp_path, base, "leave")
    left = [e for e in events if e["kind"] == "program.leftover"]
    assert [(e["obj"], e["reason"]) for e in left] == [(f"mq:{base}\udcff", "kept")]
    assert left[0]["hint"].endswith(f"rm /dev/mqueue$'{base}\\xff'")  # bash's word for it


@pytest.mark.parametrize("how", ["leftover", "clean"])
def test_a_queue_named_in_bytes_not_utf8_is_removed(how: str) -> None:
    """Removal when ipcviz ended the program (``remove_leftover``) and by ``ipcviz clean``
    (``program.remove``): ``posix_ipc.unlink_message_queue`` refused the name, and the
    queue was left."""
    name = f"/ipcviz-nb{os.getpid()}-\udcff"
    queue = posix_ipc.MessageQueue(name, posix_ipc.O_CREX, mode=0o600)
    try:
        if how == "leftover":
            assert remove_leftover("POSIX queue", name, own=queue.mqd)
        else:
            entry = program.entry("POSIX queue", name, queue.mqd)
            assert entry is not None and program.remove(entry)
    finally:
        queue.close()
        removed = _gone(name)
    assert removed


#: Names itself ESC "[31mnb" 0xff (``prctl``: any bytes), says so, then for each byte on
#: stdin writes two bytes into its own pipe and reads them back; ends at end of file.
ODD_NAME = r"""
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>
int main(void) {
    int p[2];
    char b[2];
    if (prctl(PR_SET_NAME, "\x1b[31mnb\xff", 0, 0, 0) || pipe(p)) return 3;
    printf("ready\n");
    fflush(stdout);
    while (read(0, b, 1) == 1)
        if (write(p[1], "ab", 2) != 2 || read(p[0], b, 2) != 2) return 4;
    return 0;
}
"""


@needs_tools
def test_attach_to_a_process_named_in_bytes_not_utf8(tmp_path: Path) -> None:
    """Its /proc/PID/comm was read as strict UTF-8: the engine crashed (exit 2). Now it
    is watched, its name shown as its bytes, ESC included, never raw."""
    binary = compile_c(tmp_path, "oddname", ODD_NAME)
    trace = tmp_path / "attach.jsonl"
    proc = subprocess.Popen([str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline() == "ready\n"
        ipc = Attached(proc.pid, trace)
        try:
            wait_for(
                lambda: (
                    ipc.proc.poll() is not None
                    or any(e.get("why") == "attached" for e in events(trace))
                ),
                "attached, or ipcviz ended",
            )
            assert ipc.proc.poll() is None, ipc.log()
            proc.stdin.write("x")
            proc.stdin.flush()
            wait_for(
                lambda: (
                    ipc.proc.poll() is not None
                    or any(e["kind"] == "pipe.read" for e in events(trace))
                ),
                "the pipe read, or ipcviz ended",
            )
            ipc.detach()
        finally:
            ipc.kill()
        # the holders' names the pipe probe gives (a scenario's pipes, the objects found)
        assert kernel._comm(proc.pid) == f"\x1b[31mnb\udcff[{proc.pid}]"
        proc.stdin.close()
        assert proc.wait(DEADLINE) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    verified(trace)
    log = ipc.log()
    assert f"\\x1b[31mnb\\xff[{proc.pid}] wrote 2 B to pipe:[" in log, log
    assert "\x1b" not in log and "\ufffd" not in log


#: Writes its first argument's bytes, in hex, to stdout.
ECHO_HEX = r"""
#include <stdio.h>
int main(int argc, char **argv) {
    for (const unsigned char *c = (const unsigned char *)argv[1]; *c; c++) printf("%02x", *c);
    printf("\n");
    return 0;
}
"""


@needs_tools
def test_an_argument_not_utf8_is_watched_and_shown_as_its_bytes(tmp_path: Path) -> None:
    """``ipcviz run -- PROG $'\\xff'``: the trace header (it holds the command line)
    raised UnicodeEncodeError and the engine crashed. Now the program gets its byte, the
    trace keeps it, and the log shows it as bash would take it back."""
    binary = compile_c(tmp_path, "echohex", ECHO_HEX)
    trace = tmp_path / "run.jsonl"
    done = ipcviz("run", "--headless", "--record", str(trace), "--", str(binary), "a\udcffb")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| 61ff62" in done.stdout  # what the program got: a, 0xff, b
    assert f"starts: {binary} $'a\\xffb'" in done.stdout
    verified(trace)
    start = next(e for e in TraceReader.open(trace).events() if e["kind"] == "proc.start")
    assert start["command"][1:] == ["a\udcffb"]


def test_an_empty_trace_is_not_called_the_trace_so_far(tmp_path: Path) -> None:
    """An engine that died before its header was written left a file of 0 bytes."""
    from ipcviz.engine.client import engine_died

    trace = tmp_path / "run.jsonl"
    trace.touch()
    assert engine_died(1, "", trace).endswith("it wrote no trace")
    trace.write_text("{}\n")
    assert engine_died(1, "", trace).endswith(f"trace so far: {trace}")
