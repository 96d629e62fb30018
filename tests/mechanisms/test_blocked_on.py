"""Every way of blocking from the issue: the prober names the object the worker sleeps on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.faults.harness import read_lines
from tests.mechanisms.helpers import by_kind, pids_by_name, run_held

BLOCKERS = """
    import os
    import time

    from ipcviz.scenario import Scenario

    GO = {go!r}  # the test makes it once every blocked worker was probed asleep

    scenario = Scenario("blockers", "every way of blocking")
    pr = scenario.pipe("pr", writer="releaser", reader="pipe_reader")
    pw = scenario.pipe("pw", writer="pipe_writer", reader="releaser")
    f = scenario.fifo("f")
    qe = scenario.posix_queue("qe", max_messages=2, max_message_size=16)
    qf = scenario.posix_queue("qf", max_messages=1, max_message_size=16)
    m = scenario.sysv_queue("m")
    s = scenario.semaphore("s", value=0)
    y = scenario.sysv_semaphore("y", value=0)

    @scenario.process("pipe_reader")
    def pipe_reader(ctx):
        pr.read()

    @scenario.process("pipe_writer")
    def pipe_writer(ctx):
        pw.write(b"w" * 70000)  # more than the 64 KiB a pipe holds

    @scenario.process("fifo_opener")
    def fifo_opener(ctx):
        f.open_read()

    @scenario.process("mq_receiver")
    def mq_receiver(ctx):
        qe.receive()

    @scenario.process("mq_sender")
    def mq_sender(ctx):
        qf.send(b"first")
        qf.send(b"second")  # the queue holds one message: blocks

    @scenario.process("msg_receiver")
    def msg_receiver(ctx):
        m.receive(5)

    @scenario.process("sem_waiter")
    def sem_waiter(ctx):
        s.wait()

    @scenario.process("sysv_waiter")
    def sysv_waiter(ctx):
        y.wait()

    @scenario.process("releaser")
    def releaser(ctx):
        end = time.monotonic() + 60
        while not os.path.exists(GO) and time.monotonic() < end:
            time.sleep(0.01)
        pr.write(b"x")
        assert len(pw.read_exactly(70000)) == 70000
        f.open_write()
        qe.send(b"x")
        qf.receive()
        qf.receive()
        m.send(b"x", 5)
        s.post()
        y.post()
"""

EXPECTED = {
    "pipe_reader": ("pr", "anon_pipe_read"),
    "pipe_writer": ("pw", "anon_pipe_write"),
    "fifo_opener": ("f", "wait_for_partner"),
    "mq_receiver": ("qe", "wq_sleep"),
    "mq_sender": ("qf", "wq_sleep"),
    "msg_receiver": ("m", "do_msgrcv"),
    "sem_waiter": ("s", "futex"),
    "sysv_waiter": ("y", "semtimedop"),
}


def _seen(events: list[dict[str, Any]]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """For each blocked worker: the objects and the wait channels its probes named."""
    pids = pids_by_name(events)
    seen: dict[str, set[str]] = {name: set() for name in EXPECTED}
    wchans: dict[str, set[str]] = {name: set() for name in EXPECTED}
    for e in by_kind(events, "probe.proc"):
        name = next((n for n, pid in pids.items() if pid == e["pid"]), None)
        if name in seen and e["blocked_on"]:
            seen[name].add(e["blocked_on"])
            wchans[name].add(e["wchan"])
    return seen, wchans


def _all_seen(trace: Path) -> bool:
    seen, wchans = _seen(read_lines(trace)[1])
    return all(
        obj in seen[name] and any(wchan in w for w in wchans[name])
        for name, (obj, wchan) in EXPECTED.items()
    )


def test_each_blocked_worker_is_shown_on_its_object(tmp_path: Path):
    """Held, not slept: the releaser lets the workers go once the trace shows each of them
    probed asleep on its object; a fixed hold (1.5 s) was too short for the probes a loaded
    machine got to make."""
    _header, events, _run = run_held(
        tmp_path, "blockers", BLOCKERS, "each worker probed asleep on its object", _all_seen
    )
    pids = pids_by_name(events)
    seen, wchans = _seen(events)
    for name, (obj, wchan) in EXPECTED.items():
        assert seen[name] == {obj}, (name, seen[name])
        assert any(wchan in w for w in wchans[name]), (name, wchans[name])
    # the releaser sleeps: it is blocked on no object
    assert not any(
        e["blocked_on"] for e in by_kind(events, "probe.proc") if e["pid"] == pids["releaser"]
    )
    assert not by_kind(events, "drift"), by_kind(events, "drift")
