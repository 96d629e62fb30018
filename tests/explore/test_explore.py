"""``ipcviz explore`` on real processes: it finds the interleaving, and ``run`` replays it.

Every search here is deterministic: a strategy's plans depend only on its seed and on what
the runs reported at their gates, and a run's choices are made only once the world has
settled (engine/gate.py). The seeds are the ones that find the bug within a few runs.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from ipcviz.cli import main
from ipcviz.explore.result import RunResult, Step
from ipcviz.explore.runner import Chooser
from ipcviz.explore.search import compress, ddmin, merged, runs_of, schedule_text, switches
from ipcviz.explore.strategies import DFS, PCT
from tests.conftest import ipcviz, read_trace
from tests.faults.harness import wait_for

HERE = Path(__file__).resolve().parent
CHECK_THEN_ACT = str(HERE / "check_then_act.py")


def _schedule(stdout: str) -> str:
    m = re.search(r"^schedule: --schedule (\S+)$", stdout, re.M)
    assert m, stdout
    return m.group(1)


def _trace(stdout: str) -> Path:
    m = re.search(r"^trace: (\S+)$", stdout, re.M)
    assert m, stdout
    return Path(m.group(1))


def _after(stdout: str, line: str) -> str:
    """The part of explore's output from the line starting with ``line``."""
    at = stdout.find("\n" + line)
    assert at >= 0, stdout
    return stdout[at:]


def _items(schedule: str) -> list[str]:
    return schedule.split(",")


def test_explore_finds_a_lost_update_in_shm_race_and_run_replays_it(tmp_path: Path):
    r = ipcviz("explore", "shm-race", "--set", "increments=2", "--seed", "0", "--budget", "50")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "found in run 2: a lost update" in r.stdout
    # the lecture's summary: every run of the search, apart from the failure shown
    summary = r.stdout[r.stdout.index("summary of the 2 search run(s)") :]
    assert re.search(r"reached the goal: +1 of 2 runs", summary), summary
    assert re.search(r"lost update: +1 of 2 runs", summary), summary
    assert re.search(r"deadlock: +0 of 2 runs", summary), summary
    # a progress line says it is one ("so far"), never a second count of the same search
    assert "so far: 1 of at most 50 run(s), 1 distinct outcome(s), at most about " in r.stdout
    assert not re.search(r"^ +\d+ runs, ", r.stdout, re.M), r.stdout
    schedule = _schedule(r.stdout)
    # Shortened for real: losing an update takes one process reading, another writing in
    # between, the first writing back: three items (the last process left runs alone).
    # Found as inc1,inc2*4,inc1*3,inc3*4 (4 items, 12 steps).
    assert len(_items(schedule)) <= 3, schedule
    assert "reproduce: ipcviz run shm-race --set increments=2 --schedule " in r.stdout
    _, events = read_trace(_trace(r.stdout))  # recorded by a fresh engine, from the schedule
    assert any(e["kind"] == "race.lost_update" for e in events)

    trace = tmp_path / "again.jsonl"
    again = ipcviz(
        "run", "shm-race", "--headless", "--set", "increments=2",
        "--schedule", schedule, "--record", str(trace),
    )  # fmt: skip
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr  # its check: "lost"
    assert "LOST UPDATE" in again.stdout
    # Every number explore prints about the failure is the printed schedule's own: the
    # run's check says "N updates lost: counter C, increments 6", and so does explore.
    shown = re.findall(r"\d+ updates lost: counter \d+, increments \d+", again.stdout)
    assert shown, again.stdout[-2000:]
    failure = _after(r.stdout, "found in run")
    assert re.findall(r"\d+ updates lost: counter \d+, increments \d+", failure) == shown[:1]
    lost = sum(1 for e in read_trace(trace)[1] if e["kind"] == "race.lost_update")
    assert re.findall(r"(\d+) lost update\(s\)", failure) == [str(lost)], failure
    header, events = read_trace(trace)
    assert header["scenario"]["params"]["increments"] == 2
    assert ipcviz("verify", str(trace)).returncode == 0


