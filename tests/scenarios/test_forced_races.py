"""Scenarios that demonstrate a race or a deadlock force it with a declared schedule at the
step gate: it happens on every run, on an idle or a loaded machine, never by luck."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BuiltinTraces, ipcviz, run_scenario
from tests.mechanisms.helpers import by_kind, pids_by_name, run_file


def _scheduled_steps(events: list[dict]) -> list[tuple[str, str]]:
    names = {pid: name for name, pid in pids_by_name(events).items()}
    return [
        (names[e["pid"]], e["op"]) for e in by_kind(events, "gate.step") if e["by"] == "schedule"
    ]


def test_atomicity_flag_lock_is_broken_by_its_schedule_every_run(
    builtin_traces: BuiltinTraces, tmp_path: Path
):
    result, header, events = builtin_traces.copy("atomicity", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert header["schedule_declared"] is True
    # both test the flag, both set it, both mark themselves inside, both look: in that order
    assert _scheduled_steps(events) == [
        (p, op) for op in ("shm.read", "shm.write", "shm.write", "shm.read") for p in ("p1", "p2")
    ]
    reports = {
        (e["pid"], e["key"]): e["value"] for e in by_kind(events, "report") if "inside" in e["key"]
    }
    pids = pids_by_name(events)
    for p in ("p1", "p2"):  # each caught the other inside: forced, not lucky
        assert reports[(pids[p], "naive_both_inside")] >= 1
        assert reports[(pids[p], "sem_both_inside")] == 0
    # then the schedule was used up and the run went on free (it used to stay held)
    off = [e for e in by_kind(events, "control") if e.get("action") == "step_mode"]
    assert [e["on"] for e in off] == [True, False]
    assert all(c["ok"] for c in by_kind(events, "check"))


def test_a_counted_schedule_that_ends_lets_the_run_go_free(tmp_path: Path):
    """A schedule of counted items (no NAME*) used to leave every worker held at its gate
    forever, as if a user were stepping; now the run finishes on its own."""
    source = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("counted", "counted", schedule="w1,w2,w1")
    scenario.step("go", "go", "가")
    cells = scenario.shared_memory("cells", cells=2)


    @scenario.process("w", count=2)
    def work(ctx):
        for _ in range(50):
            cells[ctx.index] = cells[ctx.index] + 1


    @scenario.check("all done")
    def done(run):
        return True
    """
    result, header, events = run_file(tmp_path, "counted", source, "--timeout", "20")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert header["schedule"] == "w1,w2,w1" and header["schedule_declared"] is True
    assert [n for n, _ in _scheduled_steps(events)] == ["w1", "w2", "w1"]
    assert len(by_kind(events, "shm.write")) == 100


def test_the_users_choice_replaces_the_declared_schedule(tmp_path: Path):
    result, header, events = run_scenario("atomicity", tmp_path / "s", "--schedule", "p1*,p2*")
    assert header["schedule"] == "p1*,p2*" and "schedule_declared" not in header
    assert [n for n, _ in _scheduled_steps(events)][:2] == ["p1", "p1"]
    # p1 alone to its end, then p2 alone: the flag works when nobody interleaves (exit 1)
    assert result.returncode == 1, result.stdout[-2000:]
    result, header, events = run_scenario("shm-race", tmp_path / "r", "--seed", "5")
    assert result.returncode == 0 and header["seed"] == 5 and "schedule" not in header
    assert {e["by"] for e in by_kind(events, "gate.step")} == {"seed 5"}


def test_a_bad_declared_schedule_is_one_line_and_exit_2(tmp_path: Path):
    path = tmp_path / "bad.py"
    path.write_text(
        "from ipcviz.scenario import Scenario\n"
        "scenario = Scenario('bad', 'bad', schedule='w,nobody')\n"
        "@scenario.process('w')\n"
        "def w(ctx):\n"
        "    pass\n"
    )
    r = ipcviz("run", str(path), "--headless")
    assert r.returncode == 2 and "Traceback" not in r.stderr + r.stdout
    assert "scenario bad: declared --schedule: no process named nobody" in r.stderr


def test_deadlock_is_forced_by_its_schedule(builtin_traces: BuiltinTraces, tmp_path: Path):
    result, header, events = builtin_traces.copy("deadlock", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert header["schedule"] == "left,right" and header["schedule_declared"] is True
    assert [n for n, _ in _scheduled_steps(events)] == ["left", "right"]
    assert len(by_kind(events, "deadlock")) == 1


NO_PAUSE = """
from ipcviz.scenario import Scenario

scenario = Scenario("no-pause", "deadlock without a pause", schedule="left,right")
scenario.step("go", "go", "가")
lock_a = scenario.semaphore("lock_a", value=1)
lock_b = scenario.semaphore("lock_b", value=1)


def take_both(ctx, first, second):
    first.wait()
    second.wait()  # no pause before: without the schedule, one would usually get both
    ctx.report("got_both", True)
    second.post()
    first.post()


@scenario.process("left")
def left(ctx):
    take_both(ctx, lock_a, lock_b)


@scenario.process("right")
def right(ctx):
    take_both(ctx, lock_b, lock_a)


@scenario.check("deadlocked")
def dead(run):
    return bool(run.state.deadlocks)
"""


def test_without_any_pause_the_schedule_still_deadlocks_every_time(tmp_path: Path):
    for i in range(3):
        (tmp_path / str(i)).mkdir()
        result, _, events = run_file(tmp_path / str(i), "no_pause", NO_PAUSE, "--timeout", "20")
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr
        assert by_kind(events, "deadlock") and not any(
            e["key"] == "got_both" for e in by_kind(events, "report")
        )


def test_producer_consumer_both_waits_are_forced(builtin_traces: BuiltinTraces, tmp_path: Path):
    result, header, events = builtin_traces.copy("producer-consumer", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert header["schedule"] == "consumer1,producer1*"
    steps = _scheduled_steps(events)
    assert steps[0] == ("consumer1", "sem.trywait")  # nothing to take yet: it will block
    assert {n for n, _ in steps[1:]} == {"producer1"}
    assert steps[-1] == ("producer1", "sem.wait")  # every cell full: this one sleeps
    pids = pids_by_name(events)
    blocked = {e["pid"]: e["value"] for e in by_kind(events, "report") if e["key"] == "blocked"}
    assert blocked[pids["consumer1"]] >= 1 and blocked[pids["producer1"]] >= 1


def _report(events: list[dict], name: str, key: str):
    pid = pids_by_name(events)[name]
    return next(
        e["value"] for e in by_kind(events, "report") if e["pid"] == pid and e["key"] == key
    )


def test_mq_priority_waits_for_kernel_proof_not_a_head_start(
    builtin_traces: BuiltinTraces, tmp_path: Path
):
    result, _, events = builtin_traces.copy("mq-priority", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "poll" in _report(events, "sender", "receiver_wchan")
    assert "wq_sleep" in _report(events, "receiver", "sender_wchan")
    prios = [p for _, p in _report(events, "receiver", "received")]
    assert prios == [5, 5, 3, 2, 1, 0]


def test_mq_async_sends_only_after_the_receiver_registered(
    builtin_traces: BuiltinTraces, tmp_path: Path
):
    result, _, events = builtin_traces.copy("mq-async", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert _report(events, "sender", "receiver_registered") is True
    assert _report(events, "receiver", "notifications") >= 1
