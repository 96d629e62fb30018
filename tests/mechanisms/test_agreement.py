"""After a scripted sequence, the model and the kernel's own view agree, for every object type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ipcviz.mechanisms.pipe.state import PipeObj
from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.mechanisms.posix_shm.state import ShmObj
from tests.faults.harness import read_lines
from tests.mechanisms.helpers import by_kind, run_held, states_at_probes

SCRIPTED = """
    import os
    import time

    from ipcviz.scenario import Scenario

    GO = {go!r}  # the test makes it once the probes it needs are in the trace


    def until_go():
        end = time.monotonic() + 60
        while not os.path.exists(GO) and time.monotonic() < end:
            time.sleep(0.01)


    scenario = Scenario("agree", "model and kernel agree")
    p = scenario.pipe("p", writer="main", reader="main")
    f = scenario.fifo("f")
    q = scenario.posix_queue("q", max_messages=8, max_message_size=64)
    m = scenario.sysv_queue("m")
    s = scenario.semaphore("s", value=3)
    z = scenario.semaphore("z", value=0)
    y = scenario.sysv_semaphore("y", value=0)
    shm = scenario.shared_memory("shm", cells=4)

    @scenario.process("main")
    def main(ctx):
        p.write(b"a" * 60)
        p.write(b"b" * 40)
        assert len(p.read(30)) == 30
        f.open_write()
        f.write(b"fifo-bytes-" * 5)
        q.send(b"one", 1)
        q.send(b"two", 7)
        q.send(b"three", 3)
        q.receive()
        m.send(b"x" * 10, 1)
        m.send(b"y" * 20, 2)
        m.send(b"z" * 30, 3)
        m.receive(2)
        s.wait()
        shm[1] = 42
        shm[3] = -7
        ctx.report("done", True)
        until_go()
        z.post()
        y.post()

    @scenario.process("fifo_reader")
    def fifo_reader(ctx):
        f.open_read()
        assert f.read_exactly(15) == b"fifo-bytes-fifo"
        ctx.report("done", True)
        until_go()

    @scenario.process("posix_waiter")
    def posix_waiter(ctx):
        z.wait()

    @scenario.process("sysv_waiter")
    def sysv_waiter(ctx):
        y.wait()
"""


#: Every object the scenario makes, each to be probed after both processes said done.
NAMES = {"p", "f", "q", "m", "s", "z", "y", "shm"}


def _probed(header: dict[str, Any], events: list[dict[str, Any]]) -> tuple[int, dict[str, int]]:
    """The seq of the last ``done`` report, and how often each object was probed after it
    (by its name); (-1, {}) before both processes said done."""
    done = [e["seq"] for e in by_kind(events, "report") if e["key"] == "done"]
    if len(done) < 2:
        return -1, {}
    compared: dict[str, int] = {}
    for probe, state in states_at_probes(header, events):
        if probe["seq"] >= max(done):
            name = state.objects[probe["obj"]].name
            compared[name] = compared.get(name, 0) + 1
    return max(done), compared


def _seen_enough(trace: Path) -> bool:
    """Each object probed after done, and each waiter counted by the kernel at a probe."""
    header, events = read_lines(trace)
    if not header:
        return False
    _done, compared = _probed(header, events)
    return set(compared) == NAMES and all(
        any(e["waiters"] == 1 for e in by_kind(events, "probe.sem") if e["obj"] == name)
        for name in ("z", "y")
    )


def test_model_and_kernel_agree_for_every_type(tmp_path: Path):
    """Held, not slept: the processes wait (after ``done``) until the trace holds a probe
    of every object and of each waiter asleep; a fixed hold (1.2 s) was too short for the
    probes a loaded machine got to make."""
    header, events, _run = run_held(
        tmp_path, "agree", SCRIPTED, "a probe of every object, and of each waiter", _seen_enough
    )
    assert not by_kind(events, "drift"), by_kind(events, "drift")
    done, compared = _probed(header, events)
    for probe, state in states_at_probes(header, events):
        if probe["seq"] < done:
            continue
        obj = state.objects[probe["obj"]]
        if isinstance(obj, PipeObj):
            assert probe["nbytes"] == obj.nbytes, (obj.name, probe, obj.nbytes)
            assert probe["capacity"] == 65536
        elif isinstance(obj, QueueObj) and obj.type == "posix_mq":
            assert probe["current_messages"] == len(obj.messages) == 2
        elif isinstance(obj, QueueObj):
            assert probe["qnum"] == len(obj.messages) == 2
            assert probe["cbytes"] == obj.nbytes == 40
            assert [t for t, _ in probe["messages"]] == [1, 3]
        elif isinstance(obj, SemObj):
            if obj.name == "s":  # z and y: a waiter may not be asleep yet; see below
                assert probe["value"] == obj.value, (obj.name, probe)
                assert probe["waiters"] == len(obj.waiters), (obj.name, probe, obj.waiters)
        elif isinstance(obj, ShmObj):
            assert probe["data"] and obj.data[8:16] == (42).to_bytes(8, "little", signed=True)
    assert set(compared) == NAMES, compared
    # the waiters were really counted by the kernel (GETNCNT / glibc nwaiters) at some probe
    for name in ("z", "y"):
        assert any(e["waiters"] == 1 for e in by_kind(events, "probe.sem") if e["obj"] == name)
    pipe_probes = [e for e in by_kind(events, "probe.pipe") if e["obj"] == "p" and e["seq"] > done]
    assert pipe_probes and pipe_probes[-1]["nbytes"] == 70
