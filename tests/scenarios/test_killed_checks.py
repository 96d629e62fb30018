"""A worker killed mid-run (``k``): the checks count what the trace shows it did, or say
they cannot decide. Never a ✗ for a correct program. Driven through the step gate, so
where the kill lands is declared, not left to timing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ipcviz.model.state import State
from ipcviz.tui.widgets.panels import Checks
from tests.conftest import ipcviz, run_scenario
from tests.control.test_step_mode import Live


def _proc(live: Live, name: str) -> Any:
    return next(p for p in live.state.procs.values() if p.name == name)


def _step_until(live: Live, name: str, done) -> None:
    """Step ``name`` one operation at a time until ``done(state)``, each step back at its
    next gate (its operation's event in) before the next."""
    p = _proc(live, name)
    while not done(live.state):
        assert live.until(lambda s: p.gated_op is not None)
        steps = live.state.kinds.get("gate.step", 0)
        live.engine.send("step", pid=p.pid)
        assert live.until(
            lambda s, k=steps + 1: s.kinds.get("gate.step", 0) == k and p.gated_op is not None
        )


def _checks(live: Live) -> list[dict[str, Any]]:
    return [e for e in live.events if e["kind"] == "check"]


def _kill_then_go(live: Live, name: str) -> None:
    """``k`` on ``name``, then step mode off: the others go on."""
    live.engine.send("kill", pid=_proc(live, name).pid)
    assert live.until(lambda s: bool(s.killed))
    live.engine.send("step_mode", on=False)


def test_shm_semaphore_counts_the_increments_a_killed_worker_made(tmp_path: Path):
    """nu2: k on a worker, then g: "✗ no update lost: counter 2002, increments 2000". The
    killed worker's two increments are in the counter and in the trace, not in a report."""
    live = Live("shm-semaphore", tmp_path / "t.jsonl")
    try:
        assert live.until(lambda s: "counter" in s.objects and len(live.gated(s)) == 3)
        # inc1's second write done, its post not yet: it dies holding the lock (as nu2's)
        _step_until(live, "inc1", lambda s: s.objects["counter"].writes == 2)
        assert _proc(live, "inc1").gated_op == "sem.post"
        _kill_then_go(live, "inc1")
        # the others sleep on the lock nobody can post: g posts it on inc1's behalf
        assert live.until(lambda s: "mutex" in s.holders_died)
        live.engine.send("recover")
        assert live.until(lambda s: s.outcome is not None)
        none_lost = next(c for c in _checks(live) if "no update lost" in c["description"])
        increments = live.state.header["scenario"]["params"]["increments"]
        total = 2 * increments + 2
        assert none_lost["ok"], none_lost
        assert f"counter {total}, increments {total}" in none_lost["detail"]
        assert f"{2 * increments} by the workers that finished, 2 by inc1" in none_lost["detail"]
        released = next(c for c in _checks(live) if "semaphore ends" in c["description"])
        assert released["ok"] and released["detail"] == "value 1, no holder", released
        assert live.state.outcome == "passed"
    finally:
        live.close()


def test_a_check_that_fails_after_a_kill_says_it_cannot_decide(tmp_path: Path):
    """pipe-basic with its writer killed after one message: "every message arrived" cannot
    hold, and the program is not at fault (the reader reads EOF and ends well). The check
    is undecided (no ✗), the run is not FAILED, and the detail names who was killed."""
    live = Live("pipe-basic", tmp_path / "t.jsonl")
    try:
        assert live.until(lambda s: "p" in s.objects and len(live.gated(s)) == 2)
        _step_until(live, "parent", lambda s: s.objects["p"].writes >= 1)
        _kill_then_go(live, "parent")
        assert live.until(lambda s: s.outcome is not None)
        checks = _checks(live)
        arrived = next(c for c in checks if "every message arrived" in c["description"])
        assert not arrived["ok"] and arrived.get("undecided") is True, arrived
        assert arrived["detail"].startswith("cannot decide: parent killed before the end")
        assert arrived["detail_ko"].startswith("판정할 수 없음")
        assert all(c["ok"] or c.get("undecided") for c in checks), checks
        state: State = live.state
        assert state.outcome == "undecided" and state.exit_code == 1, state.errors
        assert all(c.undecided for c in state.checks if not c.ok)
    finally:
        live.close()
    # the headless log and the panel: ?, never ✗, in English and Korean
    out = ipcviz("replay", str(tmp_path / "t.jsonl"), "--headless").stdout
    assert "check ? every message arrived" in out and "✗" not in out, out[-1500:]
    assert "UNDECIDED" in out
    ko = ipcviz("replay", str(tmp_path / "t.jsonl"), "--headless", "--lang", "ko").stdout
    assert "? 모든 메시지가" in ko and "판정할 수 없음" in ko and "판정 불가" in ko, ko[-1500:]
    panel = Checks.brief_line(state).plain
    assert "? 1" in panel and "✗" not in panel, panel


#: A check that reads a report its killed worker never made (a KeyError): after a kill
#: that is the kill's doing, not a bug of the scenario (exit 2) to put before a class.
FRAGILE = """
from ipcviz.scenario import Scenario, Undecided

scenario = Scenario("fragile", "a check that needs both reports")
p = scenario.pipe("p", writer="b", reader="a")


@scenario.process("a")
def a(ctx):
    ctx.report("got", p.read(1).decode())


@scenario.process("b")
def b(ctx):
    p.write(b"x")
    ctx.report("sent", "x")


@scenario.check("a got what b sent")
def got(run):
    return run.reports["a"]["got"] == run.reports["b"]["sent"]


@scenario.check("b did its part")
def part(run):
    if "b" in run.killed:  # the check's own words for it
        return Undecided("b was killed: its part is unknown", "b가 강제 종료됨: 알 수 없음")
    return True
"""


def test_a_check_that_raises_after_a_kill_is_undecided_not_an_error(tmp_path: Path):
    path = tmp_path / "fragile.py"
    path.write_text(FRAGILE)
    live = Live(str(path), tmp_path / "t.jsonl")
    try:
        assert live.until(lambda s: len(live.gated(s)) == 2)  # b before its write
        _kill_then_go(live, "b")
        assert live.until(lambda s: s.outcome is not None)
        check, part = _checks(live)
        assert check.get("undecided") is True and not check["ok"], check
        assert check["detail"].startswith("cannot decide: b killed before the end"), check
        assert "KeyError" in check["detail"]  # what it saw, still said
        assert part.get("undecided") is True and not part["ok"], part
        assert part["detail"] == "b was killed: its part is unknown"
        assert part["detail_ko"] == "b가 강제 종료됨: 알 수 없음"
        assert live.state.outcome == "undecided" and not live.state.errors
    finally:
        live.close()


#: Two signals each waited for before it is sent: a deadlock on every run, whatever the
#: timing. The watcher ends it by killing both; the program's claim did fail.
DEADLOCKS = """
from ipcviz.scenario import Scenario

scenario = Scenario("deadlocks", "a program that deadlocks")
go_a = scenario.semaphore("go_a", value=0)
go_b = scenario.semaphore("go_b", value=0)


@scenario.process("a")
def a(ctx):
    go_a.wait()
    go_b.post()
    ctx.report("through", True)


@scenario.process("b")
def b(ctx):
    go_b.wait()
    go_a.post()
    ctx.report("through", True)


@scenario.check("both got through")
def through(run):
    return all(run.report(n, "through") for n in "ab")
"""


def test_the_deadlock_watcher_s_kills_leave_a_failed_check_failed(tmp_path: Path):
    """Only the user's kills make a check undecided: the deadlock watcher kills only a
    program that deadlocked, and a check that says its claim failed then is right."""
    path = tmp_path / "deadlocks.py"
    path.write_text(DEADLOCKS)
    result, _, events = run_scenario(str(path), tmp_path)
    kills = [e for e in events if e["kind"] == "control" and e.get("action") == "kill"]
    assert {k.get("reason") for k in kills} == {"deadlock"}, kills
    (check,) = [e for e in events if e["kind"] == "check"]
    assert not check["ok"] and "undecided" not in check, check
    assert events[-1]["outcome"] == "failed" and result.returncode == 1


def test_a_challenge_is_not_won_by_killing_a_worker():
    """A bug challenge is won when a check fails: an undecided one (a worker the student
    killed with k) found no bug."""
    from ipcviz.explore.goals import Goal
    from ipcviz.model.state import Check
    from ipcviz.tui.screens.challenge import goal_status

    state = State()
    state.checks = [Check("every message arrived", False, "cannot decide", undecided=True)]
    assert goal_status(Goal("bug", "find a bug"), state) is None
    state.checks.append(Check("no update lost", False, "counter 5, increments 6"))
    assert "no update lost" in str(goal_status(Goal("bug", "find a bug"), state))


def test_shm_race_counts_the_increments_of_a_killed_worker(tmp_path: Path):
    """The same flaw in shm-race: its check summed the reports, so after a k the killed
    worker's increments made the counter look longer than the increments ("short by -1:
    events out of order?"). Stepped: inc1 and inc3 read the same value, both write (one
    update lost for sure), then inc1 is killed."""
    from tests.control.test_step_mode import step_in_order

    live = Live("shm-race", tmp_path / "t.jsonl")
    try:
        assert live.until(lambda s: "counter" in s.objects and len(live.gated(s)) == 3)
        step_in_order(live, "1313")
        _kill_then_go(live, "inc1")  # at its gate before its next read: it holds nothing
        assert live.until(lambda s: s.outcome is not None)
        (check,) = _checks(live)
        increments = live.state.header["scenario"]["params"]["increments"]
        total = 2 * increments + 1  # inc2, inc3 finished; inc1 wrote once
        assert check["ok"], check
        # inc2 and inc3 then race freely (no lock): they may lose more, on their own
        said = re.fullmatch(r"(\d+) updates lost: counter (\d+), increments (\d+)", check["detail"])
        assert said, check
        lost, final, increments_seen = map(int, said.groups())
        assert increments_seen == total and lost == total - final >= 1, check
    finally:
        live.close()