def test_keep_going_counts_the_whole_budget_for_the_lecture():
    r = ipcviz("explore", "shm-race", "--set", "increments=2", "--budget", "20", "--keep-going")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "summary of the 20 search run(s)" in r.stdout
    m = re.search(r"lost update: +(\d+) of 20 runs", r.stdout)
    assert m and 1 <= int(m.group(1)) < 20, r.stdout  # PCT with seed 0: some, not all
    assert "found in run 2: a lost update" in r.stdout  # the first one is shown


def test_explore_finds_nothing_in_shm_semaphore_within_the_budget():
    r = ipcviz("explore", "shm-semaphore", "--set", "increments=2", "--budget", "12")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "12 runs in" in r.stdout and "nothing found" in r.stdout
    assert "12 × ok: no update lost" in r.stdout
    assert re.search(r"lost update: +0 of 12 runs", r.stdout), r.stdout
    assert re.search(r"failed check: +0 of 12 runs", r.stdout), r.stdout


def test_explore_finds_a_check_then_act_bug_that_needs_a_long_preemption(tmp_path: Path):
    record = tmp_path / "found.jsonl"
    r = ipcviz("explore", CHECK_THEN_ACT, "--budget", "200", "--seed", "3", "--record", str(record))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "found in run 4: a failed check: nobody is locked in" in r.stdout
    # the guest looks, the guard does all its operations, then the guest (alone) walks in
    assert _schedule(r.stdout) == "guest,guard*"
    assert "guest entered: True, guard saw someone inside: False" in _after(r.stdout, "found in")
    assert _trace(r.stdout) == record and record.exists()
    # several runs at once (--jobs, 2 by default here) give the same search as one by one
    one = ipcviz("explore", CHECK_THEN_ACT, "--seed", "3", "--jobs", "1", "--no-shrink")
    assert one.returncode == 1 and "found in run 4: a failed check" in one.stdout, one.stdout
    assert _schedule(one.stdout) == "guest,guard*32,guest"  # as found: every step

    d = ipcviz("explore", CHECK_THEN_ACT, "--strategy", "dfs", "--depth", "1", "--no-shrink")
    assert d.returncode == 1 and "found in run 2:" in d.stdout, d.stdout
    assert _schedule(d.stdout) == "guest,guard*32,guest"

    for schedule in ("guest,guard*32,guest", "guest,guard*"):
        again = ipcviz("run", CHECK_THEN_ACT, "--headless", "--schedule", schedule)
        assert again.returncode == 1, again.stdout[-2000:]
        assert "guest entered: True, guard saw someone inside: False" in again.stdout


def test_a_run_that_ends_in_an_error_is_shown_not_retried(tmp_path: Path):
    # its worker raises on the first run only: run again, it would pass, and hide it
    marker = tmp_path / "ran-before"
    trace_dir = tmp_path / "data"
    r = ipcviz(
        "explore", str(HERE / "first_time_fails.py"), "--set", f"marker={marker}",
        env={"XDG_DATA_HOME": str(trace_dir)},
    )  # fmt: skip
    assert r.returncode == 2, r.stdout + r.stderr
    assert "run 1 ended in an error: RuntimeError: the first run fails" in r.stdout
    assert re.search(r"^  error: +1 of 1 runs$", r.stdout, re.M), r.stdout  # counted
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "run 1 of" in err[0] and "Traceback" not in r.stderr, r.stderr
    m = re.search(r"^its trace: (\S+)$", r.stdout, re.M)
    assert m and str(trace_dir) in m.group(1), r.stdout
    kept = Path(m.group(1))
    assert kept.stat().st_mode & 0o777 == 0o600
    _, events = read_trace(kept)
    assert any(e["kind"] == "proc.error" for e in events)
    assert "--schedule " in r.stdout  # its steps, to run it again


