"""Running out of something: disk for the trace, file size, kernel limits, /dev/shm."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import LiveRun, last_line, read_lines, replays, wait_for, write_scenario

#: Enough trace to fill 64 KiB many times over (~1.4 MB of events, in many batches).
MANY_EVENTS = """
import time
from ipcviz.scenario import Scenario
scenario = Scenario('many', 'many events')
m = scenario.shared_memory('m', cells=4)
@scenario.process('w')
def w(ctx):
    for i in range(10000):
        m[i % 4] = i
        if i % 1000 == 0:
            time.sleep(0.01)  # several flushes, not one batch
    ctx.report('done', m[0])
@scenario.check('the worker finished')
def c(run):
    return run.report('w', 'done') is not None
"""

#: ~8 MB of trace (pipe payloads are recorded in full).
BIG_PAYLOADS = """
from ipcviz.scenario import Scenario
scenario = Scenario('big', 'big pipe traffic')
p = scenario.pipe('p', writer='a', reader='b')
@scenario.process('a')
def a(ctx):
    for i in range(96):
        p.write(bytes([65 + i % 26]) * 32768)
@scenario.process('b')
def b(ctx):
    n = 0
    while chunk := p.read():
        n += len(chunk)
    ctx.report('n', n)
@scenario.check('all bytes arrived')
def c(run):
    return run.report('b', 'n') == 96 * 32768
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, unmounted afterwards (skipped where mounting is not allowed)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {r.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _check_trace(trace: Path) -> tuple[bool, str]:
    """Every line of the file is whole (ends in a newline) and it replays."""
    data = trace.read_bytes()
    if data and not data.endswith(b"\n"):
        return False, "the trace ends with a partial line"
    return replays(trace)


def test_full_disk_recording_stops_cleanly_and_the_run_goes_on(
    tmp_path: Path, small_disk: Path, record
) -> None:
    run = LiveRun(tmp_path, write_scenario(tmp_path, MANY_EVENTS), trace=small_disk / "t.jsonl")
    rc = run.finish()
    left = run.leaks()
    ok, why = _check_trace(run.trace)
    size = run.trace.stat().st_size
    record(
        "full-disk",
        f"exit {rc}, run PASSED on the live stream; {last_line(run.stderr)[:110]}…; "
        f"trace kept {size} B of whole lines",
        left,
        "yes" if ok else why,
    )
    assert rc == 0, run.stderr
    assert "result: PASSED" in run.stdout  # the viewer saw the whole run
    assert "ipcviz: recording stopped: No space left on device" in run.stderr
    assert size > 60_000  # whole lines up to the brim, not only the batches before
    assert "Traceback" not in run.stderr
    assert not left and ok, (left, why)


def _started_under(limit: int, value: int, tmp_path: Path, scenario: str) -> LiveRun:
    """The run started with the soft ``limit`` at ``value`` (inherited by all it starts);
    the test's own limit back as it was."""
    old = resource.getrlimit(limit)
    resource.setrlimit(limit, (value, old[1]))
    try:
        return LiveRun(tmp_path, write_scenario(tmp_path, scenario))
    finally:
        resource.setrlimit(limit, old)


def test_file_size_limit_recording_stops_cleanly(tmp_path: Path, record) -> None:
    limit = 5 << 20  # above a worker's 4 MiB ring (a memfd counts too), below the trace
    run = _started_under(resource.RLIMIT_FSIZE, limit, tmp_path, BIG_PAYLOADS)
    rc = run.finish()
    left = run.leaks()
    ok, why = _check_trace(run.trace)
    record(
        "fsize-limit",
        f"exit {rc}; {last_line(run.stderr)[:100]}…; trace {run.trace.stat().st_size} B "
        f"(limit {limit} B)",
        left,
        "yes" if ok else why,
    )
    assert rc == 0, run.stderr
    assert "ipcviz: recording stopped: File too large" in run.stderr
    assert "Traceback" not in run.stderr
    assert not left and ok, (left, why)


def test_file_size_limit_below_the_ring_is_a_clear_error(tmp_path: Path) -> None:
    """Regression: the ring is a memfd; under a tiny ``ulimit -f`` it was an internal error."""
    src = write_scenario(tmp_path, BIG_PAYLOADS)

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))

    r = subprocess.run(
        [sys.executable, "-m", "ipcviz", "run", str(src), "--headless", "--record", "t.jsonl"],
        cwd=tmp_path,
        preexec_fn=limited,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 2, r.stderr
    assert last_line(r.stderr).startswith("ipcviz: cannot create the trace ring of worker a")
    assert "ulimit -f" in r.stderr and "internal error" not in r.stderr


#: A report larger than a trace record holds (its JSON is about 400 KB).
BIG_REPORT = """
from ipcviz.scenario import Scenario
scenario = Scenario('big-report', 'a large report')
@scenario.process('p')
def p(ctx):
    ctx.report('got', ['ITEM 0..........'] * 20000)
@scenario.check('the report arrived')
def c(run):
    return len(run.report('p', 'got', [])) == 20000
"""


def test_a_report_larger_than_a_record_is_refused_where_it_is_made(tmp_path: Path) -> None:
    """Regression: the tracer cut the report's JSON at 256 KiB; the viewer then died on a
    report with no key (a traceback, exit 1: "a check failed"), and the trace it left could
    not be replayed or verified. Now the worker's ``ctx.report`` raises, saying why."""
    src = write_scenario(tmp_path, BIG_REPORT)
    r = subprocess.run(
        [sys.executable, "-m", "ipcviz", "run", str(src), "--headless", "--record", "t.jsonl"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert "more than a report holds" in last_line(r.stderr)
    assert "ValueError: report got: " in r.stdout
    ok, why = replays(tmp_path / "t.jsonl")
    assert ok, why


#: A worker forks 300 children, one after another; each sends a message and ends. The
#: worker then sleeps (not an IPC wait: nothing for ipcviz to break) until the test stops it.
FORKS_300 = """
import os, time
from ipcviz.scenario import Scenario
scenario = Scenario('forks', 'three hundred children, one after another', timeout=300)
q = scenario.sysv_queue('q')
@scenario.process('parent')
def parent(ctx):
    for i in range(300):
        pid = os.fork()
        if pid == 0:
            q.send(b'%d' % i)
            os._exit(0)
        q.receive()
        os.waitpid(pid, 0)
    time.sleep(300)
"""

#: A worker forks 100 children that all stay, each asleep in a receive.
STAYING_100 = """
import os, time
from ipcviz.scenario import Scenario
scenario = Scenario('stay', 'a hundred children that stay', timeout=300)
q = scenario.sysv_queue('q')
@scenario.process('parent')
def parent(ctx):
    for i in range(100):
        if os.fork() == 0:
            q.receive()
            os._exit(0)
    time.sleep(300)
"""


def test_children_that_ended_hold_no_descriptors_of_the_engine(tmp_path: Path, record) -> None:
    """The engine kept each ended child's ring (two descriptors and a 4 MB mapping), its
    pidfd and its gate until the run's end: the review counted about 2.5 descriptors per
    child, and a worker forking some hundreds of children one after another ran out of
    them under ``ulimit -n 1024``. Counted once every child's end is in the trace: the
    engine holds about what it held before the first fork, not 4 per child."""
    run = LiveRun(tmp_path, write_scenario(tmp_path, FORKS_300))
    try:
        wait_for("300 children ended, in the trace", lambda: sum(
            e["kind"] == "proc.exit" for e in read_lines(run.trace)[1]
        ) == 300, timeout=240)  # fmt: skip
        held = len(os.listdir(f"/proc/{run.engine().pid}/fd"))
    finally:
        run.proc.send_signal(signal.SIGINT)
    rc = run.finish()
    left = run.leaks()
    verify = subprocess.run(
        [sys.executable, "-m", "ipcviz", "verify", str(run.trace)], capture_output=True, text=True
    )
    record("forks-300", f"exit {rc}; {held} descriptors held after 300 ended children", left)
    assert held < 64, held  # (4 a child before: 1,200)
    assert rc == 0, run.stderr[-2000:]
    assert verify.returncode == 0, verify.stdout
    assert not left


def test_a_child_past_the_descriptor_limit_ends_the_run_with_one_line(
    tmp_path: Path, record
) -> None:
    """100 children that all stay, under ``ulimit -n 128``: the engine has no descriptor
    left for the ring of one of them. It ended in an internal error ("Bad file
    descriptor": the ring's memfd closed twice); now that child is killed and the run
    ends with one line naming the limit, exit 2, nothing left behind, the trace whole.
    (Children announced while the run stops get the same, said once: raised there, it
    skipped the rest of the shutdown, and the trace lost its end in 4 runs of 10.)"""
    run = _started_under(resource.RLIMIT_NOFILE, 128, tmp_path, STAYING_100)
    rc = run.finish()
    left = run.leaks()
    ok, why = replays(run.trace)
    record(
        "nofile-128-children-100",
        f"exit {rc}; {last_line(run.stderr)[:100]}",
        left,
        "yes" if ok else why,
    )
    assert rc == 2, run.stderr[-2000:]
    assert last_line(run.stderr).startswith("ipcviz: cannot follow process"), run.stderr
    assert "ulimit -n" in last_line(run.stderr)
    end = read_lines(run.trace)[1][-1]
    assert end["kind"] == "session.end" and end["outcome"] == "error", end
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    assert not left and ok, (left, why)
