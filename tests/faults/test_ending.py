"""Every way a run can end: normally, by a signal to ipcviz, by SIGKILL of ipcviz or the engine.

After each: no process of the run, no kernel object of its session, no registry, and the
trace replays.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import (
    LiveRun,
    ipcviz_clean,
    kernel_objects_left,
    last_line,
    replays,
    waiting_scenario,
)

#: One object of every kind the wrappers offer, so a leak of any kind shows.
EVERY_OBJECT = """
scenario.shared_memory('m', cells=4)
scenario.semaphore('s')
scenario.pipe('p', writer='w', reader='w')
if hasattr(scenario, 'fifo'):
    scenario.fifo('f')
if hasattr(scenario, 'posix_queue'):
    scenario.posix_queue('q', max_messages=4, max_message_size=64)
if hasattr(scenario, 'sysv_queue'):
    scenario.sysv_queue('v')
if hasattr(scenario, 'sysv_semaphore'):
    scenario.sysv_semaphore('t')
if hasattr(scenario, 'sysv_shared_memory'):
    scenario.sysv_shared_memory('h', cells=4)
if hasattr(scenario, 'mapped_file'):
    scenario.mapped_file('mf', cells=4)
"""


def _end(run: LiveRun) -> dict:
    _, events = run.events()
    return next((e for e in events if e["kind"] == "session.end"), {})


def test_normal_end_removes_every_object(tmp_path: Path, record) -> None:
    run = LiveRun(tmp_path, waiting_scenario(tmp_path, EVERY_OBJECT))
    run.wait_ready()
    _, events = run.events()
    declared = {e["type"] for e in events if e["kind"] == "obj.declare"}
    run.go()
    rc = run.finish()
    left = run.leaks()
    ok, why = replays(run.trace)
    end = _end(run)
    record(
        "normal-end",
        f"exit {rc}, outcome {end.get('outcome')}; objects: {', '.join(sorted(declared))}",
        left,
        "yes" if ok else why,
    )
    assert rc == 0 and end.get("outcome") == "passed", run.stderr
    assert {"posix_shm", "posix_sem", "pipe"} <= declared
    assert not left and ok, (left, why)


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name
)
def test_signal_to_ipcviz_stops_the_run_cleanly(tmp_path: Path, record, sig) -> None:
    run = LiveRun(tmp_path, waiting_scenario(tmp_path, EVERY_OBJECT))
    run.wait_ready()
    run.signal(sig)
    rc = run.finish()
    left = run.leaks()
    ok, why = replays(run.trace)
    end = _end(run)
    name = signal.Signals(sig).name
    record(
        name.lower(),
        f"exit {rc}, outcome {end.get('outcome')}, reason {end.get('reason')!r}",
        left,
        "yes" if ok else why,
    )
    assert end.get("outcome") == "stopped", (rc, run.stdout[-500:], run.stderr)
    assert rc == 0 and "Traceback" not in run.stderr, run.stderr
    assert not left and ok, (left, why)


def test_sigkill_to_ipcviz_engine_cleans_up_alone(tmp_path: Path, record) -> None:
    run = LiveRun(tmp_path, waiting_scenario(tmp_path, EVERY_OBJECT))
    run.wait_ready()
    engine = run.engine()
    run.signal(signal.SIGKILL)
    rc = run.finish()
    engine.wait(30)  # it is not our child: psutil polls until it is gone
    left = run.leaks()
    cleaned = ipcviz_clean()
    ok, why = replays(run.trace)
    end = _end(run)
    record(
        "sigkill-cli",
        f"ipcviz killed ({rc}); engine ended by itself, outcome {end.get('outcome')} "
        f"({end.get('reason')}); `ipcviz clean`: {cleaned}",
        left,
        "yes" if ok else why,
    )
    assert end.get("reason") == "viewer gone", end
    assert not left and ok, (left, why)
    assert cleaned.startswith("removed 0 object(s) and 0 process group(s)"), cleaned


def test_sigkill_to_engine_then_clean_removes_everything(tmp_path: Path, record) -> None:
    run = LiveRun(tmp_path, waiting_scenario(tmp_path, EVERY_OBJECT))
    run.wait_ready()
    run.worker_pids()
    run.engine().kill()
    rc = run.finish()
    cleaned = ipcviz_clean()
    left = run.leaks()
    ok, why = replays(run.trace)
    record(
        "sigkill-engine",
        f"exit {rc}: {last_line(run.stderr)[:120]}; then `ipcviz clean`: {cleaned}",
        left,
        "yes" if ok else why,
    )
    assert rc == 2 and "engine stopped unexpectedly" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert not left and ok, (left, why)


def test_sigkill_to_engine_and_ipcviz_then_clean_removes_everything(tmp_path: Path, record) -> None:
    """Nobody left to clean up: the objects stay until `ipcviz clean` removes them."""
    run = LiveRun(tmp_path, waiting_scenario(tmp_path, EVERY_OBJECT))
    run.wait_ready()
    workers = run.worker_pids()
    run.kill_engine_and_viewer()
    _, events = run.events()
    before = kernel_objects_left(events)
    cleaned = ipcviz_clean()
    left = run.leaks(tuple(workers.values()))
    ok, why = replays(run.trace)
    record(
        "sigkill-both",
        f"left behind: {len(before)} object(s) + registry; `ipcviz clean`: {cleaned}",
        left,
        "yes (cut-off trace, no session.end)" if ok else why,
    )
    assert len(before) >= 5, before  # shm, sem, fifo, queues: really left behind
    assert not left and ok, (left, why)


FLAT_OUT = """
from ipcviz.scenario import Scenario

