"""Whose is it? Traces never overwrite each other; ``clean`` touches only what it can prove
is ours; every way an engine dies still ends with nothing left."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from ipcviz.ipc.sysv import sysv_key
from ipcviz.session.cleanup import session_of
from ipcviz.session.registry import (
    posix_name,
    proc_start_time,
    registry_dirs,
    runtime_dir,
)
from tests.conftest import ipcviz
from tests.faults.harness import (
    LiveRun,
    ipcviz_clean,
    kernel_objects_left,
    replays,
    wait_for,
    waiting_scenario,
    write_scenario,
)
from tests.faults.test_ending import EVERY_OBJECT
from tests.faults.test_security import _as_nobody

# -- traces -------------------------------------------------------------------------------


def test_four_runs_started_together_keep_four_complete_traces(
    tmp_path: Path, private_data_home: Path, record
) -> None:
    """Four runs of one scenario, started at once, without --record: four files, each with
    its own header and exactly one ``session.end``, each replays."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ipcviz", "run", "pipe-basic", "--headless", "--quick"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [e for _, e in outs]
    paths = [Path(re.search(r"# recording to (\S+)", o).group(1)) for o, _ in outs]
    traces = sorted((private_data_home / "ipcviz" / "traces").glob("*.jsonl"))
    assert len(set(paths)) == 4 and sorted(paths) == traces, (paths, traces)
    sessions, ends, replayed = set(), [], []
    for path in traces:
        lines = [json.loads(x) for x in path.read_text().splitlines()]
        sessions.add(lines[0]["session"])
        ends.append(sum(e.get("kind") == "session.end" for e in lines[1:]))
        assert path.name.endswith(f"-{lines[0]['session']}.jsonl")  # named by its session
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        replayed.append(replays(path)[0])
    mode = stat.S_IMODE(traces[0].parent.stat().st_mode)
    stamps = {p.name[:15] for p in traces}
    record(
        "runs-same-second",
        f"4 files ({len(stamps)} distinct second stamp(s)), session.end per file {ends}, "
        f"replays {replayed.count(True)}/4; files 0600, directory {oct(mode)}",
        [],
        "yes" if all(replayed) else "no",
    )
    assert len(sessions) == 4 and ends == [1] * 4 and all(replayed)
    assert mode == 0o700