def test_free_running_and_random_seeds_miss_the_check_then_act_bug():
    # run i of the random strategy is `ipcviz run --seed i`: coin flips at every gate
    r = ipcviz("explore", CHECK_THEN_ACT, "--strategy", "random", "--budget", "30")
    assert r.returncode == 0 and "nothing found" in r.stdout, r.stdout + r.stderr
    assert "30 × ok: nobody is locked in" in r.stdout
    r = ipcviz("run", CHECK_THEN_ACT, "--headless")  # free running
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    taken = tmp_path / "taken.jsonl"
    taken.write_text("")
    for args, says in [
        (["shm-race", "--budget", "0"], "--budget 0"),
        (["shm-race", "--set", "nope=1"], "has no setting nope"),
        (["shm-race", "--set", "increments"], "want KEY=VALUE"),
        (["no-such-scenario"], "unknown scenario"),
        (["shm-race", "--timeout", "-1"], "--timeout"),
        (["shm-race", "--record", str(taken)], "already exists"),
        ([str(HERE / "raises.py")], "failed: RuntimeError: boom (trace: "),
    ]:
        assert main(["explore", *args]) == 2, args
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err


def test_compress_and_switches():
    assert compress(["a", "a", "b", "a", "c", "c", "c"]) == "a*2,b,a,c*3"
    assert switches(["a", "a", "b", "a"]) == 2


def test_schedule_items_merge_and_print_as_schedule_takes_them():
    assert runs_of(["a", "a", "b"]) == [["a", 2], ["b", 1]]
    assert merged([["a", 2], ["a", 3], ["b", 1], ["b", None], ["a", 1]]) == [
        ["a", 5], ["b", None], ["a", 1]
    ]  # fmt: skip
    assert schedule_text([["a", 1], ["b", 3], ["c", None]]) == "a,b*3,c*"


def test_ddmin_finds_a_one_minimal_subsequence():
    calls = []

    def fails(xs: list[int]) -> bool:
        calls.append(xs)
        return 3 in xs and 7 in xs  # the failure needs both

    assert ddmin(list(range(10)), fails, lambda: True) == [3, 7]
    assert ddmin(list(range(10)), fails, lambda: len(calls) < 2) != [3, 7]  # out of runs


def test_a_schedule_plan_is_taken_as_the_gate_takes_a_schedule():
    # a*2, then b until it cannot go on, then c; a name that cannot go is dropped
    chooser = Chooser({"schedule": [["a", 2], ["b", None], ["x", 1], ["c", 1]]}, str)
    went = [chooser._choose(names) for names in (
        ["a", "b", "c"], ["a", "b", "c"], ["a", "b", "c"], ["a", "b", "c"], ["a", "c"],
    )]  # fmt: skip
    assert went == ["a", "a", "b", "b", "c"]
    assert chooser.free_choices == 0
    # used up: `ipcviz run` would run free; with one process left that is still one order
    assert chooser._choose(["a"]) == "a" and chooser.free_choices == 0
    chooser._choose(["a", "c"])  # two could go: the machine's scheduler would decide
    assert chooser.free_choices == 1


def _result(steps: list[tuple[list[str], str]]) -> RunResult:
    return RunResult(steps=[Step(e, c) for e, c in steps], outcome="passed")


def test_dfs_tries_each_switch_within_the_preemption_bound():
    dfs = DFS(bound=1)
    plan = dfs.next_plan()
    assert plan == {"prefix": []}
    # a runs to its end (2 steps), then b (2 steps)
    dfs.learn(plan, _result([(["a", "b"], "a"), (["a", "b"], "a"), (["b"], "b"), (["b"], "b")]))
    plan = dfs.next_plan()
    assert plan == {"prefix": ["a", "b"]}  # the deepest choice first: b preempts a
    dfs.learn(
        plan, _result([(["a", "b"], "a"), (["a", "b"], "b"), (["a", "b"], "b"), (["a"], "a")])
    )
    # switching back to a at step 2 would be a second preemption: over the bound
    plan = dfs.next_plan()
    assert plan == {"prefix": ["b"]}
    dfs.learn(plan, _result([(["a", "b"], "b"), (["a", "b"], "b"), (["a"], "a"), (["a"], "a")]))
    plan = dfs.next_plan()
    assert plan == {"prefix": ["b", "a"]}  # a preempts b: one preemption
    dfs.learn(
        plan, _result([(["a", "b"], "b"), (["a", "b"], "a"), (["a", "b"], "a"), (["b"], "b")])
    )
    # aabb, abba, bbaa, baab: abab and baba need two preemptions
    assert dfs.next_plan() is None and dfs.exhausted