scenario = Scenario('flat-out', 'a pipe and a queue, flat out', timeout=120)
p = scenario.pipe('p', writer='a', reader='b')
q = scenario.sysv_queue('v')


@scenario.process('a')
def a(ctx):
    while True:
        p.write(b'x')
        q.send(b'y')


@scenario.process('b')
def b(ctx):
    while True:
        p.read(1)
        q.receive()
"""


def test_a_stop_mid_operation_still_records_a_legal_history(tmp_path: Path) -> None:
    """Ctrl-C on two workers busy on a pipe: the stop killed the writer between its write
    and the write's record while the reader's read of that byte was recorded, so the trace
    had an ``order.conflict`` and `ipcviz verify` failed (exit 1) after a clean stop."""
    import subprocess
    import sys
    import time

    scenario = tmp_path / "flat_out.py"
    scenario.write_text(FLAT_OUT)
    trace = tmp_path / "t.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipcviz", "run", str(scenario), "--headless", "--record", trace],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Both workers running, then a little while: the stop comes mid-flood, whenever that
    # is (the trace must be legal at any moment). Every operation made by then is put in
    # order at the end: a longer flood only makes the test slower.
    from tests.faults.harness import wait_for

    wait_for(
        "both workers started",
        lambda: trace.exists() and trace.read_text().count('"proc.start"') == 2,
    )
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    said = subprocess.run(
        [sys.executable, "-m", "ipcviz", "verify", str(trace)], capture_output=True, text=True
    )
    assert said.returncode == 0, said.stdout[-1000:] + said.stderr
    assert "order.conflict" not in trace.read_text()


#: WORKERS workers take turns on one semaphore, ROUNDS times each, once ``go`` exists;
#: each says ``done.NAME`` after its last round; a check counts every round.
BACKLOG = """
import os, time
from ipcviz.scenario import Scenario

DIR = {dir!r}
scenario = Scenario("backlog", "WORKERS processes, one lock", timeout=120)
lock = scenario.semaphore("lock", value=1)
shm = scenario.shared_memory("counter", cells=1)


