"""A scenario's ordinary commands (``scenario.command``) seen through strace, beside the
Python workers: the same objects, one legal history, what ipcviz shows is what the command
did; without strace, one line says so and the probes alone see them."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ipcviz import probe
from ipcviz.events.codec import payload
from ipcviz.events.trace import TraceReader
from tests.anyprog.test_programs import ipcviz, needs_tools
from tests.mechanisms.helpers import by_kind, run_file


def _verified(tmp_path: Path, name: str) -> None:
    done = ipcviz("verify", str(tmp_path / f"{name}.jsonl"))
    assert done.returncode == 0 and "legal history" in done.stdout, done.stdout


def _ops(events: list[dict], kind: str, obj: str) -> list[dict]:
    return [e for e in events if e["kind"] == kind and e.get("obj") == obj]


COMMAND_WRITES = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("cmd-writes", "a command writes, Python reads", timeout=60)
    f = scenario.fifo("nums")
    scenario.command("printer", ["sh", "-c", 'printf "one\\\\ntwo\\\\n" > "$IPCVIZ_NUMS"'])

    @scenario.process("reader")
    def reader(ctx):
        f.open_read()
        got = b""
        while chunk := f.read(4096):
            got += chunk
        f.close_read()
        ctx.report("got", got.decode())

    @scenario.check("the reader got both lines")
    def both(run):
        return run.report("reader", "got") == "one\\ntwo\\n"
"""


@needs_tools
def test_a_commands_writes_into_a_scenario_fifo_are_the_fifos_operations(tmp_path: Path) -> None:
    result, _, events = run_file(tmp_path, "writes", COMMAND_WRITES)
    assert result.returncode == 0, result.stdout + result.stderr
    _verified(tmp_path, "writes")
    starts = {e["pid"]: e["name"] for e in by_kind(events, "proc.start")}
    writes = _ops(events, "pipe.write", "nums")
    reads = _ops(events, "pipe.read", "nums")
    # the shell's printf: one write, seen through strace, by the command's own process
    assert b"".join(payload(e) for e in writes) == b"one\ntwo\n"
    assert {starts[e["pid"]] for e in writes} == {"printer"}
    assert b"".join(payload(e) for e in reads) == b"one\ntwo\n"
    assert {starts[e["pid"]] for e in reads} == {"reader"}
    # the command is its program (strace is never shown), and its exit is the program's
    assert "strace" not in " ".join(starts.values())
    printer = next(p for p, n in starts.items() if n == "printer")
    assert [e.get("code") for e in by_kind(events, "proc.exit") if e["pid"] == printer] == [0]


SYSV = """
    import sys
    from ipcviz.scenario import Scenario

    scenario = Scenario("cmd-sysv", "Python sends, a command receives", timeout=60)
    q = scenario.sysv_queue("jobs")

    @scenario.process("sender")
    def sender(ctx):
        for t in (3, 1, 2):
            q.send(f"job {t}".encode(), mtype=t)

    RECV = (
        "import os, sysv_ipc\\n"
        "q = sysv_ipc.MessageQueue(int(os.environ['IPCVIZ_JOBS_KEY']))\\n"
        "assert q.id == int(os.environ['IPCVIZ_JOBS'])\\n"
        "for t in (1, 2, 3):\\n"
        "    m, got = q.receive(type=t)\\n"
        "    print(got, m.decode(), flush=True)\\n"
    )
    scenario.command("worker", [sys.executable, "-c", RECV])

    @scenario.check("the worker got each job by its type")
    def got(run):
        return run.exits.get("worker", {}).get("code") == 0
"""


@needs_tools
def test_a_commands_receives_from_a_scenario_queue_are_seen_with_their_types(
    tmp_path: Path,
) -> None:
    result, _, events = run_file(tmp_path, "sysv", SYSV)
    assert result.returncode == 0, result.stdout + result.stderr
    _verified(tmp_path, "sysv")
    starts = {e["pid"]: e["name"] for e in by_kind(events, "proc.start")}
    received = _ops(events, "mq.recv", "jobs")
    assert [(e.get("mtype"), payload(e)) for e in received] == [
        (1, b"job 1"),
        (2, b"job 2"),
        (3, b"job 3"),
    ]
    assert {starts[e["pid"]] for e in received} == {"worker"}
    said = b"".join(payload(e) for e in by_kind(events, "proc.output")).decode()
    assert said.split() == ["1", "job", "1", "2", "job", "2", "3", "job", "3"]


