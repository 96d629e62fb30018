"""Faults inside the workers: killed, stopped, raising, looping forever, forking their own."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from ipcviz.session.registry import runtime_dir
from tests.faults.harness import (
    LiveRun,
    ipcviz_clean,
    last_line,
    read_lines,
    replays,
    stop_stopped,
    wait_for,
    waiting_scenario,
    write_scenario,
)

OBJECTS = "scenario.shared_memory('m', cells=4)\nscenario.semaphore('s')\n"


def _exit_event(run: LiveRun, pid: int) -> dict:
    _, events = run.events()
    return next((e for e in events if e["kind"] == "proc.exit" and e["pid"] == pid), {})


def _end(run: LiveRun) -> dict:
    _, events = run.events()
    return next((e for e in events if e["kind"] == "session.end"), {})


def test_sigkill_to_a_worker_is_seen_and_the_run_ends(tmp_path: Path, record) -> None:
    run = LiveRun(tmp_path, waiting_scenario(tmp_path, OBJECTS))
    run.wait_ready()
    pid = run.worker_pids()["w"]
    os.kill(pid, signal.SIGKILL)
    rc = run.finish()
    left = run.leaks()
    ok, why = replays(run.trace)
    ex, end = _exit_event(run, pid), _end(run)
    record(
        "worker-sigkill",
        f"proc.exit signame {ex.get('signame')}; exit {rc}, outcome {end.get('outcome')}",
        left,
        "yes" if ok else why,
    )
    assert ex.get("signame") == "SIGKILL", ex
    assert "killed by SIGKILL" in run.stdout
    assert not left and ok, (left, why)


def test_stopped_worker_is_ended_by_the_whole_run_timeout(tmp_path: Path, record) -> None:
    run = LiveRun(tmp_path, waiting_scenario(tmp_path, OBJECTS), "--timeout", "2")
    run.wait_ready()
    pid = run.worker_pids()["w"]
    os.kill(pid, signal.SIGSTOP)
    run.go()  # it would end now, were it not stopped
    try:
        rc = run.finish()
    finally:
        stop_stopped(pid)
    left = run.leaks()
    ok, why = replays(run.trace)
    ex = _exit_event(run, pid)
    record(
        "worker-sigstop",
        f"exit {rc}: {last_line(run.stderr)}; the stopped worker: {ex.get('signame')}",
        left,
        "yes" if ok else why,
    )
    assert rc == 1 and "timeout: still running after 2 s: w" in run.stderr, run.stderr
    assert ex.get("signame") == "SIGKILL", ex
    assert not left and ok, (left, why)


def test_exception_in_a_worker_is_one_clear_line(tmp_path: Path, record) -> None:
    src = write_scenario(
        tmp_path,
        """
        from ipcviz.scenario import Scenario
        scenario = Scenario('raises', 'a worker raises')
        m = scenario.shared_memory('m', cells=2)
        @scenario.process('w')
        def w(ctx):
            m[0] = 1
            raise ValueError('boom in the worker')
        """,
    )
    run = LiveRun(tmp_path, src)
    rc = run.finish()
    left = run.leaks()
    ok, why = replays(run.trace)
    err = [ln for ln in run.stderr.splitlines() if ln.strip()]
    record("worker-exception", f"exit {rc}: {' / '.join(err)[:160]}", left, "yes" if ok else why)
    assert rc == 2, (rc, run.stderr)
    assert len(err) == 1 and err[0].startswith("ipcviz: worker w raised ValueError: boom")
    assert "Traceback" not in run.stderr
    assert "raised an exception" in run.stdout  # the full traceback is in the narrated log
    assert not left and ok, (left, why)


def test_endless_loop_is_ended_by_the_timeout(tmp_path: Path, record) -> None:
    src = write_scenario(
        tmp_path,
        """
        from ipcviz.scenario import Scenario
        scenario = Scenario('spins', 'a worker never ends')
        scenario.semaphore('s')
        @scenario.process('spinner')
        def spinner(ctx):
            while True:
                pass
        """,
    )
    run = LiveRun(tmp_path, src, "--timeout", "1.5")
    rc = run.finish()
    left = run.leaks()
    ok, why = replays(run.trace)
    record("worker-endless", f"exit {rc}: {last_line(run.stderr)}", left, "yes" if ok else why)
    assert rc == 1, (rc, run.stderr)
    assert last_line(run.stderr) == "ipcviz: timeout: still running after 1.5 s: spinner"
    assert "Traceback" not in run.stderr
    assert not left and ok, (left, why)


FORKER = """
import os, time
from ipcviz.scenario import Scenario
scenario = Scenario('forks', 'a worker forks children of its own')
scenario.shared_memory('m', cells=2)

