"""Kernel limits: a clear one-line error naming the limit, exit 2, nothing left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.harness import LiveRun, replays, write_scenario

MQ = Path("/proc/sys/fs/mqueue")


def _limit(name: str) -> int:
    return int((MQ / name).read_text())


def _queues(decl: str) -> str:
    return f"""
from ipcviz.scenario import Scenario
scenario = Scenario('limits', 'beyond a kernel limit')
if not hasattr(scenario, 'posix_queue'):
    raise SystemExit('no POSIX queue wrapper yet')
{decl}
@scenario.process('w')
def w(ctx):
    pass
"""


def _error_lines(run: LiveRun) -> list[str]:
    return [ln for ln in run.stderr.splitlines() if ln.strip()]


MQ_CASES = {
    "mq-msg-max": ("scenario.posix_queue('q', max_messages={msg_max} + 1)", "msg_max"),
    "mq-msgsize-max": (
        "scenario.posix_queue('q', max_message_size={msgsize_max} + 1)",
        "msgsize_max",
    ),
}


@pytest.mark.parametrize("fault", list(MQ_CASES))
def test_posix_queue_limits(tmp_path: Path, record, fault: str) -> None:
    if not MQ.is_dir():
        pytest.skip("no /proc/sys/fs/mqueue: POSIX queues not available")
    decl, needle = MQ_CASES[fault]
    limits = {n: _limit(n) for n in ("msg_max", "msgsize_max")}
    run = LiveRun(tmp_path, write_scenario(tmp_path, _queues(decl.format(**limits))))
    rc = run.finish()
    if "no POSIX queue wrapper yet" in run.stderr:
        pytest.skip("ipcviz.ipc.posix_mq is not there yet")
    left = run.leaks()
    ok, why = replays(run.trace)
    err = _error_lines(run)
    shown = " / ".join(err)
    record(fault, f"exit {rc}: {shown[:220]}", left, "yes" if ok else why)
    assert rc == 2, (rc, run.stderr)
    assert len(err) == 1 and err[0].startswith("ipcviz: "), err
    assert needle in err[0] and "Traceback" not in run.stderr
    assert not left and ok, (left, why)


def test_posix_queues_beyond_queues_max(tmp_path: Path, record) -> None:
    """In a private IPC namespace whose queues_max is 3 (other runs keep their queues)."""
    src = write_scenario(
        tmp_path,
        _queues("for i in range(4):\n    scenario.posix_queue(f'q{i}', max_messages=1)"),
    )
    trace, mq = tmp_path / "run.jsonl", tmp_path / "mqueue"
    mq.mkdir()
    script = (
        "echo 3 > /proc/sys/fs/mqueue/queues_max && mount -t mqueue none "
        f"{mq} || exit 99\n"
        f"{sys.executable} -m ipcviz run {src} --headless --record {trace}\n"
        f"echo rc=$?\nls -A {mq}\n"
    )
    r = subprocess.run(
        ["unshare", "--ipc", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    if r.returncode == 99 or "rc=" not in r.stdout:
        pytest.skip(f"cannot make a private IPC namespace here: {r.stderr.strip()}")
    if "no POSIX queue wrapper yet" in r.stderr:
        pytest.skip("ipcviz.ipc.posix_mq is not there yet")
    rc = int(r.stdout.split("rc=")[1].split()[0])
    left = [f"queue {n}" for n in r.stdout.split("rc=")[1].split()[1:]]
    err = [ln for ln in r.stderr.splitlines() if ln.strip()]
    ok, why = replays(trace)
    record("mq-queues-max", f"exit {rc}: {' / '.join(err)[:220]}", left, "yes" if ok else why)
    assert rc == 2, r.stderr
    assert len(err) == 1 and err[0].startswith("ipcviz: cannot create POSIX queue q3"), err
    assert "queues_max" in err[0]
    assert not left and ok, (left, why)


SHM = """
from ipcviz.scenario import Scenario
scenario = Scenario('bigshm', 'more shared memory than there is')
scenario.shared_memory('m', cells={cells})
@scenario.process('w')
def w(ctx):
    pass
"""


def test_shared_memory_larger_than_dev_shm(tmp_path: Path, record) -> None:
    """/dev/shm of 1 MiB in a private mount namespace; the scenario asks for 8 MiB."""
    src = write_scenario(tmp_path, SHM.format(cells=1 << 20))
    trace = tmp_path / "run.jsonl"
    script = (
        "mount -t tmpfs -o size=1m tmpfs /dev/shm || exit 99\n"
        f"{sys.executable} -m ipcviz run {src} --headless --record {trace}\n"
        "echo rc=$?\n"
        "ls -A /dev/shm\n"
    )
    r = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    if r.returncode == 99 or "rc=" not in r.stdout:
        pytest.skip(f"cannot give a run a small private /dev/shm here: {r.stderr.strip()}")
    rc = int(r.stdout.split("rc=")[1].split()[0])
    in_shm = r.stdout.split("rc=")[1].split()[1:]
    err = [ln for ln in r.stderr.splitlines() if ln.strip()]
    ok, why = replays(trace)
    left = [f"/dev/shm/{n}" for n in in_shm]
    record(
        "shm-too-big",
        f"exit {rc}: {' / '.join(err)[:200]}",
        left,
        "yes" if ok else why,
    )
    assert rc == 2, r.stderr
    assert len(err) == 1 and err[0].startswith("ipcviz: /dev/shm has no room for 8388608 bytes")
    assert "df -h /dev/shm" in err[0]
    assert not left and ok, (left, why)


def test_shared_memory_beyond_the_cell_limit_is_a_load_error(tmp_path: Path) -> None:
    run = LiveRun(tmp_path, write_scenario(tmp_path, SHM.format(cells=(1 << 20) + 1)))
    rc = run.finish()
    err = _error_lines(run)
    assert rc == 2 and len(err) == 1, run.stderr
    assert "cells must be between 1 and 1048576" in err[0]
    assert not run.leaks()