def test_record_refuses_an_existing_file_and_never_follows_a_symlink(
    tmp_path: Path, record
) -> None:
    existing = tmp_path / "old.jsonl"
    existing.write_text("precious\n")
    existing.chmod(0o644)
    refused = ipcviz("run", "pipe-basic", "--headless", "--quick", "--record", str(existing))
    assert refused.returncode == 2 and "already exists" in refused.stderr
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert existing.read_text() == "precious\n"

    forced = ipcviz(
        "run", "pipe-basic", "--headless", "--quick", "--record", str(existing), "--force"
    )
    assert forced.returncode == 0, forced.stderr
    forced_mode = stat.S_IMODE(existing.stat().st_mode)

    target = tmp_path / "target"
    target.write_text("not yours\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    via_link = ipcviz("run", "pipe-basic", "--headless", "--quick", "--record", str(link))
    assert via_link.returncode == 2 and "already exists" in via_link.stderr
    forced_link = ipcviz(
        "run", "pipe-basic", "--headless", "--quick", "--record", str(link), "--force"
    )
    assert forced_link.returncode == 0, forced_link.stderr
    target_kept = target.read_text() == "not yours\n"
    record(
        "record-existing",
        f"existing 0644 file: exit {refused.returncode} without --force, untouched; with "
        f"--force a new {oct(forced_mode)} file; symlink: exit {via_link.returncode}, with "
        f"--force the link is replaced, its target {'untouched' if target_kept else 'WRITTEN'}",
        [],
    )
    assert forced_mode == 0o600
    assert target.read_text() == "not yours\n" and not link.is_symlink()
    assert stat.S_IMODE(link.stat().st_mode) == 0o600


def test_record_makes_the_directories_it_needs_private(tmp_path: Path) -> None:
    """``--record a/b/trace.jsonl``: a and b are made 0700, whatever the umask lets a
    ``mkdir -p`` make (0755 as a rule: the attack found them so); one that exists keeps
    its mode."""
    kept = tmp_path / "kept"
    kept.mkdir(mode=0o755)
    kept.chmod(0o755)
    trace = kept / "a" / "b" / "trace.jsonl"
    made = ipcviz("run", "pipe-basic", "--headless", "--quick", "--record", str(trace))
    assert made.returncode == 0, made.stderr
    modes = [stat.S_IMODE(p.stat().st_mode) for p in (kept, kept / "a", kept / "a" / "b", trace)]
    assert modes == [0o755, 0o700, 0o700, 0o600], [oct(m) for m in modes]


# -- clean: only what is provably ours ------------------------------------------------------


def test_clean_from_another_runtime_dir_leaves_a_live_session_whole(tmp_path: Path, record) -> None:
    """``ipcviz clean`` with another XDG_RUNTIME_DIR, and with none, while a run is live:
    every object of the run and its worker survive; the run then ends normally."""
    run = LiveRun(tmp_path, waiting_scenario(tmp_path, EVERY_OBJECT))
    try:
        run.wait_ready()
        _, events = run.events()
        before = kernel_objects_left(events)
        pids = sorted(p.pid for p in run.tree())
        other = tmp_path / "other-runtime"
        other.mkdir(mode=0o700)
        env_other = {**os.environ, "XDG_RUNTIME_DIR": str(other)}
        env_none = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
        outs = []
        for env in (env_other, env_none):
            r = subprocess.run(
                [sys.executable, "-m", "ipcviz", "clean"],
                capture_output=True,
                text=True,
                timeout=60,
                env=env,
                stdin=subprocess.DEVNULL,
            )
            assert r.returncode == 0, r.stderr
            outs.append(r.stdout.strip())
        _, events = run.events()
        after = kernel_objects_left(events)
        alive = sorted(p for p in pids if psutil.pid_exists(p))
    finally:
        run.go()
    rc = run.finish()
    left = run.leaks()
    record(
        "clean-other-runtime",
        f"{len(before)} objects, {len(pids)} processes before; after clean with another "
        f"XDG_RUNTIME_DIR and with none: {len(after)} objects, {len(alive)} processes; run "
        f"exit {rc}",
        left,
    )
    assert len(before) >= 5 and after == before, (before, after, outs)
    assert alive == pids
    assert rc == 0 and not left, (rc, left, run.stderr)


def _dead_registry(sid: str, data: dict) -> Path:
    reg = runtime_dir() / f"{sid}.json"
    reg.write_text(json.dumps({"sid": sid, "uid": os.getuid(), "objects": [], **data}))
    return reg


def test_clean_never_signals_a_process_whose_pid_was_reused(tmp_path: Path, record) -> None:
    """A dead registry whose engine and worker pids now belong to another session (a reused
    pid): ``clean`` must not kill that session's leader nor its members."""
    leader = subprocess.Popen(
        [sys.executable, "-c", "import subprocess,sys; subprocess.run(['sleep', '600'])"],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        member = wait_for("the session's member", lambda: psutil.Process(leader.pid).children())
        start = proc_start_time(leader.pid)
        assert start is not None
        sid = "dead" + os.urandom(4).hex()[:4]
        reg = _dead_registry(
            sid,
            {
                "engine_pid": leader.pid,
                "engine_start": start - 1,  # an older process had this pid
                "engine_sid": leader.pid,
                "procs": [{"pid": leader.pid, "start": start - 1}],
            },
        )
        cleaned = ipcviz_clean()
        survived = psutil.pid_exists(leader.pid) and member[0].is_running()
        gone = not reg.exists()
    finally:
        os.killpg(leader.pid, signal.SIGKILL)
        leader.wait()
    record(
        "clean-reused-pid",
        f"unrelated session on the dead engine's pid: {'survived' if survived else 'KILLED'}; "
        f"registry {'removed' if gone else 'kept'}; {cleaned}",
        [],
    )
    assert survived and gone, cleaned


def test_clean_finds_a_system_v_object_by_its_registered_key(tmp_path: Path, record) -> None:
    """The engine registers a System V key, then creates the object, then writes its id:
    killed in between, only the key is there, and ``clean`` still removes the object; a
    stale ``SID.tmp`` of a dead session is removed too."""
    import sysv_ipc

    sid = "dead" + os.urandom(4).hex()[:4]
    qkey, skey = sysv_key(sid, "v"), sysv_key(sid, "t")
    q = sysv_ipc.MessageQueue(qkey, sysv_ipc.IPC_CREX, mode=0o600)
    s = sysv_ipc.Semaphore(skey, sysv_ipc.IPC_CREX, mode=0o600)
    tmp = runtime_dir() / f"{sid}.tmp"
    try:
        _dead_registry(
            sid,
            {
                "engine_pid": 999999999,
                "engine_start": 1,
                "objects": [{"type": "sysv_mq", "key": qkey}, {"type": "sysv_sem", "key": skey}],
                "procs": [],
            },
        )
        tmp.write_text("{")
        cleaned = ipcviz_clean()
        table = Path("/proc/sysvipc/msg").read_text() + Path("/proc/sysvipc/sem").read_text()
        ids_left = [i for i in (q.id, s.id) if re.search(rf"^\s*-?\d+\s+{i}\s", table, re.M)]
    finally:
        for obj in (q, s):
            try:
                obj.remove()
            except sysv_ipc.ExistentialError:
                pass
    record(
        "clean-sysv-by-key",
        f"queue and semaphore registered by key only: {len(ids_left)} left; stale .tmp "
        f"{'left' if tmp.exists() else 'removed'}; {cleaned}",
        [],
    )
    assert not ids_left and not tmp.exists(), cleaned


def test_a_runtime_dir_taken_by_another_user_is_refused_in_one_line(tmp_path: Path) -> None:
    """nobody's /tmp/ipcviz-65534 made first by someone else (here root), or a symlink
    there: nobody's ``ipcviz clean`` refuses with one line that names it, exit 2."""
    squat = Path("/tmp/ipcviz-65534")
    if squat.exists() or squat.is_symlink():
        pytest.skip(f"{squat} exists on this machine")
    code = "import sys; from ipcviz.cli import main; sys.exit(main(['clean']))"
    results = {}
    try:
        squat.mkdir(mode=0o755)  # root's: another uid's, from nobody's point of view
        results["dir"] = _as_nobody(code)
        squat.rmdir()
        squat.symlink_to(tmp_path)
        results["symlink"] = _as_nobody(code)
    finally:
        if squat.is_symlink():
            squat.unlink()
        elif squat.exists():
            squat.rmdir()
    for why, r in results.items():
        assert r.returncode == 2, (why, r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and str(squat) in lines[0] and "Traceback" not in r.stderr
    assert "owned by uid 0" in results["dir"].stderr
    assert "a symlink" in results["symlink"].stderr


# -- SIGKILL of the engine while it creates objects ------------------------------------------

MANY_OBJECTS = """
from ipcviz.scenario import Scenario
scenario = Scenario('many', 'many objects', timeout=60)
for i in range(8):
    scenario.sysv_queue(f'v{i}')
    scenario.sysv_semaphore(f't{i}')
    scenario.shared_memory(f'm{i}', cells=4)
    scenario.semaphore(f's{i}')
    scenario.posix_queue(f'q{i}', max_messages=4, max_message_size=64)
    scenario.fifo(f'f{i}')

@scenario.process('w')
def w(ctx):
    pass
"""
NAMES = [f"{k}{i}" for i in range(8) for k in "vtmsqf"]


def _remains(sid: str) -> list[str]:
    """Everything of session ``sid`` still on the machine (registry, kernel objects)."""
    import posix_ipc

    left = [str(p) for d in registry_dirs() for p in d.iterdir() if sid in p.name]
    left += [n for n in os.listdir("/dev/shm") if session_of(n) == sid]
    table = {
        t: {
            int(line.split()[0]) for line in Path(f"/proc/sysvipc/{t}").read_text().splitlines()[1:]
        }
        for t in ("msg", "sem")
    }
    for name in NAMES:
        if name[0] in "vt" and sysv_key(sid, name) in table["msg" if name[0] == "v" else "sem"]:
            left.append(f"System V {name}")
        if name[0] == "q":
            try:
                posix_ipc.MessageQueue(posix_name(sid, name)).close()
                left.append(f"POSIX queue {name}")
            except posix_ipc.ExistentialError:
                pass
    return left


def _registered(sid: str) -> int:
    """Objects in the registry of ``sid`` so far (-1 before it exists)."""
    try:
        return len(json.loads((runtime_dir() / f"{sid}.json").read_text())["objects"])
    except (OSError, ValueError, KeyError):
        return -1


def test_sigkill_of_the_engine_during_object_creation_then_clean_leaves_nothing(
    tmp_path: Path, record
) -> None:
    """20 engines, each SIGKILLed right after its registry's k-th write (k random, seeded:
    before, between or after an object's creation), then ``ipcviz clean``: nothing of any
    session is left. The engine stops itself at that write (``IPCVIZ_FAULT_STOP_AT_SAVE``),
    so where the kill lands is chosen, never the scheduler's luck."""
    scenario = write_scenario(tmp_path, MANY_OBJECTS, "many")
    rng = random.Random(20)
    mid, had_left, after = 0, 0, []
    temp_before = _glibc_sem_temps()
    for i in range(20):
        sid = os.urandom(4).hex()
        k = rng.randrange(1, len(NAMES) + 2)  # the first write names no object yet
        engine = subprocess.Popen(
            [
                *(sys.executable, "-m", "ipcviz.engine", str(scenario), "--sid", sid),
                *("--trace", str(tmp_path / f"t{i}.jsonl"), "--timeout", "60"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "IPCVIZ_FAULT_STOP_AT_SAVE": str(k)},
        )
        wait_for(f"the engine stopped at its registry's write {k}", lambda e=engine: _stopped(e))
        engine.kill()
        engine.wait()
        engine.stdin.close()
        n = _registered(sid)
        mid += 0 < n < len(NAMES)
        had_left += bool(_remains(sid))
        ipcviz_clean()
        after += _remains(sid)
    record(
        "sigkill-engine-creating",
        f"20 SIGKILLs during creation ({mid} with the registry part-written, {had_left} "
        f"leaving objects); after `ipcviz clean`: {len(after)} left",
        after,
    )
    assert not after
    assert mid >= 5 and had_left >= 5  # the kills did land during creation
    # glibc's sem_open(O_CREAT) writes a temporary sem.XXXXXX first: a kill there would leave
    # a file no session can prove its own. The engine never makes one (posix_sem/wrapper.py).
    assert not _glibc_sem_temps() - temp_before


def _stopped(engine: subprocess.Popen) -> bool:
    """The engine stopped itself (or, wrongly, ended: then the test says what it left)."""
    if engine.poll() is not None:
        return True
    try:
        return psutil.Process(engine.pid).status() == psutil.STATUS_STOPPED
    except psutil.NoSuchProcess:
        return True


def _glibc_sem_temps() -> set[str]:
    """/dev/shm/sem.XXXXXX: the shape of glibc's temporary semaphore file."""
    return {p.name for p in Path("/dev/shm").glob("sem.??????") if "." not in p.name[4:]}


# -- the viewer cleans up when its engine dies ---------------------------------------------

BIG_OUTPUT = """
import os
from ipcviz.scenario import Scenario
scenario = Scenario('loud', 'prints a lot', timeout=60)
scenario.shared_memory('m', cells=4)
scenario.sysv_queue('v')
{wait}
@scenario.process('w')
def w(ctx):
    wait_for_go(ctx)
    os.write(1, b'x' * 400000)
"""


def _wchan(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return ""


def test_a_line_cut_off_by_a_killed_engine_still_cleans_up(tmp_path: Path, record) -> None:
    """The CLI is stopped while the engine writes an event line longer than the pipe, so the
    engine blocks in the middle of it; then the engine is SIGKILLed and the CLI resumed: it
    reads a cut-off line, says the engine stopped (exit 2), and removes what the session
    left itself: no ``ipcviz clean`` needed."""
    from tests.faults.harness import WAIT_FOR_GO

    body = BIG_OUTPUT.replace("{wait}", WAIT_FOR_GO.replace("{dir!r}", repr(str(tmp_path))))
    run = LiveRun(tmp_path, write_scenario(tmp_path, body, "loud"))
    try:
        run.wait_ready()
        engine = run.engine()
        run.signal(signal.SIGSTOP)
        run.go()
        wait_for(
            "the engine blocked writing to the CLI",
            lambda: _wchan(engine.pid).endswith("pipe_write"),
        )
        engine.kill()
        run.signal(signal.SIGCONT)
        rc = run.finish()
    except BaseException:
        run.signal(signal.SIGCONT)
        raise
    left = run.leaks()
    record(
        "cut-line",
        f"exit {rc}: {run.stderr.strip().splitlines()[-1][:90] if run.stderr.strip() else ''}",
        left,
    )
    assert rc == 2 and "stopped unexpectedly" in run.stderr and "Traceback" not in run.stderr
    assert not left, left


async def test_sigkill_of_the_engine_under_the_tui_then_q_leaves_nothing(tmp_path: Path) -> None:
    from ipcviz.tui.app import IpcvizApp
    from ipcviz.tui.feed import LiveFeed
    from ipcviz.tui.screens.session import SessionScreen

    scenario = waiting_scenario(tmp_path, EVERY_OBJECT)
    feeds: list[LiveFeed] = []

    def make() -> LiveFeed:
        feeds.append(LiveFeed(scenario, tmp_path / f"run{len(feeds)}.jsonl"))
        return feeds[-1]

    app = IpcvizApp(make, lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, SessionScreen)
        deadline = time.monotonic() + 30
        while not (tmp_path / "ready.w").exists():
            assert time.monotonic() < deadline, "worker not ready"
            await pilot.pause(0.05)
        sid = feeds[0].engine.sid
        feeds[0].engine.proc.kill()
        feeds[0].engine.proc.wait()
        assert _remains_any(sid), "the killed engine left nothing: the test proves nothing"
        await pilot.press("q")
    assert not _remains_any(sid)


def _remains_any(sid: str) -> list[str]:
    left = [str(p) for d in registry_dirs() for p in d.iterdir() if sid in p.name]
    return left + [n for n in os.listdir("/dev/shm") if session_of(n) == sid]


HOLD_SHM = r"""
import mmap, sys, posix_ipc
shm = posix_ipc.SharedMemory(sys.argv[1], posix_ipc.O_CREX, mode=0o600, size=4096)
m = mmap.mmap(shm.fd, 4096)
shm.close_fd()
print('held', flush=True)
sys.stdin.read()
"""


def test_clean_sweeps_only_unregistered_shm_that_nobody_holds(tmp_path: Path, record) -> None:
    """/dev/shm entries named like ipcviz's, of sessions with no registry anywhere: the one
    a process still maps (a session whose registry we cannot see) survives; the one nobody
    holds is removed."""
    import posix_ipc

    held_name = f"/ipcviz.{os.urandom(4).hex()}.held"
    free_name = f"/ipcviz.{os.urandom(4).hex()}.free"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SHM, held_name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        posix_ipc.SharedMemory(free_name, posix_ipc.O_CREX, mode=0o600, size=64).close_fd()
        cleaned = ipcviz_clean()
        held_kept = os.path.exists(f"/dev/shm{held_name}")
        free_gone = not os.path.exists(f"/dev/shm{free_name}")
    finally:
        holder.stdin.close()
        holder.wait()
        for name in (held_name, free_name):
            try:
                posix_ipc.unlink_shared_memory(name)
            except posix_ipc.ExistentialError:
                pass
    record(
        "clean-sweep",
        f"mapped by a live process: {'kept' if held_kept else 'REMOVED'}; held by none: "
        f"{'removed' if free_gone else 'kept'}; {cleaned}",
        [],
    )
    assert held_kept and free_gone, cleaned


def test_clean_leaves_shm_entries_another_program_named_like_ipcviz() -> None:
    """Files in /dev/shm that another program of ours made, named like ipcviz's, that no
    process holds: no registry names them and ipcviz never makes such a name or mode, so
    `ipcviz clean` leaves them (it removed all three: a config file, a 0644 segment, a
    0644 semaphore)."""
    sid = os.urandom(4).hex()
    names = ["ipcviz.myapp.config", f"ipcviz.{sid}.notes", f"sem.ipcviz.{sid}.lock"]
    try:
        for name in names:
            fd = os.open(f"/dev/shm/{name}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.fchmod(fd, 0o644)  # whatever the umask: the mode another program chose
            os.write(fd, b"\0" * 32)
            os.close(fd)
        cleaned = ipcviz_clean()
        left = [n for n in names if os.path.exists(f"/dev/shm/{n}")]
    finally:
        for name in names:
            Path(f"/dev/shm/{name}").unlink(missing_ok=True)
    assert left == names, cleaned
