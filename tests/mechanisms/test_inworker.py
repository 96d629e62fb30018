"""What a worker does after start is traced: children it forks, its threads, objects it makes.

Real processes, real pipes: every byte a forked child writes appears in the events, threads
never lose or tear a record, and a pipe made inside a worker (``pipe(); fork();``) is an
object with its reads and writes. No test waits on a sleep: children wait for conditions
(their parent gone, a pipe's EOF).
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ipcviz.model.verify import check
from tests.mechanisms.helpers import by_kind, pids_by_name, run_file

FORK_WRITES = """
    import os
    from ipcviz.scenario import Scenario

    scenario = Scenario("forkw", "a worker forks a child; both write to one pipe")
    p = scenario.pipe("p", writer="w", reader="r")

    @scenario.process("w")
    def w(ctx):
        pid = os.fork()
        if pid == 0:
            for _ in range(18):
                p.write(b"c" * 100)
            os._exit(3)
        for _ in range(18):
            p.write(b"p" * 100)
        os.waitpid(pid, 0)

    @scenario.process("r")
    def r(ctx):
        n = 0
        while data := p.read(4096):
            n += len(data)
        ctx.report("n", n)
"""


def _bytes(events: list[dict[str, Any]], kind: str, pid: int | None = None) -> int:
    return sum(
        len(base64.b64decode(e["data"]))
        for e in by_kind(events, kind)
        if pid is None or e["pid"] == pid
    )


def _first_seq(events: list[dict[str, Any]], pid: int) -> int:
    return min(e["seq"] for e in events if e["pid"] == pid)


def test_every_byte_a_forked_child_writes_is_recorded(tmp_path: Path) -> None:
    result, _h, events = run_file(tmp_path, "forkw", FORK_WRITES)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    pids = pids_by_name(events)
    assert set(pids) == {"w", "r", "w/1"}
    child = pids["w/1"]
    start = next(e for e in by_kind(events, "proc.start") if e["pid"] == child)
    assert start["parent"] == pids["w"]
    assert _first_seq(events, child) == start["seq"]  # nothing of it before it starts
    assert _bytes(events, "pipe.write") == 3600
    assert _bytes(events, "pipe.write", child) == 1800
    assert _bytes(events, "pipe.read") == 3600
    exits = {e["pid"]: e for e in by_kind(events, "proc.exit")}
    assert exits[child]["code"] == 3  # its own exit status, though its parent reaped it
    assert max(e["seq"] for e in events if e["pid"] == child) == exits[child]["seq"]
    assert not by_kind(events, "drift"), by_kind(events, "drift")
    assert "w/1" in result.stdout and "exits with code 3" in result.stdout


ORPHAN = """
    import os
    from ipcviz.scenario import Scenario

    scenario = Scenario("orphan", "the worker exits at once; its children write on")
    p = scenario.pipe("p", writer="w", reader="r")

    @scenario.process("w")
    def w(ctx):
        me = os.getpid()
        if ctx.fork("kid") == 0:
            if ctx.fork("grandkid") == 0:
                for _ in range(18):
                    p.write(b"g" * 100)
                os._exit(5)
            while os.getppid() == me:  # until its parent (the worker) is gone
                os.sched_yield()
            for _ in range(18):
                p.write(b"k" * 100)
            os._exit(4)
        # the worker returns at once, without waiting for anyone

    @scenario.process("r")
    def r(ctx):
        n = 0
        while data := p.read(4096):
            n += len(data)
        ctx.report("n", n)
