"""A scenario's ordinary commands (``scenario.command``) seen through strace, beside the
Python workers: the same objects, one legal history, what ipcviz shows is what the command
did; without strace, one line says so and the probes alone see them."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from pathlib import Path

from ipcviz import probe
from ipcviz.events.codec import payload
from ipcviz.events.trace import TraceReader
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
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
    # its partner, a worker strace does not trace, is the scenario's: no outsider is said
    assert by_kind(events, "notice") == []
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
    # the shell's child that runs cat is called cat from its execve on (proc.exec)
    (ran,) = by_kind(events, "proc.exec")
    assert (ran["name"], ran["command"]) == ("cat", ["cat"])
    readers = {e["pid"] for e in _ops(events, "pipe.read", shells[0])}
    assert readers == {ran["pid"]}
    state = State(header={})
    for e in events:
        apply(state, e)
    assert state.procs[ran["pid"]].name == "cat"
    # the Perfetto export renames its track too (the last process_name is the one shown)
    out = tmp_path / "both.perfetto.json"
    done = ipcviz("export", str(tmp_path / "both.jsonl"), "--format", "perfetto", "-o", str(out))
    assert done.returncode == 0, done.stderr
    names = [
        e["args"]["name"]
        for e in json.loads(out.read_text())["traceEvents"]
        if e.get("name") == "process_name" and e["pid"] == ran["pid"]
    ]
    assert names[-1] == f"cat ({ran['pid']})" and len(names) == 2


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


BOTH_RECEIVE = """
    import sys
    from ipcviz.scenario import Scenario

    scenario = Scenario("cmd-stuck", "a worker and a command both receive first", timeout=60)
    q = scenario.sysv_queue("q")
    RECV = "import os, sysv_ipc; sysv_ipc.MessageQueue(int(os.environ['IPCVIZ_Q_KEY'])).receive()"
    scenario.command("taker", [sys.executable, "-c", RECV])

    @scenario.process("waiter")
    def waiter(ctx):
        q.receive()
