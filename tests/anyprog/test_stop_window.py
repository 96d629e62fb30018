"""What a stop keeps of its last moment: a recorded window, not a hand-built history.

A traced command's call can be over in the kernel before strace has printed it. A stop
that killed strace with its command lost that call: the picture kept a message the
kernel had delivered. The tests hold strace (SIGSTOP) at exactly that moment, so the
window is there on every run; nothing depends on how fast anything is. The stop may
take as long as the test holds strace (``$IPCVIZ_TEST_STOP_FIRST_S``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import psutil

from ipcviz import probe
from ipcviz.engine.client import EngineProcess
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


class Window:
    """The scenario, run to the window: the command took "a" and sleeps in msgrcv; its
    strace is held; the giver's send handed "b" to it in the kernel (the queue is empty
    again), and it waits in its syscall-exit stop for strace to print the call."""

    def __init__(self, tmp_path: Path) -> None:
        taker = compile_c(tmp_path, "taker", TAKER)
        self.release = tmp_path / "release"
        os.mkfifo(self.release)
        self.source = tmp_path / "window.py"
        body = SCENARIO.replace("TAKER", repr(str(taker)))
        self.source.write_text(textwrap.dedent(body.replace("RELEASE", repr(str(self.release)))))
        self.trace = tmp_path / "window.jsonl"
        self.strace: psutil.Process | None = None
        self.pid = 0
        self._opened = -1

    def took(self, data: bytes) -> int | None:
        """The process the trace shows receiving ``data``."""
        events = read_lines(self.trace)[1]
        return next(
            (e["pid"] for e in events if e["kind"] == "mq.recv" and payload(e) == data), None
        )

    def reach(self) -> None:
        self.pid = pid = wait_for('the command took "a"', lambda: self.took(b"a"))
        qid = next(e["id"] for e in read_lines(self.trace)[1] if e["kind"] == "obj.declare")
        wait_for("the command asleep in msgrcv", lambda: _wchan(pid) == "do_msgrcv")
        self.strace = psutil.Process(pid).parent()
        assert self.strace is not None and self.strace.name() == "strace"
        self.strace.suspend()
        self._opened = os.open(self.release, os.O_WRONLY)  # the giver sends "b"
        wait_for(
            '"b" taken in the kernel, strace not told',
            lambda: _wchan(pid) == "ptrace_stop" and probe.sysv_mq_stat(qid).qnum == 0,
        )

    def let_go(self) -> None:
        """(Whatever happened: no strace of ours is left stopped, no FIFO end open.)"""
        if self.strace is not None and _alive(self.strace.pid):
            self.strace.resume()
        if self._opened >= 0:
            os.close(self._opened)
            self._opened = -1

    def check(self) -> None:
        """The receive of "b" is shown, and the picture ends with the kernel's queue."""
        events = read_lines(self.trace)[1]
        assert self.took(b"b") == self.pid, "the receive of b is not in the trace"
        assert _final(events) == (0, 0)  # (shown, kernel): (1, 0) when it was lost
        assert not [e for e in events if e["kind"] == "order.conflict"]
        done = ipcviz("verify", str(self.trace))
        assert done.returncode == 0 and "legal history" in done.stdout, done.stdout