"""


def test_children_of_a_worker_that_already_exited_are_still_traced(tmp_path: Path) -> None:
    result, _h, events = run_file(tmp_path, "orphan", ORPHAN)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    pids = pids_by_name(events)
    assert set(pids) == {"w", "r", "w/kid", "w/kid/grandkid"}
    starts = {e["pid"]: e for e in by_kind(events, "proc.start")}
    assert starts[pids["w/kid/grandkid"]]["parent"] == pids["w/kid"]
    assert _bytes(events, "pipe.write", pids["w/kid"]) == 1800
    assert _bytes(events, "pipe.write", pids["w/kid/grandkid"]) == 1800
    assert _bytes(events, "pipe.read") == 3600
    exits = {e["pid"]: e for e in by_kind(events, "proc.exit")}
    assert exits[pids["w/kid"]]["code"] == 4  # re-parented to the engine, reaped by it
    assert exits[pids["w/kid/grandkid"]]["code"] == 5


THREADS = """
    import sys
    import threading
    from ipcviz.scenario import Scenario

    scenario = Scenario("threads", "four threads of one worker write a pipe and a segment")
    p = scenario.pipe("p", writer="w", reader="r")
    m = scenario.shared_memory("m", cells=4)
    N = 1000

    @scenario.process("w")
    def w(ctx):
        sys.setswitchinterval(1e-6)  # threads switch all the time, also inside a record
        def run(i):
            for k in range(N):
                p.write(bytes([65 + i]) * (10 + i))
                m[i] = k
        threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    @scenario.process("r")
    def r(ctx):
        n = 0
        while data := p.read(65536):
            n += len(data)
        ctx.report("n", n)
"""


def test_threads_never_lose_or_tear_a_record(tmp_path: Path) -> None:
    n = 1000
    for run in range(3):
        result, _h, events = run_file(tmp_path, f"threads{run}", THREADS)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr
        kinds = Counter(e["kind"] for e in events)
        assert "unknown" not in kinds, kinds
        assert kinds["pipe.write"] == 4 * n and kinds["shm.write"] == 4 * n, kinds
        sizes = Counter(len(base64.b64decode(e["data"])) for e in by_kind(events, "pipe.write"))
        assert sizes == {10: n, 11: n, 12: n, 13: n}
        per_cell = Counter(e["offset"] for e in by_kind(events, "shm.write"))
        assert per_cell == {0: n, 8: n, 16: n, 24: n}
        assert _bytes(events, "pipe.read") == n * (10 + 11 + 12 + 13)


PIPE_FORK = """
    import os
    from ipcviz.scenario import Scenario

    scenario = Scenario("pipefork", "the lecture's own pipe(); fork();")

    @scenario.process("parent")
    def parent(ctx):
        p = scenario.pipe("fd") if ctx.params.get("via_scenario") else ctx.pipe("fd")
        pid = ctx.fork("child")
        if pid == 0:
            p.close_write()
            got = b""
            while data := p.read(4096):
                got += data
            ctx.report("got", len(got))
            os._exit(0)
        p.close_read()
        for _ in range(36):
            p.write(b"x" * 100)
        p.close_write()
        os.waitpid(pid, 0)

    @scenario.check("the model saw every byte go through the pipe made in the process")
    def through(run):
        fd = run.state.objects["fd"]
        return run.report("parent/child", "got") == 3600 and fd.written == 3600, str(fd)
