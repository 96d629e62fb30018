"""``k`` on a stopped worker (a frozen run, or its own SIGSTOP): a real engine, real
workers, a real System V queue.

The window (a worker between a call and its record) is held on purpose, not hoped for:
the taker's queue object stops its own process right after msgrcv returns, before the
tracer writes the receive. The test freezes the run there (or not), then kills the taker."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path

import psutil
import pytest

from ipcviz.engine.client import EngineProcess
from ipcviz.events.codec import payload
from tests.anyprog.test_programs import ipcviz
from tests.anyprog.test_stop_window import _final
from tests.faults.harness import read_lines, wait_for

SCENARIO = """
    import os
    import signal
    from ipcviz.scenario import Scenario

    scenario = Scenario("kill-frozen", "k on a frozen worker", timeout=120)
    q = scenario.sysv_queue("q", max_message_size=64)

    class HeldAfterReceive:
        \"\"\"The queue, but each receive stops its process once the kernel gave the
        message, before the tracer records it (msgrcv returned, no record yet).\"\"\"

        def __init__(self, mq):
            self._mq = mq

        def __getattr__(self, name):
            return getattr(self._mq, name)

        def receive(self, *args):
            got = self._mq.receive(*args)
            os.kill(os.getpid(), signal.SIGSTOP)
            return got

    @scenario.process("giver")
    def giver(ctx):
        q.send(b"a")
        r, _w = os.pipe()
        os.read(r, 1)  # (until the stop)

    @scenario.process("taker")
    def taker(ctx):
        q.mq = HeldAfterReceive(q.mq)
        while True:
            q.receive()
"""


def _state(pid: int) -> str:
    try:
        return psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return ""


@pytest.mark.parametrize("frozen", [True, False])
def test_k_on_a_stopped_worker_keeps_the_call_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frozen: bool
) -> None:
    """Frozen, the taker was killed where it stood: its receive of "a", done in the
    kernel, was never recorded, and the picture ended with "a" still queued while the
    kernel's queue was empty (end snapshot 0). Not frozen, stopped all the same (by
    itself here), it never came to rest: killed so after ``REST_S``. Now ``k`` closes
    its gate and lets it alone go on to it (``Commands._to_rest``): the receive is
    recorded, then it dies."""
    monkeypatch.setenv("IPCVIZ_TEST_REST_S", "600")  # (its pace never decides)
    source = tmp_path / "kill_frozen.py"
    source.write_text(textwrap.dedent(SCENARIO))
    trace = tmp_path / "kill_frozen.jsonl"
    engine = EngineProcess(source, trace, timeout=120.0)
    drained = threading.Thread(target=lambda: list(engine.events()), daemon=True)
    drained.start()
    try:

        def taker() -> int | None:
            starts = [e for e in read_lines(trace)[1] if e["kind"] == "proc.start"]
            return next((e["pid"] for e in starts if e["name"] == "taker"), None)

        pid = wait_for("the taker started", taker)
        wait_for("the taker held after its receive", lambda: _state(pid) == psutil.STATUS_STOPPED)
        if frozen:
            engine.send("freeze")
        engine.send("kill", pid=pid)
        wait_for("the taker killed", lambda: _state(pid) in ("", psutil.STATUS_ZOMBIE))
        engine.send("stop")
        assert engine.wait(120) == 0
        drained.join(60)
    finally:
        engine.terminate()
        engine.close()
    events = read_lines(trace)[1]
    taken = [e for e in events if e["kind"] == "mq.recv" and e["pid"] == pid]
    assert [payload(e) for e in taken] == [b"a"], "the taker's receive is not in the trace"
    assert _final(events) == (0, 0)  # (shown, kernel): (1, 0) when it was lost
    assert not [e for e in events if e["kind"] == "order.conflict"]
    done = ipcviz("verify", str(trace))
    assert done.returncode == 0 and "legal history" in done.stdout, done.stdout
