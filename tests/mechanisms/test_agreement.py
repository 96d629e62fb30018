"""After a scripted sequence, the model and the kernel's own view agree, for every object type."""

from __future__ import annotations

from pathlib import Path

from ipcviz.mechanisms.pipe.state import PipeObj
from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.mechanisms.posix_shm.state import ShmObj
from tests.mechanisms.helpers import by_kind, run_file, states_at_probes

SCRIPTED = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("agree", "model and kernel agree", params={"hold": 1.2})
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
        ctx.sleep(ctx.params["hold"])
        z.post()
        y.post()

    @scenario.process("fifo_reader")
    def fifo_reader(ctx):
        f.open_read()
        assert f.read_exactly(15) == b"fifo-bytes-fifo"
        ctx.report("done", True)
        ctx.sleep(ctx.params["hold"] + 0.5)

    @scenario.process("posix_waiter")
    def posix_waiter(ctx):
        z.wait()

    @scenario.process("sysv_waiter")
    def sysv_waiter(ctx):
        y.wait()
"""


def test_model_and_kernel_agree_for_every_type(tmp_path: Path):
    result, header, events = run_file(tmp_path, "agree", SCRIPTED)
    assert result.returncode == 0, result.stdout[-3000:]
    assert not by_kind(events, "drift"), by_kind(events, "drift")
    done = max(e["seq"] for e in by_kind(events, "report") if e["key"] == "done")
    compared: dict[str, int] = {}
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
        compared[obj.name] = compared.get(obj.name, 0) + 1
    assert set(compared) == {"p", "f", "q", "m", "s", "z", "y", "shm"}, compared
    # the waiters were really counted by the kernel (GETNCNT / glibc nwaiters) at some probe
    for name in ("z", "y"):
        assert any(e["waiters"] == 1 for e in by_kind(events, "probe.sem") if e["obj"] == name)
    pipe_probes = [e for e in by_kind(events, "probe.pipe") if e["obj"] == "p" and e["seq"] > done]
    assert pipe_probes and pipe_probes[-1]["nbytes"] == 70