"""


@pytest.mark.parametrize("via", ["ctx", "scenario"])
def test_a_pipe_made_inside_a_worker_is_an_object(tmp_path: Path, via: str) -> None:
    src = PIPE_FORK.replace(
        'Scenario("pipefork", "the lecture\'s own pipe(); fork();")',
        'Scenario("pipefork", "the lecture\'s own pipe(); fork();",'
        f" params={{'via_scenario': {via == 'scenario'}}})",
    )
    result, _h, events = run_file(tmp_path, "pipefork", src)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    pids = pids_by_name(events)
    declare = [e for e in by_kind(events, "obj.declare") if e["obj"] == "fd"]
    assert len(declare) == 1 and declare[0]["type"] == "pipe"
    assert declare[0]["pid"] == pids["parent"]
    assert declare[0]["kernel_name"].startswith("pipe:[")
    child_start = next(e for e in by_kind(events, "proc.start") if e["name"] == "parent/child")
    assert declare[0]["seq"] < child_start["seq"]
    writes = [e for e in by_kind(events, "pipe.write") if e.get("obj") == "fd"]
    reads = [e for e in by_kind(events, "pipe.read") if e.get("obj") == "fd"]
    assert _bytes(writes, "pipe.write") == 3600 and _bytes(reads, "pipe.read") == 3600
    assert {e["pid"] for e in reads} == {pids["parent/child"]}
    assert any(e["obj"] == "fd" for e in by_kind(events, "obj.remove"))
    assert "check ✓" in result.stdout


FORK_EXEC = """
    import os
    import signal
    from ipcviz.scenario import Scenario

    scenario = Scenario("forkexec", "a forked child execs: its close-on-exec ends go")
    f = scenario.fifo("f")

    def execed(pid):
        try:
            return os.readlink(f"/proc/{pid}/exe") != os.readlink("/proc/self/exe")
        except OSError:
            return False

    @scenario.process("w")
    def w(ctx):
        p = ctx.pipe("p")
        reader = ctx.fork("r")
        if reader == 0:
            p.close_write()
            f.open_read()
            got = [p.read_exactly(99), f.read_exactly(99)]  # each to its end of file
            ctx.report("got", [g.decode() for g in got])
            os._exit(0)
        p.close_read()
        f.open_write()
        kid = os.fork()  # holds both write ends, opened close-on-exec (as Python does)
        if kid == 0:
            os.execvp("sleep", ["sleep", "60"])
        while not execed(kid):  # the exec closed the kid's copies: ours are the last
            os.sched_yield()
        p.write(b"pipe")
        p.close_write()
        f.write(b"fifo")
        f.close_write()
        os.waitpid(reader, 0)  # both ends of file came while the kid (sleep) runs on
        os.kill(kid, signal.SIGKILL)
        os.waitpid(kid, 0)
"""


def test_a_forked_child_that_execs_drops_its_close_on_exec_ends(tmp_path: Path) -> None:
    """exec closes every close-on-exec descriptor (Python opens all of them so): a child
    that runs another program holds no end any more, so the reader's end of file while
    that program still runs is legal, not a conflict. (How long the linearizer may wait
    for the kid's exit is no part of this: the closes are in the kid's own records.)"""
    result, header, events = run_file(tmp_path, "forkexec", FORK_EXEC)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert [e["value"] for e in by_kind(events, "report")] == [["pipe", "fifo"]]
    kid = pids_by_name(events)["w/2"]
    closed = {(e["obj"], e["end"]) for e in by_kind(events, "pipe.close") if e["pid"] == kid}
    assert closed == {("p", 1), ("f", 1)}  # at its exec, before anything it did after
    assert [v.line() for v in check(header, events)] == []


NAMED_IN_WORKER = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("named", "shared memory and a semaphore made inside a process")

    @scenario.process("w")
    def w(ctx):
        m = ctx.shared_memory("cells", cells=2)
        s = ctx.semaphore("lock", value=1)
        with s:
            m[1] = 42
        ctx.report("kernel", [m.kernel_name, s.kernel_name])
"""


def test_named_objects_made_inside_a_worker_are_removed(tmp_path: Path) -> None:
    result, _h, events = run_file(tmp_path, "named", NAMED_IN_WORKER)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    declared = {e["obj"]: e["type"] for e in by_kind(events, "obj.declare")}
    assert declared == {"cells": "posix_shm", "lock": "posix_sem"}
    writes = [e for e in by_kind(events, "shm.write") if e["obj"] == "cells"]
    assert [(w["offset"], w["value"]) for w in writes] == [(8, 42)]
    assert {e["obj"] for e in by_kind(events, "obj.remove")} == {"cells", "lock"}
    report = next(e for e in by_kind(events, "report") if e["key"] == "kernel")
    for name in report["value"]:  # gone from the kernel (the no_leaks fixture checks too)
        assert not Path("/dev/shm", name.lstrip("/")).exists()
        assert not Path("/dev/shm", "sem." + name.lstrip("/")).exists()