"""


@needs_tools
def test_a_deadlock_with_a_command_names_and_kills_its_program_never_its_strace(
    tmp_path: Path,
) -> None:
    """Both wait on an empty queue that only the other could send to. The strace running
    the command sleeps in wait4 for it: it was named in the cycle by pid ("31622 waits for
    its child taker → taker waits to receive from q, which 31622 could send to") and killed
    to end it. The cycle is the two shown processes, and the kill names the program."""
    result, _, events = run_file(tmp_path, "stuck", BOTH_RECEIVE)
    _verified(tmp_path, "stuck")
    assert "DEADLOCK" in result.stdout, result.stdout + result.stderr
    shown = {e["pid"]: e["name"] for e in by_kind(events, "proc.start")}
    (deadlock,) = by_kind(events, "deadlock")
    assert {shown.get(edge["pid"]) for edge in deadlock["cycle"]} == {"waiter", "taker"}
    assert {edge["held_by_pid"] for edge in deadlock["cycle"]} <= set(shown)
    kills = [e["target"] for e in by_kind(events, "control") if e.get("action") == "kill"]
    assert sorted(shown[pid] for pid in kills) == ["taker", "waiter"]


MISSING = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("cmd-missing", "a command that is not there", timeout=60)
    scenario.command("ghost", ["/nonexistent/prog", "x"])

    @scenario.process("worker")
    def worker(ctx):
        pass
"""


@needs_tools
def test_a_command_that_cannot_start_is_shown_as_itself_not_as_strace(tmp_path: Path) -> None:
    """strace could not run it: the process is the command (its argv), strace's own line
    says why, and strace's command line is never shown."""
    result, _, events = run_file(tmp_path, "missing", MISSING)
    _verified(tmp_path, "missing")
    (start,) = [e for e in by_kind(events, "proc.start") if e["name"] == "ghost"]
    assert start["command"] == ["/nonexistent/prog", "x"]
    assert "strace -f" not in result.stdout, result.stdout
    output = b"".join(payload(e) for e in by_kind(events, "proc.output"))
    assert b"/nonexistent/prog" in output


SLEEPER = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("cmd-kill", "k on a command", timeout=60)
    scenario.command("sleeper", ["sh", "-c", "exec sleep 300"])

    @scenario.process("worker")
    def worker(ctx):
        pass
"""


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
def test_k_on_a_command_kills_it(tmp_path: Path) -> None:
    """The screen's k sends the pid it shows: a command's program, not the strace (the
    worker) running it. That pid matched no worker, so k did nothing, and said nothing."""
    from tests.control.test_step_mode import Live

    source = tmp_path / "sleeper.py"
    source.write_text(textwrap.dedent(SLEEPER))
    live = Live(str(source), tmp_path / "t.jsonl", step=False)
    try:
        assert live.until(lambda s: any(p.name == "sleeper" for p in s.procs.values()))
        sleeper = next(p for p in live.state.procs.values() if p.name == "sleeper")
        live.engine.send("kill", pid=sleeper.pid)
        assert live.until(lambda s: not s.procs[sleeper.pid].alive)
        kills = [e for e in live.events if e["kind"] == "control" and e["action"] == "kill"]
        assert [e["target"] for e in kills] == [sleeper.pid]
    finally:
        live.close()


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


KEEPS = """
    import sys
    from ipcviz.scenario import Scenario

    scenario = Scenario("cmd-keeps", "a command makes a queue, then waits", timeout=60)
    MAKE = (
        "import sysv_ipc, time\\n"
        "q = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX)\\n"
        "print(q.id, flush=True)\\n"
        "time.sleep(300)\\n"
    )
    scenario.command("keeper", [sys.executable, "-c", MAKE])
"""


@needs_tools
def test_what_a_command_made_is_removed_when_ipcviz_ended_it(tmp_path: Path) -> None:
    """Ctrl-C while a command runs: ipcviz kills it before it could remove its queue, so
    ipcviz removes the queue and says so (it stayed on the machine before)."""
    import signal
    import subprocess

    import sysv_ipc

    from tests.faults.harness import read_lines, wait_for

    source = tmp_path / "keeps.py"
    source.write_text(textwrap.dedent(KEEPS))
    trace = tmp_path / "keeps.jsonl"
    run = subprocess.Popen(
        [sys.executable, "-m", "ipcviz", "run", str(source), "--headless", "--record", str(trace)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def said() -> str:
        return b"".join(payload(e) for e in by_kind(read_lines(trace)[1], "proc.output")).decode()

    ident = int(wait_for("the queue's id", lambda: said().strip()))
    try:
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
        (left,) = by_kind(read_lines(trace)[1], "program.leftover")
        assert left["obj"] == f"msqid:{ident}" and left["removed"] is True
        assert f"before it removed msqid {ident}: ipcviz removed it" in out.decode()
        assert probe.sysv_mq_stat(ident) is None
    finally:
        try:
            sysv_ipc.remove_message_queue(ident)  # (only if ipcviz did not)
        except sysv_ipc.ExistentialError:
            pass


KILLED = """
    import time
    from ipcviz.scenario import Scenario

    scenario = Scenario("cmd-killed", "k on a command's process", timeout=60)
    f = scenario.fifo("data")
    scenario.command("reader", ["sh", "-c", 'exec cat "$IPCVIZ_DATA"'])

    @scenario.process("writer")
    def writer(ctx):
        f.open_write()
        # until the reader is killed (EPIPE): ended sooner, the reader would see the end of
        # the data and exit by itself, no SIGKILL (200 writes, ~10 s, were a guess at it)
        end = time.monotonic() + 50
        while time.monotonic() < end:
            try:
                f.write(b"x\\n")
            except BrokenPipeError:
                break
            ctx.sleep(0.05)
        f.close_write()
"""


OTHER_TYPES = """
    import sys
    from ipcviz.scenario import Scenario

    scenario = Scenario("cmd-types", "a command on a POSIX queue, a semaphore, memory", timeout=60)
    pq = scenario.posix_queue("jobs")
    go = scenario.sysv_semaphore("go", value=0)
    ready = scenario.sysv_semaphore("ready", value=0)
    mem = scenario.shared_memory("mem", cells=2)
    CODE = (
        "import mmap, os, posix_ipc, sysv_ipc\\n"
        "sysv_ipc.Semaphore(int(os.environ['IPCVIZ_READY_KEY'])).acquire()\\n"
        "q = posix_ipc.MessageQueue(os.environ['IPCVIZ_JOBS'])\\n"
        "data, prio = q.receive()\\n"
        "m = posix_ipc.SharedMemory(os.environ['IPCVIZ_MEM'])\\n"
        "mm = mmap.mmap(m.fd, m.size)\\n"
        "mm[0:8] = (42).to_bytes(8, 'little')\\n"
        "sysv_ipc.Semaphore(int(os.environ['IPCVIZ_GO_KEY'])).release()\\n"
        "print(prio, data.decode(), flush=True)\\n"
    )
    scenario.command("helper", [sys.executable, "-c", CODE])

    @scenario.process("boss")
    def boss(ctx):
        pq.send(b"low", priority=1)
        pq.send(b"high", priority=7)
        ready.post()  # both are queued before the helper receives: it takes the higher
        go.wait()
        ctx.report("cell", mem[0])

    @scenario.check("the boss read what the helper stored")
    def stored(run):
        return run.report("boss", "cell") == 42
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
    """Review finding: each command's mapper allocated ``msqid:ID`` in the run's object
    table; the second was refused (ScenarioError) and the engine ended in an internal error.
    Now the commands share their objects' state and the run ends normally. (The polling loop
    only waits for the maker's queue to exist: no timing is asserted.)

    Known limit (docs/any-program.md): the straces' lines are put in one order of time
    within an engine turn only. When one strace lags a turn behind the other, its older
    lines reach the shared state after the other's newer ones (the queue's removal before
    its use, so it is declared again), and no legal order may exist; the trace then says
    so (``order.conflict``, ``ipcviz verify`` fails) rather than showing it silently."""
    result, _, events = run_file(tmp_path, "two", TWO_COMMANDS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not by_kind(events, "error"), by_kind(events, "error")
    queues = {e["obj"] for e in by_kind(events, "obj.declare") if e["obj"].startswith("msqid:")}
    assert len(queues) == 1  # one queue, whatever the lag: never two names for it
    verify = ipcviz("verify", str(tmp_path / "two.jsonl"))
    if verify.returncode != 0:  # the known limit above: said in the trace, never silent
        assert by_kind(events, "order.conflict"), verify.stdout


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


@needs_tools
def test_a_command_on_a_scenario_queue_semaphore_and_memory(tmp_path: Path) -> None:
    """A POSIX queue and a System V semaphore of the scenario are the command's too (their
    calls, one object each); shared memory changes without a system call: the trace says
    the command acts there unseen, and the read of its store is no accusation."""
    result, _, events = run_file(tmp_path, "types", OTHER_TYPES)
    assert result.returncode == 0, result.stdout + result.stderr
    _verified(tmp_path, "types")
    declared = sorted(e["obj"] for e in by_kind(events, "obj.declare"))
    assert declared == ["go", "jobs", "mem", "ready"]  # nothing made up for its calls
    starts = {e["pid"]: e["name"] for e in by_kind(events, "proc.start")}
    (got,) = _ops(events, "mq.recv", "jobs")
    assert (starts[got["pid"]], got["prio"], payload(got)) == ("helper", 7, b"high")
    (post,) = _ops(events, "sem.post", "go")
    (took,) = _ops(events, "sem.wait", "ready")
    assert starts[post["pid"]] == starts[took["pid"]] == "helper"
    (unseen,) = by_kind(events, "notice")
    assert (unseen["reason"], unseen["obj"], starts[unseen["pid"]]) == (
        "unseen-use",
        "mem",
        "helper",
    )


REMOVER = """
    import sys
    from ipcviz.scenario import Scenario

    scenario = Scenario("rm-shared", "a command removes the scenario's queue", timeout=60)
    q = scenario.sysv_queue("jobs")
    RM = "import os, sysv_ipc; sysv_ipc.remove_message_queue(int(os.environ['IPCVIZ_JOBS']))"
    scenario.command("remover", [sys.executable, "-c", RM])
"""


@needs_tools
def test_a_command_removing_a_scenario_queue_removes_it_by_its_name_once(tmp_path: Path) -> None:
    result, _, events = run_file(tmp_path, "remover", REMOVER)
    assert result.returncode == 0, result.stdout + result.stderr
    _verified(tmp_path, "remover")
    starts = {e["pid"]: e["name"] for e in by_kind(events, "proc.start")}
    removes = [(e["obj"], starts.get(e["pid"], "engine")) for e in by_kind(events, "obj.remove")]
    assert removes == [("jobs", "remover")]


@needs_tools
def test_a_commands_first_output_is_kept_however_fast_it_prints(tmp_path: Path) -> None:
    """What a command prints before strace's first line named its program is held until
    then: all of it, from its first byte (a flood of output in that moment kept only the
    last 4 KiB, so its first lines, an error message say, vanished without a word)."""
    from tests.anyprog.programs import SPLICER
    from tests.anyprog.test_programs import compile_c

    binary = compile_c(tmp_path, "splicer", SPLICER, "-static")
    source = f"""
        from ipcviz.scenario import Scenario

        scenario = Scenario("cmd-floods", "a command prints a lot at once", timeout=60)
        scenario.command("flood", [{str(binary)!r}])
    """
    result, _, events = run_file(tmp_path, "floods", source)
    assert result.returncode == 0, result.stdout + result.stderr
    output = b"".join(payload(e) for e in by_kind(events, "proc.output"))
    assert output[:11] == b"FIRST-LINE\n" and output == output[:11] + bytes(200000 - 11)
    _verified(tmp_path, "floods")


def test_two_objects_one_variable_is_refused_when_a_command_reads_them(tmp_path: Path) -> None:
    """``to-wc`` and ``to_wc`` (or ``LOG`` and ``log``, or a System V queue ``jobs`` and a
    FIFO ``jobs_key``) would give a command one ``$IPCVIZ_…`` for two objects: it silently
    got whichever came last (a reader waiting on the other FIFO, a "deadlock"). Refused at
    declaration, in one line, exit 2; without a command nobody reads the variables."""
    import pytest

    from ipcviz.errors import ScenarioError
    from ipcviz.scenario import Scenario

    for first, second in (("to-wc", "to_wc"), ("log", "LOG")):
        scenario = Scenario("clash", "clash")
        scenario.fifo(first)
        scenario.fifo(second)  # no command yet: nothing reads $IPCVIZ_…
        with pytest.raises(ScenarioError, match="IPCVIZ_"):
            scenario.command("cat", ["cat"])
    scenario = Scenario("clash", "clash")
    scenario.command("cat", ["cat"])
    scenario.sysv_queue("jobs")
    with pytest.raises(ScenarioError, match="IPCVIZ_JOBS_KEY"):
        scenario.fifo("jobs_key")
    source = """
        from ipcviz.scenario import Scenario

        scenario = Scenario("clash", "two objects, one variable")
        scenario.fifo("to-wc")
        scenario.fifo("to_wc")
        scenario.command("writer", ["sh", "-c", 'printf x > "$IPCVIZ_TO_WC"'])
    """
    path = tmp_path / "clash.py"
    path.write_text(textwrap.dedent(source))
    done = ipcviz("run", str(path), "--headless")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and "IPCVIZ_TO_WC" in done.stderr, done.stderr


def test_a_commands_argv_that_cannot_run_is_refused_in_one_line(tmp_path: Path) -> None:
    """``scenario.command``'s argv is checked where it is declared: an empty one was an
    internal error, bytes stopped the engine ("stopped unexpectedly"), a number or None a
    traceback in a PASSED run, a string ran its letters (``s``, ``h``). Refused as any
    error of the scenario is: one line, exit 2, recorded."""
    import pytest

    from ipcviz.errors import ScenarioError
    from ipcviz.scenario import Scenario

    for argv in ([], [""], ["sh", 5], ["sh", None], [b"sh"], "sh -c true", ["a\0b"], None):
        with pytest.raises(ScenarioError, match="argv"):
            Scenario("argv", "argv").command("c", argv)  # type: ignore[arg-type]
    Scenario("argv", "argv").command("c", ("sh", "-c", "", "x y"))  # a tuple, empty args: fine
    path = tmp_path / "argv.py"
    path.write_text(
        "from ipcviz.scenario import Scenario\n"
        "scenario = Scenario('argv', 'argv')\n"
        "scenario.command('c', [])\n"
    )
    done = ipcviz("run", str(path), "--headless", "--record", str(tmp_path / "t.jsonl"))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and "argv" in done.stderr, done.stderr


STRACE_DIES = """
    import signal

    from ipcviz.scenario import Scenario

    scenario = Scenario("strace-dies", "a command's strace is killed", timeout=120)
    f = scenario.fifo("f")
    scenario.command("catter", ["sh", "-c", 'cat "$IPCVIZ_F"'])

    @scenario.process("idle")
    def idle(ctx):
        signal.pause()  # no IPC wait: nothing here to call a deadlock
"""


@needs_tools
def test_a_command_whose_strace_dies_is_not_left_running_unseen(tmp_path: Path) -> None:
    """strace killed under a command (by a user, the OOM killer): its processes ran on,
    untraced, while the screen showed them ended ("its parent reaped it"), until the run
    ended. Now they are killed at once, said so, and shown killed."""
    import signal
    import subprocess

    import psutil

    from tests.faults.harness import _alive, read_lines, wait_for

    scenario = tmp_path / "dies.py"
    scenario.write_text(textwrap.dedent(STRACE_DIES))
    trace = tmp_path / "t.jsonl"
    cli = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ipcviz",
            "run",
            str(scenario),
            "--headless",
            "--record",
            str(trace),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for("cat waiting in open", lambda: any(
            e["kind"] == "pipe.open.begin" for e in read_lines(trace)[1]
        ))  # fmt: skip
        program = [
            e["pid"]
            for e in read_lines(trace)[1]
            if e["kind"] == "proc.start" and e["name"].split("/")[0] == "catter"
        ]  # its shell and cat
        straces = [p for p in psutil.Process(cli.pid).children(recursive=True)
                   if p.name() == "strace"]  # fmt: skip
        assert len(straces) == 1 and len(program) == 2, (straces, program)
        straces[0].kill()
        wait_for("the command's processes gone", lambda: not any(map(_alive, program)), 30)
    finally:
        cli.send_signal(signal.SIGINT)
        _out, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, err
    events = read_lines(trace)[1]
    exits = {e["pid"]: e for e in events if e["kind"] == "proc.exit"}
    assert all(exits[p].get("signame") == "SIGKILL" for p in program), exits
    assert any(e["kind"] == "error" and "strace" in e["message"] for e in events), events
    _verified(tmp_path, "t")


SETS = r"""
#include <stdlib.h>
#include <sys/sem.h>

union semun { int val; unsigned short *array; };

int main(void)
{
    union semun u = { .val = 2 };
    if (semctl(atoi(getenv("IPCVIZ_A")), 0, SETVAL, u) < 0)
        return 1;
    unsigned short one[1] = { 1 };
    u.array = one;  /* strace prints the array's address, not its values */
    return semctl(atoi(getenv("IPCVIZ_B")), 0, SETALL, u) < 0;
}
"""

SETTER = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("cmd-setval", "a command gives a scenario's semaphores values", timeout=60)
    a = scenario.sysv_semaphore("a", value=0)
    b = scenario.sysv_semaphore("b", value=0)
    scenario.command("init", [BINARY])

    @scenario.process("user")
    def user(ctx):
        a.wait()  # both wait for the command's semctl
        a.wait()
        b.wait()
        ctx.report("done", True)

    @scenario.check("the user took all three units")
    def done(run):
        return run.report("user", "done") is True
"""


@needs_tools
def test_a_commands_semctl_gives_a_scenario_semaphore_its_value(tmp_path: Path) -> None:
    """semctl(SETVAL) on a scenario's semaphore was not shown: the model kept value 0, so
    the waits it allowed were shown taking the value to -1, with an order.conflict each.
    Now it is ``sem.set``; a SETALL, whose values strace does not print, is said."""
    from tests.anyprog.test_programs import compile_c

    binary = compile_c(tmp_path, "sets", SETS)
    source = SETTER.replace("BINARY", repr(str(binary)))
    result, header, events = run_file(tmp_path, "setter", source)
    assert result.returncode == 0, result.stdout + result.stderr
    _verified(tmp_path, "setter")
    assert by_kind(events, "order.conflict") == []
    starts = {e["pid"]: e["name"] for e in by_kind(events, "proc.start")}
    (given,) = by_kind(events, "sem.set")
    assert (starts[given["pid"]], given["obj"], given["value"]) == ("init", "a", 2)
    (unseen,) = by_kind(events, "notice")
    assert (unseen["reason"], unseen["obj"], starts[unseen["pid"]]) == ("unseen-value", "b", "init")
    state = State(header=header)
    for e in events:
        apply(state, e)
        assert all(getattr(o, "value", 0) >= 0 for o in state.objects.values()), e
    assert (state.objects["a"].initial, state.objects["a"].base) == (0, 2)  # tokens from 2
