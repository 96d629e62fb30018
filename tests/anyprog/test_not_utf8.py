"""Names and arguments whose bytes are not UTF-8, from real programs: a kernel name is one
object (two names that differ only in such bytes are two), shown by ``bytefmt`` as its
bytes (``\\xff``), and a leftover's hint and removal reach that very object."""

from __future__ import annotations

import os
from pathlib import Path

import posix_ipc
import pytest

from ipcviz.events.trace import TraceReader
from ipcviz.session import program
from ipcviz.sources.strace.source import remove_leftover
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