def spawn(ctx, tag, detach):
    pid = ctx.fork(tag)  # named w/TAG in the trace
    if pid == 0:
        if detach == 'setpgid':
            os.setpgid(0, 0)
        elif detach == 'setsid':
            if os.fork():
                os._exit(0)
            os.setsid()
        with open(os.path.join({dir!r}, 'pid.' + tag), 'w') as f:
            f.write(str(os.getpid()))
        time.sleep(120)
        os._exit(0)

@scenario.process('w')
def w(ctx):
    for tag in DETACH:
        spawn(ctx, tag, tag)
    while not all(os.path.exists(os.path.join({dir!r}, 'pid.' + t)) for t in DETACH):
        time.sleep(0.01)
    open(os.path.join({dir!r}, 'ready.w'), 'w').close()
    while not os.path.exists(os.path.join({dir!r}, 'go')):
        time.sleep(0.01)
"""


def _forker(tmp_path: Path, detach: tuple[str, ...]) -> Path:
    src = tmp_path / "forks.py"
    body = FORKER.replace("{dir!r}", repr(str(tmp_path)))
    src.write_text(f"DETACH = {detach!r}\n{body}")
    return src


def _grandchildren(tmp_path: Path, tags: tuple[str, ...]) -> dict[str, int]:
    return {t: int((tmp_path / f"pid.{t}").read_text()) for t in tags}


def test_grandchildren_are_gone_after_the_run(tmp_path: Path, record) -> None:
    tags = ("same-group", "setpgid", "setsid")
    run = LiveRun(tmp_path, _forker(tmp_path, tags), "--timeout", "3")
    run.wait_ready()
    kids = _grandchildren(tmp_path, tags)
    run.go()  # the worker exits; its children live on, traced: the run waits for them
    rc = run.finish()
    left = run.leaks(tuple(kids.values()))
    ok, why = replays(run.trace)
    _, events = run.events()
    killed = sorted(
        e["pid"] for e in events if e["kind"] == "proc.exit" and e.get("signame") == "SIGKILL"
    )
    record(
        "worker-forks",
        f"exit {rc}: {last_line(run.stderr)}; grandchildren ({', '.join(tags)}) traced, "
        "waited for, then killed by the engine",
        left,
        "yes" if ok else why,
    )
    assert rc == 1, run.stderr
    assert last_line(run.stderr) == (
        "ipcviz: timeout: still running after 3 s: w/same-group, w/setpgid, w/setsid/1"
    )
    assert killed == sorted(kids.values()), (killed, kids)
    assert not left and ok, (left, why)


def test_grandchildren_are_gone_after_engine_sigkill_and_clean(tmp_path: Path, record) -> None:
    tags = ("same-group", "setpgid")
    run = LiveRun(tmp_path, _forker(tmp_path, tags))
    run.wait_ready()
    kids = _grandchildren(tmp_path, tags)
    worker = run.worker_pids()["w"]
    run.kill_engine_and_viewer()
    wait_for("the worker to die with its engine", lambda: not _running(worker))
    orphans = [pid for pid in kids.values() if _running(pid)]
    cleaned = ipcviz_clean()
    left = run.leaks(tuple(kids.values()))
    ok, why = replays(run.trace)
    record(
        "worker-forks-engine-killed",
        f"{len(orphans)} orphaned grandchildren ({', '.join(tags)}) until `ipcviz clean`: "
        f"{cleaned}. A process started with setsid() after the engine died is found by "
        "the session id in its environment "
        "(`test_a_daemon_started_after_the_engine_died_is_gone_after_clean`)",
        left,
        "yes" if ok else why,
    )
    assert len(orphans) == len(tags)
    assert not left and ok, (left, why)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in (b"Z", b"X")


DAEMON = """
import os, time
from ipcviz.scenario import Scenario
scenario = Scenario('daemon', 'a child that daemonizes once its engine is gone')

@scenario.process('w')
def w(ctx):
    pid = ctx.fork('c')
    if pid == 0:
        worker = os.getppid()
        open(os.path.join({dir!r}, 'ready.w'), 'w').close()
        while os.getppid() == worker:  # its worker died with the engine (SIGKILL)
            time.sleep(0.01)
        # nobody can announce this one (the engine is dead), and setsid puts it out of
        # every group and session ipcviz knows; (C's fork, not os.fork: no tracer in it)
        daemon = os.path.join({dir!r}, 'pid.daemon')
        os.system(f"setsid sh -c 'echo $$ > {daemon}.new; mv {daemon}.new {daemon}; "
                  "exec sleep 120' </dev/null >/dev/null 2>&1 &")
        os._exit(0)
    time.sleep(120)
