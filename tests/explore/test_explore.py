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
import tempfile
from pathlib import Path

import pytest

from ipcviz.cli import main
from ipcviz.explore.result import RunResult, Step
from ipcviz.explore.search import compress, switches
from ipcviz.explore.strategies import DFS, PCT
from tests.conftest import ipcviz, read_trace

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


def test_explore_finds_a_lost_update_in_shm_race_and_run_replays_it(tmp_path: Path):
    r = ipcviz("explore", "shm-race", "--set", "increments=2", "--seed", "0", "--budget", "50")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "found in run 2: " in r.stdout and "lost update" in r.stdout
    assert "outcomes:" in r.stdout and "updates lost: counter" in r.stdout  # for the lecture
    schedule = _schedule(r.stdout)
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
    header, events = read_trace(trace)
    assert header["scenario"]["params"]["increments"] == 2
    steps = [e for e in events if e["kind"] == "gate.step"]
    names = {e["pid"]: e["name"] for e in events if e["kind"] == "proc.start"}
    assert compress([names[e["pid"]] for e in steps]) == schedule  # exactly that order
    assert ipcviz("verify", str(trace)).returncode == 0


def test_explore_finds_nothing_in_shm_semaphore_within_the_budget():
    r = ipcviz("explore", "shm-semaphore", "--set", "increments=2", "--budget", "12")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "12 runs in" in r.stdout and "nothing found" in r.stdout
    assert "12 × ok: no update lost" in r.stdout


def test_explore_finds_a_check_then_act_bug_that_needs_a_long_preemption(tmp_path: Path):
    record = tmp_path / "found.jsonl"
    r = ipcviz("explore", CHECK_THEN_ACT, "--budget", "200", "--seed", "3", "--record", str(record))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "found in run 4: check failed: nobody is locked in" in r.stdout
    # the guest looks, the guard does all its 32 operations, then the guest walks in
    assert _schedule(r.stdout) == "guest,guard*32,guest"
    assert _trace(r.stdout) == record and record.exists()
    # several runs at once (--jobs, 2 by default here) give the same search as one by one
    one = ipcviz("explore", CHECK_THEN_ACT, "--seed", "3", "--jobs", "1", "--no-shrink")
    assert one.returncode == 1 and "found in run 4: check failed" in one.stdout, one.stdout

    d = ipcviz("explore", CHECK_THEN_ACT, "--strategy", "dfs", "--depth", "1", "--no-shrink")
    assert d.returncode == 1 and "found in run 2:" in d.stdout, d.stdout
    assert _schedule(d.stdout) == "guest,guard*32,guest"

    again = ipcviz("run", CHECK_THEN_ACT, "--headless", "--schedule", "guest,guard*32,guest")
    assert again.returncode == 1, again.stdout[-2000:]
    assert "guest entered: True, guard saw someone inside: False" in again.stdout


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
        ([str(HERE / "raises.py")], "run 1 of raises failed: RuntimeError: boom"),
    ]:
        assert main(["explore", *args]) == 2, args
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err


def test_compress_and_switches():
    assert compress(["a", "a", "b", "a", "c", "c", "c"]) == "a*2,b,a,c*3"
    assert switches(["a", "a", "b", "a"]) == 2


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
def test_a_signal_mid_search_stops_the_run_and_leaves_nothing(sig: str):
    scratch = lambda: set(Path(tempfile.gettempdir()).glob("ipcviz-explore-*"))  # noqa: E731
    before = scratch()
    # seed 2 finds nothing for a long while: the search is surely still running
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipcviz", "explore", CHECK_THEN_ACT, "--seed", "2"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("  1 runs"):
            break
    proc.send_signal(getattr(signal, sig))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    assert scratch() <= before  # its scratch directory is gone (no_leaks checks the rest)