def test_a_name_already_used_is_refused_in_one_line(tmp_path: Path) -> None:
    src = """
        from ipcviz.scenario import Scenario

        scenario = Scenario("dup", "an object made in a process takes a used name")
        scenario.pipe("p")

        @scenario.process("w")
        def w(ctx):
            ctx.pipe("p")
    """
    result, _h, _events = run_file(tmp_path, "dup", src)
    assert result.returncode == 2, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("ipcviz: worker w raised "), lines
    assert "ScenarioError: an object named 'p' already exists in this run" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("seed", ["1", "3"])
def test_step_mode_steps_forked_children_too(tmp_path: Path, seed: str) -> None:
    result, _h, events = run_file(tmp_path, "forkw", FORK_WRITES, "--seed", seed, "--timeout", "30")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    child = pids_by_name(events)["w/1"]
    steps = [e for e in by_kind(events, "gate.step") if e["pid"] == child]
    assert len(steps) == 18 and all(e["by"] == f"seed {seed}" for e in steps)
    assert _bytes(events, "pipe.write") == 3600 and _bytes(events, "pipe.read") == 3600


def test_the_pipe_fork_example_in_the_scenario_docs_runs(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "scenarios.md").read_text()
    section = doc.split("## Inside a process", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "no example in the section"
    result, _h, events = run_file(tmp_path, "pipe_fork", code.group(1))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "check ✓ the child read what its parent wrote" in result.stdout
    assert "parent/child" in pids_by_name(events)


def test_a_child_that_cannot_be_traced_is_refused_in_one_line(tmp_path: Path) -> None:
    """The scenario closed ipcviz's link to the engine: the child must not run unseen."""
    src = """
        import os
        from ipcviz.scenario import Scenario

        scenario = Scenario("closeall", "a worker closes every descriptor, then forks")
        p = scenario.pipe("p", writer="w", reader="r")

        @scenario.process("w")
        def w(ctx):
            os.closerange(3, p.write_fd)
            os.closerange(p.write_fd + 1, 1024)
            pid = os.fork()
            if pid == 0:
                p.write(b"never")
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            ctx.report("child", os.waitstatus_to_exitcode(status))

        @scenario.process("r")
        def r(ctx):
            while p.read(4096):
                pass
    """
    result, _h, events = run_file(tmp_path, "closeall", src)
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("ipcviz: worker w raised ForkNotTraced: "), lines
    assert "the link to the engine was closed by the process" in lines[0]
    assert "Traceback" not in result.stderr
    assert _bytes(events, "pipe.write") == 0 and _bytes(events, "pipe.read") == 0
    report = next(e for e in by_kind(events, "report") if e["key"] == "child")
    assert report["value"] == 70  # it never ran its own code


async def test_the_screen_lists_a_forked_child_and_its_exit(tmp_path: Path) -> None:
    from ipcviz.tui.app import IpcvizApp
    from ipcviz.tui.feed import RecordedFeed
    from ipcviz.tui.widgets.panels import ProcTable
    from tests.tui.helpers import settle

    result, header, events = run_file(tmp_path, "forkw", FORK_WRITES)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    app = IpcvizApp(lambda: RecordedFeed(header, list(events)), lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await settle(pilot)
        table = screen.query_one(ProcTable)
        child = pids_by_name(events)["w/1"]
        row = table.get_row(str(child))
        assert any("w/1" in str(cell) for cell in row), row
        assert screen.state.procs[child].exit_code == 3


MANY_CHILDREN = """
    import os
    from ipcviz.scenario import Scenario

    scenario = Scenario("many-children", "a worker forks 400 children, one after another")

    @scenario.process("w")
    def w(ctx):
        for _ in range(400):
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
"""


def test_a_worker_that_forks_hundreds_of_children_ends_cleanly(tmp_path: Path) -> None:
    """Each child's descriptors took the engine's past 1024, and the check whether a
    child's pidfd said it exited used select(): ValueError, an internal error, exit 2."""
    result, _h, events = run_file(tmp_path, "many", MANY_CHILDREN, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "internal error" not in result.stderr
    assert len(by_kind(events, "proc.exit")) == 401