BOTH_MAKE = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("both-make", "a worker and a command each make a pipe", timeout=60)
    scenario.command("shell", ["sh", "-c", "echo hello | cat"])

    @scenario.process("maker")
    def maker(ctx):
        p = ctx.pipe("mine")
        p.write(b"ping")
        assert p.read(4) == b"ping"
"""


@needs_tools
def test_objects_a_worker_and_a_command_make_get_indexes_of_their_own(tmp_path: Path) -> None:
    """One index space (the run's object table): neither's records name the other's."""
    result, _, events = run_file(tmp_path, "both", BOTH_MAKE)
    assert result.returncode == 0, result.stdout + result.stderr
    _verified(tmp_path, "both")
    declared = [e["obj"] for e in by_kind(events, "obj.declare")]
    shells = [o for o in declared if o.startswith("pipe:[")]
    assert "mine" in declared and len(shells) == 1
    assert b"".join(payload(e) for e in _ops(events, "pipe.write", "mine")) == b"ping"
    assert b"".join(payload(e) for e in _ops(events, "pipe.write", shells[0])) == b"hello\n"
    assert b"".join(payload(e) for e in _ops(events, "pipe.read", shells[0])) == b"hello\n"
    # a command's pipe is not ipcviz's: it is never said removed by the engine
    assert [e for e in by_kind(events, "obj.remove") if e["obj"] == shells[0]] == []


def test_without_strace_one_line_says_so_and_the_probes_see_the_commands(
    tmp_path: Path,
) -> None:
    """A PATH with no strace: the run goes on untraced and its trace says why."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "cat", "tr"):
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_dir / tool).symlink_to(found)
    source = tmp_path / "untraced.py"
    source.write_text(
        "from ipcviz.scenario import Scenario\n"
        "scenario = Scenario('untraced', 'no strace here', timeout=60)\n"
        "f = scenario.fifo('lines')\n"
        "scenario.command('upper', ['sh', '-c', 'cat \"$IPCVIZ_LINES\" | tr a-z A-Z'])\n"
        "@scenario.process('writer')\n"
        "def writer(ctx):\n"
        "    f.open_write()\n"
        "    f.write(b'abc\\n')\n"
        "    f.close_write()\n"
    )
    trace = tmp_path / "untraced.jsonl"
    env = {**os.environ, "PATH": f"{bin_dir}:{Path(sys.executable).parent}"}
    done = ipcviz("run", str(source), "--headless", "--quick", "--record", str(trace), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "strace is not installed" in done.stdout
    events = list(TraceReader.open(trace).events())
    assert [e["reason"] for e in by_kind(events, "notice")] == ["no-strace"]
    output = b"".join(payload(e) for e in by_kind(events, "proc.output"))
    assert output == b"ABC\n"
    # the command's reads are not seen (no strace), the worker's write is
    assert [e["pid"] for e in _ops(events, "pipe.read", "lines")] == []
    # review finding: CommandsEngine.traced (a dict, empty here) shadows Engine.traced
    # (the bool fork_worker reads): the workers got no ring, none of their calls is shown
    assert b"".join(payload(e) for e in _ops(events, "pipe.write", "lines")) == b"abc\n"
    korean = ipcviz("replay", str(trace), "--headless", "--lang", "ko")
    assert "strace가 설치되어 있지 않습니다" in korean.stdout, korean.stdout + korean.stderr


LEAVES = """
    import sys
    from ipcviz.scenario import Scenario

    scenario = Scenario("cmd-leaves", "a command makes a queue and leaves it", timeout=60)
    MAKE = (
        "import sysv_ipc\\n"
        "q = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX)\\n"
        "q.send(b'left', type=1)\\n"
        "print(q.id, flush=True)\\n"
    )
    scenario.command("maker", [sys.executable, "-c", MAKE])
"""


@needs_tools
def test_what_a_command_made_and_left_is_named_never_removed(tmp_path: Path) -> None:
    import sysv_ipc

    result, _, events = run_file(tmp_path, "leaves", LEAVES)
    said = b"".join(payload(e) for e in by_kind(events, "proc.output")).decode().split()
    ident = int(said[0])
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        _verified(tmp_path, "leaves")
        (left,) = by_kind(events, "program.leftover")
        assert left["obj"] == f"msqid:{ident}" and f"ipcrm -q {ident}" in left["message"]
        assert probe.sysv_mq_stat(ident) is not None  # still there: ipcviz never removes it
    finally:
        sysv_ipc.remove_message_queue(ident)


KILLED = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("cmd-killed", "k on a command's process", timeout=60)
    f = scenario.fifo("data")
    scenario.command("reader", ["sh", "-c", 'exec cat "$IPCVIZ_DATA"'])

    @scenario.process("writer")
    def writer(ctx):
        f.open_write()
        for _ in range(200):  # until the reader is killed (EPIPE), at most ~10 s
            try:
                f.write(b"x\\n")
            except BrokenPipeError:
                break
            ctx.sleep(0.05)
        f.close_write()
"""


@needs_tools
def test_k_kills_a_traced_commands_process(tmp_path: Path) -> None:
    """The screen's ``k`` sends the model's pid: for a command that is its program (as
    shown), not the strace running it. Review finding: CommandsEngine keeps the base
    ``control``, which looks the pid up among the workers (strace's pid), so the kill is
    silently dropped."""
    import textwrap

    from ipcviz.engine.client import EngineProcess

    source = tmp_path / "killed.py"
    source.write_text(textwrap.dedent(KILLED))
    engine = EngineProcess(source, tmp_path / "killed.jsonl", timeout=60.0)
    events: list[dict] = []
    names: dict[int, str] = {}
    victim = None
    try:
        for event in engine.events():
            events.append(event)
            if event.get("kind") == "proc.start":
                names[event["pid"]] = event.get("name", "")
            if (
                victim is None
                and event.get("kind") == "pipe.read"
                and names.get(event["pid"]) == "reader"
            ):
                victim = event["pid"]
                engine.send("kill", pid=victim)
        engine.wait(60)
    finally:
        engine.terminate()
        engine.close()
    assert victim is not None
    assert any(e.get("kind") == "control" and e.get("target") == victim for e in events)
    exits = {e["pid"]: e for e in events if e.get("kind") == "proc.exit"}
    assert exits[victim].get("signame") == "SIGKILL"


TWO_COMMANDS = """
    import sys
    from ipcviz.scenario import Scenario

    scenario = Scenario("two-commands", "two commands, one queue of their own", timeout=60)
    MAKE = (
        "import sysv_ipc\\n"
        "q = sysv_ipc.MessageQueue(0x1D1E0, sysv_ipc.IPC_CREAT, mode=0o600)\\n"
        "q.send(b'hello', type=1)\\n"
        "q.receive(type=2)\\n"
        "q.remove()\\n"
    )
    TAKE = (
        "import sysv_ipc, time\\n"
        "while True:\\n"
        "    try:\\n"
        "        q = sysv_ipc.MessageQueue(0x1D1E0)\\n"
        "        break\\n"
        "    except sysv_ipc.ExistentialError:\\n"
        "        time.sleep(0.01)\\n"
        "q.receive(type=1)\\n"
        "q.send(b'back', type=2)\\n"
    )
    scenario.command("maker", [sys.executable, "-c", MAKE])
    scenario.command("taker", [sys.executable, "-c", TAKE])
"""


@needs_tools
def test_two_commands_using_one_queue_of_their_own(tmp_path: Path) -> None:
    """Review finding: each command's mapper allocates ``msqid:ID`` in the run's object
    table; the second is refused (ScenarioError) and the engine ends in an internal error.
    (The polling loop only waits for the maker's queue to exist: no timing is asserted.)"""
    result, _, events = run_file(tmp_path, "two", TWO_COMMANDS)
    assert result.returncode == 0, result.stdout + result.stderr
    _verified(tmp_path, "two")
    queues = {e["obj"] for e in by_kind(events, "obj.declare") if e["obj"].startswith("msqid:")}
    assert len(queues) == 1


MANY_PIPES = """
    import sys
    from ipcviz.scenario import Scenario

    scenario = Scenario("many-pipes", "more pipes than the object table holds", timeout=120)
    MANY = "import os\\nfor _ in range(4200):\\n    a, b = os.pipe(); os.close(a); os.close(b)\\n"
    scenario.command("maker", [sys.executable, "-c", MANY])
"""


@needs_tools
def test_a_command_making_thousands_of_pipes(tmp_path: Path) -> None:
    """Review finding: each pipe a command makes takes an index of the run's object table
    (MAX_OBJECTS = 4096, meant for objects workers make); the 4097th raises ScenarioError
    inside the mapper: an internal error. When it is raised while strace's last lines are
    read (``_finish_worker``), the shutdown's drain raises it again and the trace keeps its
    header alone (no event, no session.end: "the engine stopped unexpectedly")."""
    result, _, events = run_file(tmp_path, "many", MANY_PIPES, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert events and events[-1]["kind"] == "session.end"
