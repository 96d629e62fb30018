"""`ipcviz run deadlock --headless`: the cycle is named soon after it forms, and nothing leaks."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ipcviz, read_trace


def test_deadlock_is_reported_with_its_cycle_within_two_seconds(tmp_path: Path):
    trace = tmp_path / "deadlock.jsonl"
    r = ipcviz("run", "deadlock", "--headless", "--record", str(trace), timeout=60)
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
    live = ipcviz("run", "deadlock", "--headless", "--quick", "--record", str(trace))
    assert live.returncode == 0, live.stdout[-2000:]
    replay = ipcviz("replay", str(trace), "--headless")
    assert replay.returncode == 0
    pick = lambda out: [ln for ln in out.splitlines() if "DEADLOCK" in ln]  # noqa: E731
    assert pick(live.stdout) == pick(replay.stdout) != []


def test_killing_a_victim_breaks_the_deadlock_and_the_run_goes_on(tmp_path: Path):
    from tests.control.test_step_mode import Live

    live = Live("deadlock", tmp_path / "t.jsonl", extra=[])  # as the TUI: no end on deadlock
    try:
        assert live.until(lambda s: bool(s.extra.get("deadlock")))
        left = next(p for p in live.state.procs.values() if p.name == "left")
        live.engine.send("kill", pid=left.pid)
        assert live.until(lambda s: s.outcome is not None) or live.state.outcome
        kinds = [e["kind"] for e in live.events]
        assert "deadlock.recover" in kinds and "deadlock.resolved" in kinds
        recover = next(e for e in live.events if e["kind"] == "deadlock.recover")
        assert recover["obj"] == "lock_a" and recover["victim"] == left.pid
        # right got lock_a (posted back for the killed left) and finished normally
        right = next(p for p in live.state.procs.values() if p.name == "right")
        assert right.exit_code == 0 and live.state.reports["right"]["got_both"] is True
        assert live.state.outcome == "failed"  # the scenario's claim "neither got both" is false
    finally:
        live.close()