@needs_tools
def test_a_stop_keeps_the_call_a_command_made_before_strace_printed_it(
    tmp_path: Path, monkeypatch
) -> None:
    """Then the stop. It killed strace's process group at once, so the receive of "b"
    was never printed: the trace ended with "b" queued while the kernel's queue was empty
    (the end snapshot said 0), and a flood's next send was an ``order.conflict``. Now the
    command is stopped first, and killed once strace printed it stopped
    (``CommandsEngine._end_commands_first``); strace is let go as soon as that SIGSTOP
    waits."""
    monkeypatch.setenv("IPCVIZ_TEST_STOP_FIRST_S", "600")
    run = Window(tmp_path)
    cli = subprocess.Popen(
        [
            *(sys.executable, "-m", "ipcviz", "run", str(run.source)),
            *("--headless", "--record", str(run.trace)),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stopped = False
    try:
        run.reach()
        cli.send_signal(signal.SIGINT)
        stopped = True
        strace = run.strace
        assert strace is not None
        wait_for(
            "the stop's first move on the command",
            lambda: not _alive(strace.pid) or _stop_pending(run.pid),
        )
    finally:
        run.let_go()
        if not stopped:  # (a failure on the way: a second one would hurry the end)
            cli.send_signal(signal.SIGINT)
        _out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, err
    run.check()


@needs_tools
def test_a_stop_of_a_frozen_run_keeps_what_strace_had_not_printed(
    tmp_path: Path, monkeypatch
) -> None:
    """The user freezes the run in that window (``freeze``: strace is stopped too), then
    stops it. Nothing let the frozen processes go on before their SIGKILL: strace never
    printed the receive of "b", the picture kept it queued (a flood of Python workers,
    frozen then stopped, ended in ``order.conflict`` 4 runs in 4: a worker frozen
    between a call and its record). Now the stop thaws them first (``Engine._thaw``): the
    workers go on to their gates, closed by then, and strace prints what it held. The
    test lets strace go only through that thaw."""
    monkeypatch.setenv("IPCVIZ_TEST_STOP_FIRST_S", "20")  # (without the thaw: 40 s, lost)
    run = Window(tmp_path)
    engine = EngineProcess(run.source, run.trace, timeout=120.0)
    drained = threading.Thread(target=lambda: list(engine.events()), daemon=True)
    drained.start()
    try:
        run.reach()
        engine.send("freeze")
        engine.send("stop")
        assert engine.wait(120) == 0
        drained.join(60)
    finally:
        run.let_go()
        engine.terminate()
        engine.close()
    run.check()


PYTHON_ONLY = """
    import os
    from ipcviz.scenario import Scenario

    scenario = Scenario("stop-window-py", "a stop with calls under way", timeout=120)
    q = scenario.sysv_queue("q", max_message_size=64)
    p = scenario.pipe("p", writer="writer", reader="reader")

    @scenario.process("writer")
    def writer(ctx):
        p.write(b"x")
        q.send(b"a")
        os.open(RELEASE, os.O_RDONLY)  # never opened by the test: until the stop

    @scenario.process("reader")
    def reader(ctx):
        p.read(1)
        p.read(1)  # asleep until the writer's death closes its end: end of file

    @scenario.process("taker")
    def taker(ctx):
        while True:
            q.receive()
"""


def test_a_stop_of_python_workers_asleep_in_the_kernel_records_a_legal_true_end(
    tmp_path: Path,
) -> None:
    """The window the kill horizon's tests build by hand (``tests/truth/test_kill_horizon.py``),
    recorded: the taker asleep in msgrcv, the reader asleep in read on a pipe whose writer
    the stop kills first (its end of file may come before the reader's own SIGKILL, or
    not: both are legal), the writer blocked outside any IPC. The trace shows the begun
    receive as never done, ends with the queue the kernel had, and is a legal history."""
    release = tmp_path / "release"
    os.mkfifo(release)
    source = tmp_path / "py.py"
    source.write_text(textwrap.dedent(PYTHON_ONLY.replace("RELEASE", repr(str(release)))))
    trace = tmp_path / "py.jsonl"
    cli = subprocess.Popen(
        [
            *(sys.executable, "-m", "ipcviz", "run", str(source)),
            *("--headless", "--record", str(trace)),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        names = {}

        def asleep() -> bool:
            events = read_lines(trace)[1]
            names.update({e["pid"]: e["name"] for e in events if e["kind"] == "proc.start"})
            if not any(e["kind"] == "mq.recv" for e in events):
                return False
            chans = {names[pid]: _wchan(pid) for pid in names}
            asleep_in = {"writer": "wait_for_partner", "reader": "pipe_read", "taker": "do_msgrcv"}
            return all(chans.get(n, "").endswith(c) for n, c in asleep_in.items())

        wait_for("every worker asleep", asleep)
    finally:
        cli.send_signal(signal.SIGINT)
        _out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, err
    events = read_lines(trace)[1]
    taker = next(pid for pid, name in names.items() if name == "taker")
    mine = [e["kind"] for e in events if e["pid"] == taker and e["kind"].startswith("mq.")]
    assert mine[-2:] == ["mq.recv", "mq.recv.begin"], mine  # the last one never done
    assert _final(events) == (0, 0)
    assert not [e for e in events if e["kind"] == "order.conflict"]
    done = ipcviz("verify", str(trace))
    assert done.returncode == 0 and "legal history" in done.stdout, done.stdout


@needs_tools
def test_k_on_a_command_of_a_frozen_run_keeps_what_strace_had_not_printed(
    tmp_path: Path, monkeypatch
) -> None:
    """The user freezes the run in that window, then kills the command (``k``). ``k``
    stops it first and kills it once its strace shows it stopped (``Killer``), but the
    freeze had stopped that strace too: it could show nothing, and after ``STOP_FIRST_S``
    the SIGKILL found the command with its receive of "b" unprinted (strace then says
    ``= ?``; the picture kept "b" queued). Now ``k`` in a frozen run lets the command's
    strace go on (``thaw_tracer``); the command itself stays stopped until its SIGKILL.
    Here the test holds strace past any ``STOP_FIRST_S``: the kill comes, or not at all,
    before the stop."""
    monkeypatch.setenv("IPCVIZ_TEST_STOP_FIRST_S", "600")
    run = Window(tmp_path)
    engine = EngineProcess(run.source, run.trace, timeout=120.0)
    drained = threading.Thread(target=lambda: list(engine.events()), daemon=True)
    drained.start()
    try:
        run.reach()
        engine.send("freeze")
        engine.send("kill", pid=run.pid)
        wait_for("the command killed while the run is frozen", lambda: not _alive(run.pid))
        engine.send("stop")
        assert engine.wait(120) == 0
        drained.join(60)
    finally:
        run.let_go()
        engine.terminate()
        engine.close()
    run.check()


#: Makes a pipe and sleeps reading it (nothing ever comes).
READS_FOREVER = r"""
#include <unistd.h>
int main(void) {
    int p[2];
    char b;
    if (pipe(p)) return 3;
    return read(p[0], &b, 1) == 1 ? 0 : 4;
}
"""


def _tracer(pid: int) -> int:
    """The pid of the process tracing ``pid`` (``TracerPid``), 0 if none."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("TracerPid:"):
            return int(line.split()[1])
    return 0


@needs_tools
def test_k_on_a_program_of_a_frozen_run_kills_it_while_frozen(tmp_path: Path, monkeypatch) -> None:
    """``ipcviz run -- PROG``, frozen, then ``k`` on the program: its strace, stopped by
    the freeze, could never show it stopped, so the ``Killer`` never let its SIGKILL go
    (here: it waits past any clock) or, after ``STOP_FIRST_S``, killed it with whatever
    strace had not printed. Now strace alone is let go on (``thaw_tracer``). The test
    holds strace first, so it has seen nothing of the freeze on any run."""
    monkeypatch.setenv("IPCVIZ_TEST_STOP_FIRST_S", "600")
    binary = compile_c(tmp_path, "reads", READS_FOREVER)
    trace = tmp_path / "reads.jsonl"
    engine = EngineProcess(Path("reads"), trace, program=(str(binary),), timeout=120.0)
    drained = threading.Thread(target=lambda: list(engine.events()), daemon=True)
    drained.start()
    strace = None
    try:

        def started() -> int | None:
            starts = [e for e in read_lines(trace)[1] if e["kind"] == "proc.start"]
            return starts[0]["pid"] if starts else None

        pid = wait_for("the program started", started)
        wait_for("the program asleep in its read", lambda: _wchan(pid).endswith("pipe_read"))
        strace = psutil.Process(_tracer(pid))
        assert strace.name() == "strace"
        strace.suspend()
        engine.send("freeze")
        engine.send("kill", pid=pid)
        wait_for("the program killed while the run is frozen", lambda: not _alive(pid))
        # its one process killed, strace ends, and so does the run: "exited with status 0"
        # is a failed check
        assert engine.wait(120) == 1
        drained.join(60)
    finally:
        if strace is not None and _alive(strace.pid):
            strace.resume()
        engine.terminate()
        engine.close()
    events = read_lines(trace)[1]
    ends = [e for e in events if e["kind"] == "proc.exit" and e["pid"] == pid]
    assert [e.get("signame") for e in ends] == ["SIGKILL"], ends
    assert not [e for e in events if e["kind"] == "order.conflict"]
    done = ipcviz("verify", str(trace))
    assert done.returncode == 0 and "legal history" in done.stdout, done.stdout
