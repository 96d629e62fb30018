"""What a stop keeps of its last moment: a recorded window, not a hand-built history.

A traced command's call can be over in the kernel before strace has printed it. A stop
that killed strace with its command lost that call: the picture kept a message the
kernel had delivered. The test holds strace (SIGSTOP) at exactly that moment, so the
window is there on every run; nothing depends on how fast anything is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil

from ipcviz import probe
from ipcviz.events.codec import payload
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from tests.anyprog.test_programs import compile_c, ipcviz, needs_tools
from tests.faults.harness import _alive, read_lines, wait_for

TAKER = r"""
#include <stdlib.h>
#include <sys/msg.h>
struct m { long type; char text[64]; };
int main(void) {
    int id = atoi(getenv("IPCVIZ_Q"));
    struct m x;
    for (;;)
        if (msgrcv(id, &x, sizeof x.text, 0, 0) < 0)
            return 1;
}
"""

SCENARIO = """
    import os
    from ipcviz.scenario import Scenario

    scenario = Scenario("stop-window", "a stop as a command's call returns", timeout=120)
    q = scenario.sysv_queue("q", max_message_size=64)
    scenario.command("taker", [TAKER])

    @scenario.process("giver")
    def giver(ctx):
        q.send(b"a")
        fd = os.open(RELEASE, os.O_RDONLY)  # the test opens it: the second message
        q.send(b"b")
        os.read(fd, 1)  # (until the stop)
"""

SIGSTOP_BIT = 1 << (signal.SIGSTOP - 1)


def _wchan(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return ""


def _stop_pending(pid: int) -> bool:
    """A SIGSTOP sent to ``pid`` waits: it sits in a ptrace stop its tracer has not seen."""
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return False
    masks = [int(line.split()[1], 16) for line in status if line.startswith(("SigPnd", "ShdPnd"))]
    return any(m & SIGSTOP_BIT for m in masks)


def _final(events: list[dict]) -> tuple[int, int]:
    """(messages the picture leaves in ``q``, messages the kernel had at the end)."""
    state = State(header={})
    shown = kernel = -1
    for e in events:
        if e["kind"] == "probe.snapshot" and e.get("why") == "end":
            shown = len(state.objects["q"].messages)
        elif e["kind"] == "probe.sysv_mq" and shown >= 0:
            kernel = e["qnum"]
        elif not e["kind"].startswith("probe."):
            apply(state, e)
    return shown, kernel


@needs_tools
def test_a_stop_keeps_the_call_a_command_made_before_strace_printed_it(tmp_path: Path) -> None:
    """The command sleeps in msgrcv; its strace is held; the giver's send hands "b" to it
    in the kernel (the queue is empty again) and it waits in its syscall-exit stop for
    strace. Then the stop. It killed strace's process group at once, so the receive of
    "b" was never printed: the trace ended with "b" queued while the kernel's queue was
    empty (the end snapshot said 0), and a flood's next send was an ``order.conflict``.
    Now the command is stopped first and strace lets it go once it has printed the call
    (``CommandsEngine._end_commands_first``): strace is let go as soon as that SIGSTOP
    waits, and the stop may take as long as the test holds it."""
    taker = compile_c(tmp_path, "taker", TAKER)
    release = tmp_path / "release"
    os.mkfifo(release)
    source = tmp_path / "window.py"
    body = SCENARIO.replace("TAKER", repr(str(taker))).replace("RELEASE", repr(str(release)))
    source.write_text(textwrap.dedent(body))
    trace = tmp_path / "window.jsonl"
    cli = subprocess.Popen(
        [sys.executable, "-m", "ipcviz", "run", str(source), "--headless", "--record", str(trace)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "IPCVIZ_TEST_STOP_FIRST_S": "600"},
    )
    strace: psutil.Process | None = None
    opened = -1
    stopped = False
    try:

        def took(data: bytes) -> int | None:
            events = read_lines(trace)[1]
            return next(
                (e["pid"] for e in events if e["kind"] == "mq.recv" and payload(e) == data),
                None,
            )

        pid = wait_for('the command took "a"', lambda: took(b"a"))
        qid = next(e["id"] for e in read_lines(trace)[1] if e["kind"] == "obj.declare")
        wait_for("the command asleep in msgrcv", lambda: _wchan(pid) == "do_msgrcv")
        strace = psutil.Process(pid).parent()
        assert strace is not None and strace.name() == "strace"
        strace.suspend()
        opened = os.open(release, os.O_WRONLY)  # the giver sends "b"
        wait_for(
            '"b" taken in the kernel, strace not told',
            lambda: _wchan(pid) == "ptrace_stop" and probe.sysv_mq_stat(qid).qnum == 0,
        )
        cli.send_signal(signal.SIGINT)
        stopped = True
        wait_for(
            "the stop's first move on the command",
            lambda: not _alive(strace.pid) or _stop_pending(pid),
        )
    finally:
        if strace is not None and _alive(strace.pid):
            strace.resume()
        if not stopped:  # (a failure on the way: a second one would hurry the end)
            cli.send_signal(signal.SIGINT)
        _out, err = cli.communicate(timeout=120)
        if opened >= 0:
            os.close(opened)
    assert cli.returncode == 0, err
    events = read_lines(trace)[1]
    assert took(b"b") == pid, "the receive of b is not in the trace"
    assert _final(events) == (0, 0)
    assert not [e for e in events if e["kind"] == "order.conflict"]
    done = ipcviz("verify", str(trace))
    assert done.returncode == 0 and "legal history" in done.stdout, done.stdout