def test_pct_plans_depend_only_on_the_seed():
    plans = []
    for _ in range(2):
        pct = PCT(["a", "b", "c"], seed=7, depth=3)
        first = pct.next_plan()
        pct.learn(first, _result([(["a", "b", "c"], "a")] * 20))
        plans.append([pct.next_plan() for _ in range(5)])
    assert plans[0] == plans[1]
    prio = plans[0][0]["pct"]["prio"]
    assert sorted(prio.values()) == [3, 4, 5] and len(plans[0][0]["pct"]["changes"]) == 2


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_a_signal_mid_search_stops_the_run_and_leaves_nothing(sig: str, tmp_path: Path):
    # a TMPDIR of its own: another worker's explorer makes its scratch directory in the
    # shared /tmp at any moment (seen: a stranger's directory failed this test)
    scratch = lambda: set(tmp_path.glob("ipcviz-explore-*"))  # noqa: E731
    before = scratch()
    # seed 2 finds nothing for a long while: the search is surely still running
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipcviz", "explore", CHECK_THEN_ACT, "--seed", "2"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp_path)},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("  so far: 1 of at most"):
            assert len(scratch() - before) == 1  # the explorer's own, in the TMPDIR given
            break
    proc.send_signal(getattr(signal, sig))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    assert scratch() <= before  # its scratch directory is gone (no_leaks checks the rest)


def test_clean_removes_the_scratch_directory_of_a_killed_explorer(tmp_path: Path) -> None:
    """`ipcviz explore` keeps its runs' traces in a scratch directory it removes at its end;
    SIGKILLed, it left the directory, and `ipcviz clean` did not remove it. Now clean
    removes a dead explorer's directory and keeps a live one's and anything else."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    live = tmp_path / f"ipcviz-explore-{os.getpid()}-{_start(os.getpid())}-live"
    live.mkdir(mode=0o700)  # this test process is alive: its directory is not a leftover
    other = tmp_path / "ipcviz-explore-1-1-notmine"
    other.mkdir(mode=0o755)  # not private: never ipcviz's
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipcviz", "explore", "shm-race", "--budget", "500"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    prefix = f"ipcviz-explore-{proc.pid}-"

    def scratch_with_a_run() -> list[Path]:
        made = [p for p in tmp_path.iterdir() if p.name.startswith(prefix)]
        return made if made and any(made[0].iterdir()) else []

    try:
        made = wait_for("the explorer's scratch directory, a run in it", scratch_with_a_run)
        explorer = psutil.Process(proc.pid)
        explorer.suspend()  # it starts no run from here on: its runs now are all there are
        runs = explorer.children(recursive=True)
    finally:
        proc.kill()
        proc.wait()
    # its runs' engines see their viewer gone and end: only then is nothing of it running
    wait_for("the killed explorer's runs ended", lambda: all(_ended(p) for p in runs))
    result = subprocess.run(
        [sys.executable, "-m", "ipcviz", "clean"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert not made[0].exists(), result.stdout
    assert live.is_dir() and other.is_dir(), result.stdout


def _ended(p: psutil.Process) -> bool:
    """``p`` is gone, or a zombie (it ran to its end; its reaper may be slow)."""
    try:
        return not p.is_running() or p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _start(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    return int(data[data.rindex(b")") + 2 :].split()[19])
