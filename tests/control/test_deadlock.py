"""`ipcviz run deadlock --headless`: the cycle is named soon after it forms, and nothing leaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ipcviz, read_trace


def test_deadlock_is_reported_with_its_cycle_within_two_seconds(tmp_path: Path):
    trace = tmp_path / "deadlock.jsonl"
    # forced through the step gate (FORCED, below): not left to the scenario's pauses
    r = ipcviz(
        "run", "deadlock", "--headless", "--record", str(trace), "--schedule", FORCED, timeout=60
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    _, events = read_trace(trace)
    names = {e["pid"]: e["name"] for e in events if e["kind"] == "proc.start"}
    (dead,) = [e for e in events if e["kind"] == "deadlock"]
    cycle = dead["cycle"]
    assert sorted((c["proc"], c["waits_for"], c["held_by"]) for c in cycle) == [
        ("left", "lock_b", "right"),
        ("right", "lock_a", "left"),
    ]
    # it formed when the last process of the cycle started its sem_wait
    cycle_waits = {("left", "lock_b"), ("right", "lock_a")}
    formed = max(
        e["t"]
        for e in events
        if e["kind"] == "sem.wait.begin" and (names[e["pid"]], e["obj"]) in cycle_waits
    )
    assert 0 <= dead["t"] - formed <= 2_000_000_000
    # the headless narrator names it, with the word "deadlock" and the cycle
    line = next(ln for ln in r.stdout.splitlines() if "DEADLOCK" in ln)
    assert "left waits for lock_b, held by right" in line
    assert "right waits for lock_a, held by left" in line
    # then the run ends: both killed, checks pass, objects removed
    kills = [e for e in events if e["kind"] == "control" and e.get("reason") == "deadlock"]
    assert {names[e["target"]] for e in kills} == {"left", "right"}
    assert [e["ok"] for e in events if e["kind"] == "check"] == [True, True]
    assert {e["obj"] for e in events if e["kind"] == "obj.remove"} == {"lock_a", "lock_b"}
    assert events[-1]["kind"] == "session.end" and events[-1]["outcome"] == "passed"
    # (the autouse leak check then proves no semaphore or process is left)


def test_replay_of_a_deadlock_prints_the_same_report(tmp_path: Path):
    trace = tmp_path / "deadlock.jsonl"
    live = ipcviz(
        "run", "deadlock", "--headless", "--quick", "--record", str(trace), "--schedule", FORCED
    )
    assert live.returncode == 0, live.stdout[-2000:]
    replay = ipcviz("replay", str(trace), "--headless")
    assert replay.returncode == 0
    pick = lambda out: [ln for ln in out.splitlines() if "DEADLOCK" in ln]  # noqa: E731
    assert pick(live.stdout) == pick(replay.stdout) != []


#: Forces the deadlock through the step gate, whatever the machine's load: each takes its
#: first lock, then each goes on until it blocks in the kernel (on the other's lock).
FORCED = "left,right,left*,right*"


def test_killing_a_victim_breaks_the_deadlock_and_the_scenario_passes(tmp_path: Path):
    from tests.control.test_step_mode import Live

    # as the TUI runs it: no end on deadlock
    live = Live("deadlock", tmp_path / "t.jsonl", schedule=FORCED)
    try:
        assert live.until(lambda s: s.deadlock is not None)
        left = next(p for p in live.state.procs.values() if p.name == "left")
        live.engine.send("kill", pid=left.pid)
        assert live.until(lambda s: s.outcome is not None) or live.state.outcome
        kinds = [e["kind"] for e in live.events]
        assert kinds.count("deadlock") == 1
        assert "deadlock.recover" in kinds and "deadlock.resolved" in kinds
        assert kinds.index("deadlock") < kinds.index("deadlock.resolved")
        recover = next(e for e in live.events if e["kind"] == "deadlock.recover")
        assert recover["obj"] == "lock_a" and recover["victim"] == left.pid
        # right got lock_a (posted back for the killed left) and finished normally
        right = next(p for p in live.state.procs.values() if p.name == "right")
        assert right.exit_code == 0 and live.state.reports["right"]["got_both"] is True
        assert live.state.deadlock is None  # the banner's source: cleared
        # the scenario accepts the user breaking it: both checks pass
        checks = [
            (e["description"], e["ok"], e["detail"]) for e in live.events if e["kind"] == "check"
        ]
        assert [ok for _, ok, _ in checks] == [True, True], checks
        assert "right got both after left was killed" in checks[1][2]
        assert live.state.outcome == "passed"
    finally:
        live.close()


# -- scenarios in tests/control/scenarios: correct programs and forced deadlocks ---------

SCENARIOS = Path(__file__).parent / "scenarios"
#: Traps the old holder logic: reader1 takes wrt, reader2 (last reader) posts it, the writer
#: takes it and sleeps 0.25 s while reader2 waits on wrt holding mutex and reader1 waits on
#: mutex. Everyone waits, nobody is stuck: the writer will post.
RW_TRAP = "reader1*8,reader2*7,reader1*9,reader2*10,writer*2,reader2*5,reader1,writer*"


def _run(tmp_path: Path, name: str, *extra: str, quick: bool = False):
    trace = tmp_path / f"{name}-{len(list(tmp_path.iterdir()))}.jsonl"
    args = ["run", str(SCENARIOS / f"{name}.py"), "--headless", "--record", str(trace)]
    r = ipcviz(*args, *(["--quick"] if quick else []), *extra, timeout=120)
    _, events = read_trace(trace)
    return r, events


def test_readers_writers_is_never_called_a_deadlock(tmp_path: Path):
    # three free runs (any interleaving the machine gives) and the trap, forced
    for extra in ([], [], [], ["--schedule", RW_TRAP]):
        r, events = _run(tmp_path, "readers_writers", *extra)
        assert "DEADLOCK" not in r.stdout, r.stdout[-3000:]
        assert not [e for e in events if e["kind"].startswith("deadlock")]
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr
        assert [e["ok"] for e in events if e["kind"] == "check"] == [True, True, True]
        if extra:
            _assert_trap_was_set(events)


def _assert_trap_was_set(events: list[dict]) -> None:
    """While the writer held wrt (the last reader had posted it, not the one who took it),
    reader2 slept on wrt and reader1 on mutex: what the old analysis called a cycle."""
    names = {e["pid"]: e["name"] for e in events if e["kind"] == "proc.start"}
    ops = [(names.get(e["pid"]), e["kind"], e.get("obj")) for e in events]
    took = ops.index(("writer", "sem.wait", "wrt"))
    gave = ops.index(("writer", "sem.post", "wrt"))
    assert ops.index(("reader1", "sem.wait", "wrt")) < ops.index(("reader2", "sem.post", "wrt"))
    assert ops.index(("reader2", "sem.post", "wrt")) < took
    during = ops[took:gave]
    assert ("reader2", "sem.wait.begin", "wrt") in during
    assert ("reader1", "sem.wait.begin", "mutex") in during


def test_a_worker_whose_own_child_will_write_is_not_stuck(tmp_path: Path):
    r, events = _run(tmp_path, "forked_helper")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert not [e for e in events if e["kind"].startswith("deadlock")]


def _formed(events: list[dict], kind: str) -> int:
    return max(e["t"] for e in events if e["kind"] == kind)


def test_two_pipes_read_in_a_circle_are_a_deadlock_named_at_once(tmp_path: Path):
    r, events = _run(tmp_path, "pipe_cycle")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    (dead,) = [e for e in events if e["kind"] == "deadlock"]
    line = next(ln for ln in r.stdout.splitlines() if "DEADLOCK" in ln)
    assert "a waits to read p, whose only writer is b" in line
    assert "b waits to read q, whose only writer is a" in line
    # soon after both reads began, not at the run's 60 s timeout
    assert 0 <= dead["t"] - _formed(events, "pipe.read.begin") <= 5_000_000_000
    assert not [e for e in events if e["kind"] == "error"]
    assert events[-1]["outcome"] == "passed"
    # both killed together: neither got through (a dead writer gives EOF to the other)
    assert not [e for e in events if e["kind"] == "report"]


def test_semaphores_starting_at_0_in_a_circle_are_a_deadlock(tmp_path: Path):
    for quick in (False, True):  # POSIX, then System V semaphores
        r, events = _run(tmp_path, "sem_zero_cycle", quick=quick)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr
        (dead,) = [e for e in events if e["kind"] == "deadlock"]
        assert [(c["proc"], c["waits_for"], c["held_by"]) for c in dead["cycle"]] == [
            ("a", "go_a", "b"),
            ("b", "go_b", "a"),
        ]
        assert 0 <= dead["t"] - _formed(events, "sem.wait.begin") <= 5_000_000_000
        assert "a waits for go_a (value 0), which b could post" in r.stdout
        # nothing was "held": no unit is posted back for anyone
        assert not [e for e in events if e["kind"] == "deadlock.recover"]


@pytest.mark.parametrize(
    ("name", "quick", "words"),
    [
        ("queue_cycle", False, "a waits to receive from to_a (empty), which b could send to"),
        ("queue_cycle", True, "b waits to receive from to_b (empty), which a could send to"),
        ("fifo_cycle", False, "a waits for a partner to open f1, as b could"),
    ],
    ids=["posix-mq", "sysv-mq", "fifo-open"],
)
def test_queues_and_fifos_in_a_circle_are_a_deadlock(tmp_path: Path, name, quick, words):
    r, events = _run(tmp_path, name, quick=quick)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    (dead,) = [e for e in events if e["kind"] == "deadlock"]
    assert {c["proc"] for c in dead["cycle"]} == {"a", "b"}
    assert words in r.stdout
    assert [e["ok"] for e in events if e["kind"] == "check"] == [True]