@scenario.process("p", count=WORKERS)
def worker(ctx):
    open(os.path.join(DIR, "ready." + ctx.name), "w").close()
    while not os.path.exists(os.path.join(DIR, "go")):
        time.sleep(0.01)
    for _ in range(ROUNDS):
        with lock:
            shm[0] = shm[0] + 1
    open(os.path.join(DIR, "done." + ctx.name), "w").close()


@scenario.check("every round counted")
def counted(run):
    final = int.from_bytes(run.state.objects["counter"].data[0:8], "little", signed=True)
    return final == WORKERS * ROUNDS, f"counter {final}", f"counter {final}"
"""


def _backlog(tmp_path: Path, workers: int, rounds: int) -> Path:
    """BACKLOG with its numbers, in ``tmp_path``."""
    text = BACKLOG.replace("{dir!r}", repr(str(tmp_path)))
    text = text.replace("WORKERS", str(workers)).replace("ROUNDS", str(rounds))
    scenario = tmp_path / "backlog.py"
    scenario.write_text(text)
    return scenario


def _pending(pid: int, sig: int) -> bool:
    """``sig`` waits to be delivered to process ``pid`` (/proc/PID/status)."""
    status = Path(f"/proc/{pid}/status").read_text()
    masks = [
        int(line.split()[1], 16) for line in status.splitlines() if line[:6] in ("SigPnd", "ShdPnd")
    ]
    return any(mask >> (sig - 1) & 1 for mask in masks)


@contextlib.contextmanager
def _held_then_stopped_twice(run: LiveRun) -> Iterator[None]:
    """The engine stopped (SIGSTOP) while the body runs, then Ctrl-C twice; the engine
    goes on once the second one's SIGUSR1 is pending for it: the hurried end is forced,
    never raced."""
    from tests.faults.harness import wait_for

    engine = run.engine()
    engine.suspend()
    try:
        yield
        run.signal(signal.SIGINT)
        wait_for("the first stop said", lambda: "Ctrl-C again" in run.stderr)
        run.signal(signal.SIGINT)
        wait_for("the second stop sent", lambda: _pending(engine.pid, signal.SIGUSR1))
    finally:
        engine.resume()


def test_a_second_ctrl_c_ends_at_once_and_says_what_it_left_out(tmp_path: Path) -> None:
    """The first Ctrl-C puts everything the processes did in order before the end: with a
    backlog of tens of thousands of operations that took 20 s and more, silently (the
    attack's finding). Now the first says so, and a second ends at once: the trace ends at
    the last operation put in order (a legal history), every process's exit is kept, the
    end says how many operations were left out, and nothing of the run is left.

    The backlog is forced, not waited for: the engine is stopped (SIGSTOP) while the
    workers run, and let go only once the second Ctrl-C's signal is pending for it."""
    from tests.faults.harness import wait_for

    names = [f"p{i}" for i in range(1, 65)]
    scenario = _backlog(tmp_path, 64, 300)
    run = LiveRun(tmp_path, scenario)
    run.wait_ready(*names)
    with _held_then_stopped_twice(run):
        (tmp_path / "go").touch()
        for n in names:
            wait_for(f"{n} done", (tmp_path / f"done.{n}").exists)
    rc = run.finish(timeout=120)
    end = _end(run)
    _, events = run.events()
    left = run.leaks()
    ok, why = replays(run.trace)
    assert rc == 0 and "Traceback" not in run.stderr, run.stderr
    assert end.get("outcome") == "stopped", end
    said = re.fullmatch(
        r"stopped at once by the user: (\d+) operations the processes made before the stop "
        r"were not yet put in order and are not in the trace",
        end.get("reason", ""),
    )
    assert said and int(said.group(1)) > 0, end
    assert sum(e["kind"] == "proc.exit" for e in events) == 64  # every exit kept
    assert not left and ok, (left, why)
    verified = subprocess.run(
        [sys.executable, "-m", "ipcviz", "verify", str(run.trace)], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout[-1000:] + verified.stderr


def test_a_viewer_killed_over_a_backlog_leaves_an_engine_that_ends_at_once(
    tmp_path: Path,
) -> None:
    """Nobody is left to stop twice: an engine whose viewer was SIGKILLed went on ordering
    the whole backlog, for no one (a flood's: minutes of a CPU and 4 GB, still running
    after the test suite). Now it ends as a second stop would: the trace ends at the last
    operation put in order, with every exit, says how many it left out, and nothing is
    left. The backlog is forced as above: the engine is held (SIGSTOP) while the workers
    run and while its viewer is killed."""
    from tests.faults.harness import wait_for

    names = [f"p{i}" for i in range(1, 17)]
    run = LiveRun(tmp_path, _backlog(tmp_path, 16, 300))
    run.wait_ready(*names)
    engine = run.engine()
    engine.suspend()
    try:
        run.go()
        for n in names:
            wait_for(f"{n} done", (tmp_path / f"done.{n}").exists)
        run.signal(signal.SIGKILL)
        run.finish()
    finally:
        engine.resume()
    engine.wait(120)  # not our child: psutil polls until it is gone
    end = _end(run)
    _, events = run.events()
    said = re.fullmatch(
        r"viewer gone: (\d+) operations the processes made before the stop were not yet "
        r"put in order and are not in the trace",
        end.get("reason", ""),
    )
    assert end.get("outcome") == "stopped" and said and int(said.group(1)) > 0, end
    assert sum(e["kind"] == "proc.exit" for e in events) == 16  # every exit kept
    ok, why = replays(run.trace)
    assert not run.leaks() and ok, why
    verified = subprocess.run(
        [sys.executable, "-m", "ipcviz", "verify", str(run.trace)], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout[-1000:] + verified.stderr


#: A worker forks child after child while it and the other worker are flat out on a pipe;
#: DIR/forked once 20 of its children have ended.
FORKING_FLOOD = """
import os
from ipcviz.scenario import Scenario

DIR = {dir!r}
scenario = Scenario("forking-flood", "children come and go by a busy pipe", timeout=120)
p = scenario.pipe("p", writer="a", reader="b")


@scenario.process("a")
def a(ctx):
    ended = 0
    while True:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        for _ in range(20):
            p.write(b"x")
        os.waitpid(pid, 0)
        ended += 1
        if ended == 20:
            open(os.path.join(DIR, "forked"), "w").close()


@scenario.process("b")
def b(ctx):
    while True:
        p.read(1)
"""


def test_a_second_ctrl_c_keeps_the_start_of_every_exit_it_keeps(tmp_path: Path) -> None:
    """A forked child's ``proc.start`` is the first record of its ring: the second stop
    (``Linearizer.abandon``) left it out with the other records but kept the child's
    exit, and ``verify`` said ``proc.exit: names process N, never started`` hundreds of
    times."""
    from tests.faults.harness import wait_for

    scenario = tmp_path / "forking.py"
    scenario.write_text(FORKING_FLOOD.replace("{dir!r}", repr(str(tmp_path))))
    run = LiveRun(tmp_path, scenario)
    wait_for(
        "both workers started",
        lambda: run.trace.exists() and run.trace.read_text().count('"proc.start"') >= 2,
    )
    with _held_then_stopped_twice(run):  # a backlog, forced (as in the test above)
        wait_for("20 children forked and ended", (tmp_path / "forked").exists)
    rc = run.finish(timeout=120)
    end = _end(run)
    _, events = run.events()
    assert rc == 0 and "Traceback" not in run.stderr, run.stderr
    assert "at once" in end.get("reason", ""), end  # the hurried end, tested
    started = {e["pid"] for e in events if e["kind"] == "proc.start"}
    exited = {e["pid"] for e in events if e["kind"] == "proc.exit"}
    assert len(exited) > 2 and exited <= started, sorted(exited - started)[:5]
    assert not run.leaks()
    verified = subprocess.run(
        [sys.executable, "-m", "ipcviz", "verify", str(run.trace)], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout[-1000:] + verified.stderr


def test_a_second_stop_as_the_engine_exits_is_no_unexpected_end(tmp_path: Path) -> None:
    """The viewer's second stop is a SIGUSR1 to the engine. One that came as the engine's
    interpreter was finishing (its handlers back to the default by then) killed it:
    "the engine stopped unexpectedly (status -10)", exit 2, for a run that had ended
    well (1 in 8 double Ctrl-C's of a forking run). Stops are sent here until the engine
    is gone, so some land in that moment."""
    import os

    run = LiveRun(tmp_path, waiting_scenario(tmp_path))
    run.wait_ready()
    engine = os.pidfd_open(run.engine().pid)
    try:
        run.proc.send_signal(signal.SIGINT)
        sent = 0
        while True:
            try:
                signal.pidfd_send_signal(engine, signal.SIGUSR1)
            except ProcessLookupError:
                break
            sent += 1
    finally:
        os.close(engine)
    rc = run.finish()
    assert rc == 0 and "unexpectedly" not in run.stderr, (rc, sent, run.stderr[-600:])


def test_a_stop_as_the_run_ends_by_itself_checks_the_whole_run(tmp_path: Path) -> None:
    """A Ctrl-C as the workers ended: the engine's last turn put what they did in order
    until the stop, waiting on its input, ended that turn (``_halt``); the checks then
    read a model of part of the run and said FAILED (exit 1) for a correct run, in 8 of
    8 stops 0.15-0.3 s into ``shm-semaphore`` (the attack's finding). Forced, not raced:
    the engine is stopped (SIGSTOP) before the workers go, they run to their end, and it
    is let go once the stop waits in its input. It may read the stop before it sees the
    exits (a run stopped by the user: "stopped") or after (every worker ended by itself:
    "passed"); never "failed" (the old code, 2 of 2 here: the exits came first)."""
    import psutil

    from tests.faults.harness import wait_for

    names = ["p1", "p2", "p3"]
    scenario = _backlog(tmp_path, 3, 500)
    run = LiveRun(tmp_path, scenario)
    run.wait_ready(*names)
    workers = [psutil.Process(pid) for pid in run.worker_pids().values()]
    engine = run.engine()
    engine.suspend()
    try:
        run.go()
        wait_for(
            "every worker ended (a zombie, not reaped)",
            lambda: all(w.status() == psutil.STATUS_ZOMBIE for w in workers),
        )
        run.signal(signal.SIGINT)
        wait_for("the stop sent", lambda: "Ctrl-C again" in run.stderr)
    finally:
        engine.resume()
    rc = run.finish(timeout=120)
    end = _end(run)
    assert rc == 0 and "Traceback" not in run.stderr, run.stderr
    assert end.get("outcome") in ("passed", "stopped"), end
    assert not run.leaks()


def test_a_second_stop_before_the_engine_can_handle_it_is_held_back(tmp_path: Path) -> None:
    """The viewer's second stop is a SIGUSR1 to the engine, whose default action ends a
    process: sent before the engine set its handler (a double Ctrl-C in its first 0.2 s)
    it killed the engine ("stopped unexpectedly (status -10)", and no trace: the attack
    saw it 4 times in 4). The engine starts with it blocked and handles it once it can.
    Sent here the moment the engine's process exists, before its interpreter runs."""
    from ipcviz.engine.client import EngineProcess
    from tests.conftest import ROOT

    engine = EngineProcess(ROOT / "scenarios" / "pipe_bytestream.py", tmp_path / "t.jsonl")
    try:
        engine.stop()
        engine.hurry()
        events = list(engine.events())
        rc = engine.wait(60)
    finally:
        engine.terminate()
        engine.close()
    assert rc == 0, engine.proc.returncode
    assert events[-1]["kind"] == "session.end" and events[-1]["outcome"] == "stopped"
