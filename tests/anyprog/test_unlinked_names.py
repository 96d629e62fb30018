"""A program's POSIX segment under ``ipcviz run --`` is read by its /dev/shm name. Once the
program unlinked that name (the segment lives on while mapped), a file someone else puts
at the name is not the segment: its bytes must never be shown as the segment's kernel
reading. Every wait is for a condition (a file, trace events), never a sleep."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from ipcviz.events.trace import TraceReader
from tests.anyprog.test_attach import DEADLINE, events, wait_for
from tests.anyprog.test_programs import compile_c, needs_tools

#: Makes segment argv[1], stores "segment" in it, unlinks its name (still mapped), then
#: waits for a line on FIFO argv[2] before it unmaps it and ends.
UNLINKED = r"""
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
    char line[8];
    int fd = shm_open(argv[1], O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0 || ftruncate(fd, 64) < 0) return 1;
    char *p = mmap(NULL, 64, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return 1;
    close(fd);
    memcpy(p, "segment", 7);
    if (shm_unlink(argv[1]) < 0) return 1;
    int c = open(argv[2], O_RDONLY);
    if (c < 0 || read(c, line, sizeof line) < 0) return 1;
    return munmap(p, 64) < 0;
}
"""


@needs_tools
def test_a_file_put_at_an_unlinked_segments_name_is_not_read_as_it(tmp_path: Path) -> None:
    """Before, the prober read /dev/shm/NAME every sweep while the unlinked segment was
    still mapped, and showed the stranger's file as the segment's cells."""
    binary = compile_c(tmp_path, "unlinked", UNLINKED)
    name = f"ipcviz-test-unlinked-{os.getpid()}"
    path = Path("/dev/shm") / name
    control = tmp_path / "control"
    os.mkfifo(control, 0o600)
    trace = tmp_path / "run.jsonl"
    argv = [sys.executable, "-m", "ipcviz", "run", "--headless", "--record", str(trace)]
    run = subprocess.Popen(
        [*argv, "--", str(binary), "/" + name, str(control)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    obj = f"shm:/{name}"
    try:
        # ipcviz knows the segment, and its name is gone: it lives on, mapped
        wait_for(
            lambda: any(e.get("obj") == obj and e["kind"] == "obj.declare" for e in events(trace)),
            "the segment's declaration",
        )
        wait_for(lambda: not path.exists(), "the program's shm_unlink")
        path.write_bytes(b"impostor".ljust(64, b"\0"))  # a stranger's file at the name
        seen = len(events(trace))
        wait_for(
            lambda: sum(e["kind"] == "probe.proc" for e in events(trace)[seen:]) >= 3,
            "three sweeps since",
        )
        with open(control, "w") as f:
            f.write("go\n")
        assert run.wait(DEADLINE) == 0, run.stderr.read() if run.stderr else ""
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        if run.stderr is not None:
            run.stderr.close()
        path.unlink(missing_ok=True)
    readings = [
        base64.b64decode(e["data"])
        for e in TraceReader.open(trace).events()
        if e["kind"] == "probe.shm" and e.get("obj") == obj
    ]
    assert all(r.startswith(b"segment") for r in readings), readings


@needs_tools
def test_a_queue_made_at_an_unlinked_queues_name_is_not_read_as_it(tmp_path: Path) -> None:
    """``ipcviz attach`` to a process blocked in mq_receive: its queue's name is unlinked
    (by a process ipcviz does not watch) and another queue made under it. The kernel
    readings are of the queue the process holds, or none: before, they were of the new
    one (read by name), with its limit and its messages."""
    import posix_ipc

    from tests.anyprog.test_attach import Attached, posix_receiver

    trace = tmp_path / "attach.jsonl"
    with posix_receiver(tmp_path) as (proc, queue):
        obj = "mq:" + queue.name
        ipc = Attached(proc.pid, trace)
        try:
            ipc.attached([proc.pid])
            posix_ipc.unlink_message_queue(queue.name)
            other = posix_ipc.MessageQueue(
                queue.name, posix_ipc.O_CREX, 0o600, max_messages=8, max_message_size=64
            )
            try:
                other.send(b"not yours")
                seen = len(events(trace))
                wait_for(
                    lambda: sum(e["kind"] == "probe.proc" for e in events(trace)[seen:]) >= 3,
                    "three probes since",
                )
                queue.send(b"one")  # the queue the receiver holds
                queue.send(b"two")
                assert proc.wait(DEADLINE) == 0
                ipc.end()
            finally:
                other.close()
        finally:
            ipc.kill()
    readings = [e for e in events(trace) if e["kind"] == "probe.posix_mq" and e["obj"] == obj]
    assert all(e["max_messages"] == 4 for e in readings), readings