"""


def test_a_daemon_started_after_the_engine_died_is_gone_after_clean(tmp_path: Path) -> None:
    """A process started after the engine was SIGKILLed, in a session of its own (setsid,
    as a daemon does): no registry names it, no group or session of the run holds it, and
    no engine is left to inherit it. ``clean`` finds it by the session id every process of
    a run carries in its environment (``IPCVIZ_SESSION``); before, it ran on."""
    src = tmp_path / "daemon.py"
    src.write_text(DAEMON.replace("{dir!r}", repr(str(tmp_path))))
    run = LiveRun(tmp_path, src)
    run.wait_ready()
    run.kill_engine_and_viewer()
    daemon = int(wait_for("the daemon", lambda: _read(tmp_path / "pid.daemon")))
    try:
        assert _running(daemon)
        cleaned = ipcviz_clean()
        wait_for("the daemon gone", lambda: not _running(daemon), 10)
        assert "dead session" in cleaned
        assert not run.leaks((daemon,))
    finally:
        if _running(daemon):
            os.kill(daemon, signal.SIGKILL)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


#: Each of 8 children forks a grandchild and ends before it: the grandchildren, orphaned,
#: are reaped by the engine (the subreaper) while their pidfds say they ended too.
ORPHANS = """
import os
from ipcviz.scenario import Scenario
scenario = Scenario('orphans', 'grandchildren that outlive their parents', timeout=60)
q = scenario.sysv_queue('q')
@scenario.process('parent')
def parent(ctx):
    for i in range(8):
        if os.fork() == 0:
            if os.fork() == 0:
                for j in range(3):
                    q.send(b'g%d' % i)
                os._exit(0)
            for j in range(3):
                q.receive()
            os._exit(0)
    os._exit(0)
"""


def test_an_orphan_the_engine_reaps_ends_once_in_the_trace(tmp_path: Path) -> None:
    """An orphaned grandchild reaped by the engine: its end was handled, and while it was,
    its own pidfd (readable) handled it again inside: two ``proc.exit`` for one process
    (15-17 for 13 processes under --seed), and ``ipcviz verify`` still said legal."""
    import collections
    import subprocess
    import sys

    trace = tmp_path / "t.jsonl"
    scenario = write_scenario(tmp_path, ORPHANS, name="orphans")
    run_ = [sys.executable, "-m", "ipcviz", "run"]
    for seed in ("1", "2", "3"):
        trace.unlink(missing_ok=True)
        r = subprocess.run(
            [*run_, str(scenario), "--headless", "--record", str(trace), "--seed", seed],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr[-2000:]
        events = read_lines(trace)[1]
        exits = collections.Counter(e["pid"] for e in events if e["kind"] == "proc.exit")
        starts = {e["pid"] for e in events if e["kind"] == "proc.start"}
        assert set(exits) == starts and set(exits.values()) == {1}, (seed, exits)


def test_the_registry_keeps_forked_children_only_while_they_live(tmp_path: Path) -> None:
    """A forked flood (the ``forky`` shape) made the registry file list every child ever
    forked, and the engine rewrote it whole at each fork: a quarter of its time went there.
    A child that ended is left out of the next write; one that lives is still in it."""
    body = """
        import os, time
        from ipcviz.scenario import Scenario

        scenario = Scenario('forks', 'forks and waits', timeout=60)
        scenario.shared_memory('m', cells=4)

        def wait_for(name):
            end = time.monotonic() + 60
            while not os.path.exists(os.path.join({dir!r}, name)) and time.monotonic() < end:
                time.sleep(0.01)

        @scenario.process('w')
        def w(ctx):
            for _ in range(20):
                pid = ctx.fork()
                if pid == 0:
                    os._exit(0)
                os.waitpid(pid, 0)
            wait_for('more')
            if ctx.fork() == 0:
                wait_for('go')
                os._exit(0)
            wait_for('go')
            os.wait()
    """
    run = LiveRun(tmp_path, write_scenario(tmp_path, body.replace("{dir!r}", repr(str(tmp_path)))))
    try:

        def exits() -> list[dict]:
            _, events = run.events()
            return [e for e in events if e["kind"] == "proc.exit"]

        wait_for("the 20 children's exits in the trace", lambda: len(exits()) >= 20)
        children = {e["pid"] for e in exits()}
        (tmp_path / "more").touch()  # one more child, adopted: the registry is written

        def starts() -> list[dict]:
            _, events = run.events()
            return [e for e in events if e["kind"] == "proc.start"]

        wait_for("the 21st child's start", lambda: len(starts()) >= 22)  # w and 21
        header, _ = run.events()
        registry = json.loads((runtime_dir() / f"{header['session']}.json").read_text())
        listed = {p["pid"] for p in registry["procs"]}
        last = starts()[-1]["pid"]
        assert last in listed and run.worker_pids()["w"] in listed, registry["procs"]
        assert not listed & children, sorted(listed & children)
    finally:
        run.go()
    assert run.finish() == 0, run.stderr
    assert not run.leaks()
