"""A System V semaphore set in a Python scenario: several semaphores in one atomic semop,
recorded as the strace path records a C program's (the later parts ``joined``)."""

from __future__ import annotations

import json
import os
import signal
from itertools import pairwise
from pathlib import Path
from typing import Any

from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.scenario.loader import load_builtins
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import LiveFeed
from ipcviz.tui.widgets.panels import Checks, EventLog, ObjectsPanel
from tests.conftest import BuiltinTraces, ipcviz
from tests.faults.harness import LiveRun, ipcviz_clean, kernel_objects_left, waiting_scenario
from tests.mechanisms.helpers import by_kind, run_file
from tests.tui.helpers import settle

#: ``waiter`` sleeps in one semop on s-0 (free) and s-2 (at 0); ``giver``, once the kernel
#: shows it asleep, reads s-0 (still 1: a semop takes nothing until it can take all), fails
#: a try on the same pair and one on s-2, then in one call posts s-2 and takes s-1.
SET_SCENARIO = """
from ipcviz.scenario import Scenario

scenario = Scenario("set-api", "a set of three")
s = scenario.sysv_semaphore_set("s", values=[1, 1, 0])


@scenario.process("waiter")
def waiter(ctx):
    s.op({0: -1, 2: -1})
    s.give(0)


@scenario.process("giver")
def giver(ctx):
    ctx.report("wchan", ctx.wait_for_wchan(ctx.pid_of("waiter"), "semtimedop", 60))
    ctx.report("s0 while it sleeps", s[0].value)
    ctx.report("try both", s.op({0: -1, 2: -1}, nowait=True))  # (not recorded: see op)
    ctx.report("try one", s.op({2: -1}, nowait=True))
    s.op([(2, 1), (1, -1)])
    s[1].post()


@scenario.check("the model's values are the kernel's (semctl GETVAL at the end)")
def same(run):
    objs = [run.state.objects[f"s-{i}"] for i in range(3)]
    model = [o.value for o in objs]
    kernel = [o.kernel.get("value") for o in objs]
    return model == kernel == [1, 1, 0], f"model {model}, kernel {kernel}"
"""


def _semop_parts(events: list[dict[str, Any]]) -> list[list[tuple[str, str]]]:
    """The semaphore operations as calls: each a list of (kind, obj), joined parts together."""
    calls: list[list[tuple[str, str]]] = []
    for e in events:
        if e["kind"] in ("sem.wait", "sem.post", "sem.trywait"):
            part = (e["kind"], e["obj"])
            if e.get("joined"):
                calls[-1].append(part)
            else:
                calls.append([part])
    return calls


def test_one_semop_on_a_set_is_one_call_and_the_kernel_agrees(tmp_path: Path) -> None:
    result, _header, events = run_file(tmp_path, "set_api", SET_SCENARIO)
    assert result.returncode == 0, result.stdout[-3000:]
    checks = by_kind(events, "check")
    assert checks and all(c["ok"] for c in checks), checks
    reports = {e["key"]: e["value"] for e in by_kind(events, "report")}
    assert "semtimedop" in reports["wchan"], reports
    assert reports["s0 while it sleeps"] == 1  # asleep, it holds nothing of the set
    assert reports["try both"] is reports["try one"] is False
    # one set (one semid), three objects
    decls = {e["obj"]: e for e in by_kind(events, "obj.declare")}
    assert len({decls[f"s-{i}"]["id"] for i in range(3)}) == 1
    # each call's later parts are joined to its first, right after it, same process
    for before, part in pairwise(events):
        if part.get("joined"):
            assert before["kind"].startswith("sem.") and before["pid"] == part["pid"], part
    by_pid = {e["name"]: e["pid"] for e in by_kind(events, "proc.start")}
    waiter = [e for e in events if e.get("pid") == by_pid["waiter"]]
    giver = [e for e in events if e.get("pid") == by_pid["giver"]]
    assert _semop_parts(waiter) == [
        [("sem.wait", "s-0"), ("sem.wait", "s-2")],
        [("sem.post", "s-0")],
    ]
    assert _semop_parts(giver) == [
        [("sem.trywait", "s-2")],
        [("sem.post", "s-2"), ("sem.wait", "s-1")],
        [("sem.post", "s-1")],
    ]
    verify = ipcviz("verify", str(tmp_path / "set_api.jsonl"))
    assert verify.returncode == 0 and "legal history" in verify.stdout, verify.stdout


def test_philosophers_eat_take_both_forks_at_once_and_never_deadlock(
    builtin_traces: BuiltinTraces, tmp_path: Path
) -> None:
    """The built-in scenario (--quick: no pause, the most contention for its size): its
    checks pass, the history is legal, and in the recorded order no philosopher ever held a
    fork while one of its own waits was pending, and every fork was taken with its pair in
    one call. (More meals without a pause: see the report of order.conflict there.)"""
    result, header, events = builtin_traces.copy("philosophers", tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    verify = ipcviz("verify", str(tmp_path / "philosophers.jsonl"))
    assert verify.returncode == 0 and "legal history" in verify.stdout, verify.stdout
    assert not [e for e in events if e["kind"] in ("deadlock", "order.conflict", "drift")]
    meals = header["scenario"]["params"]["meals"]
    state = State(header=header)
    for e in events:
        apply(state, e)
        forks = [o for o in state.objects.values() if isinstance(o, SemObj)]
        for p in state.procs.values():
            if p.op == "sem.wait":  # asleep (or about to be) in its semop: holds nothing
                held = {o.name: o.holders[p.pid] for o in forks if o.holders[p.pid]}
                assert not held, (p.name, held, e)
    by_pid = {e["pid"]: e["name"] for e in by_kind(events, "proc.start")}
    for pid, name in by_pid.items():
        calls = _semop_parts([e for e in events if e.get("pid") == pid])
        seat = int(name.removeprefix("phil")) - 1
        pair = {f"fork{seat}", f"fork{(seat + 1) % 5}"}
        assert len(calls) == 2 * meals, (name, len(calls))
        assert all({obj for _kind, obj in call} == pair and len(call) == 2 for call in calls)


def test_clean_removes_a_killed_sessions_semaphore_set(tmp_path: Path) -> None:
    """Engine and viewer SIGKILLed: nobody removes the set; ``ipcviz clean`` finds it by
    the key registered before semget (one entry for the set's three objects)."""
    scenario = waiting_scenario(tmp_path, "scenario.sysv_semaphore_set('s', values=[1, 0, 2])\n")
    run = LiveRun(tmp_path, scenario)
    try:
        run.wait_ready()
        workers = run.worker_pids()
        run.kill_engine_and_viewer()
        for pid in workers.values():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, events = run.events()
        ident = next(e for e in by_kind(events, "obj.declare") if e["obj"] == "s-0")["id"]
        assert kernel_objects_left(events) == [f"sysv_sem id {ident}"] * 3
        cleaned = ipcviz_clean()
        assert kernel_objects_left(events) == [], cleaned
        assert not run.leaks(tuple(workers.values())), cleaned
    finally:
        run.kill_everything()


async def test_philosophers_in_the_tui(tmp_path: Path) -> None:
    """A live run on the session screen: five forks drawn as System V semaphores, the log
    tells the second fork as taken in the same semop, no check failed."""
    source = Path(next(s.source for s in load_builtins() if s.id == "philosophers"))
    app = IpcvizApp(lambda: LiveFeed(source, tmp_path / "live.jsonl", quick=True))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await settle(pilot, timeout=60)
        views = screen.query_one(ObjectsPanel).views
        text = "\n".join(line for i in range(5) for line in views[f"fork{i}"].plain_lines())
        log = screen.query_one(EventLog)
        said = ["".join(s.text for s in log.formatter.line(e, 200)) for e in log.entries]
        shown = screen.query_one(Checks).render()
        checks = getattr(shown, "plain", str(shown))
        screen.stop()
    assert text.count("sysv_sem") == 5, text
    assert any("took fork1" in line and "in the same semop" in line for line in said), said
    assert "✗" not in checks and "✓" in checks, checks


def test_philosophers_in_every_export_and_in_korean(tmp_path: Path) -> None:
    """Perfetto keeps each part's ``joined`` and the call's interval; the SVG and HTML
    handouts draw the forks; the Korean replay tells the joined part and the steps."""
    trace = tmp_path / "philosophers.jsonl"
    run = ipcviz("run", "philosophers", "--headless", "--quick", "--record", str(trace))
    assert run.returncode == 0, run.stdout[-2000:]
    out = tmp_path / "out.perfetto"
    ipcviz("export", "--format", "perfetto", "-o", str(out), str(trace), check=True)
    slices = [e for e in json.loads(out.read_text())["traceEvents"] if e.get("cat") == "sem"]
    for first, part in pairwise(slices):
        if part["args"].get("joined") and part["name"].startswith("sem.wait"):
            assert first["pid"] == part["pid"] and first["ts"] == part["ts"], (first, part)
            assert first["dur"] == part["dur"], (first, part)
    assert sum(1 for e in slices if e["args"].get("joined")) == 2 * 5 * 5  # --quick: 5 meals
    for fmt in ("svg", "html"):
        out = tmp_path / f"out.{fmt}"
        ipcviz("export", "--format", fmt, "-o", str(out), str(trace), check=True)
        files = sorted(out.iterdir()) if out.is_dir() else [out]
        assert any("fork4" in f.read_text() for f in files), fmt
    korean = ipcviz("replay", str(trace), "--headless", "--lang", "ko").stdout
    assert "fork1 얻음 (현재 값 0), 같은 semop 호출 안에서: 같은 순간에" in korean, korean[-2000:]
    assert "아무것도 쥐지 않은 채 semop에서 잠들고" in korean


def test_hold_and_wait_is_noted_in_two_calls_and_never_in_one(
    builtin_traces: BuiltinTraces, tmp_path: Path
) -> None:
    """The model notes a semaphore held while its process waits for another (T34's hold
    and wait): in ``deadlock`` (one lock, then a second call for the other) both processes
    do; in one semop on two (a joined part) nobody does."""
    _result, header, events = builtin_traces.copy("deadlock", tmp_path)
    state = State(header=header)
    for e in events:
        apply(state, e)
    pids = {p.name: pid for pid, p in state.procs.items()}
    assert state.objects["lock_b"].hold_and_wait == {pids["left"]: "lock_a"}
    assert state.objects["lock_a"].hold_and_wait == {pids["right"]: "lock_b"}
    state = State()
    for seq, e in enumerate(
        [
            {"kind": "obj.declare", "obj": "s-0", "type": "sysv_sem", "value": 1},
            {"kind": "obj.declare", "obj": "s-1", "type": "sysv_sem", "value": 1},
            {"kind": "proc.start", "pid": 7, "name": "w"},
            {"kind": "sem.wait.begin", "pid": 7, "obj": "s-0"},
            {"kind": "sem.wait", "pid": 7, "obj": "s-0"},
            {"kind": "sem.wait", "pid": 7, "obj": "s-1", "joined": 1},
        ]
    ):
        apply(state, {"t": seq, "seq": seq, "pid": 0, **e})
    assert not state.objects["s-0"].hold_and_wait and not state.objects["s-1"].hold_and_wait
    assert state.objects["s-0"].holders == {7: 1} and state.objects["s-1"].holders == {7: 1}


def test_philosophers_without_a_pause_are_never_accused(tmp_path: Path) -> None:
    """300 meals each, no pause: the linearizer orders thousands of two-part calls
    greedily; placing a take before a post another call needed accused the program
    (order.conflict in 5 of 8 runs before the post-first rule, in 0 of 20 after)."""
    trace = tmp_path / "philosophers.jsonl"
    result = ipcviz(
        "run", "philosophers", "--headless", "--set", "meals=300", "--set", "eat=0.0",
        "--record", str(trace), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert '"kind":"order.conflict"' not in trace.read_text()
    verify = ipcviz("verify", str(trace))
    assert verify.returncode == 0 and "legal history" in verify.stdout, verify.stdout


#: Two members of one set taken one by one in opposite order: a real deadlock, which the
#: kernel shows only as two sleepers in semop on the set's id.
SET_DEADLOCK = """
from ipcviz.scenario import Scenario

scenario = Scenario("set-deadlock", "two members", schedule="left,right", timeout=20)
s = scenario.sysv_semaphore_set("s", values=[1, 1])


@scenario.process("left")
def left(ctx):
    s[0].wait()
    s[1].wait()


@scenario.process("right")
def right(ctx):
    s[1].wait()
    s[0].wait()


@scenario.check("the deadlock was found")
def found(run):
    return bool(run.state.deadlocks), str(run.state.deadlocks)
"""


def test_a_deadlock_on_two_members_of_one_set_is_found(tmp_path: Path) -> None:
    """The declared schedule has each take its first semaphore before either asks for
    its second. Without the model's ``on`` for a set's member, the watcher knew neither
    wait and the run ran into its time-out."""
    result, _header, events = run_file(tmp_path, "set_deadlock", SET_DEADLOCK, timeout=90)
    assert result.returncode == 0, result.stdout[-3000:]
    (cycle,) = [e["cycle"] for e in by_kind(events, "deadlock")]
    assert sorted((c["proc"], c["waits_for"], c["held_by"]) for c in cycle) == [
        ("left", "s-1", "right"),
        ("right", "s-0", "left"),
    ]


#: Each takes one semaphore alone, then asks in one semop for a free one (s-2) first and
#: the other's second: asleep on the other's, which the kernel counts (semncnt), not on
#: s-2, the one its begin names first.
SET_DEADLOCK_SECOND = """
from ipcviz.scenario import Scenario

scenario = Scenario("set-deadlock-2", "free first", schedule="left,right", timeout=20)
s = scenario.sysv_semaphore_set("s", values=[1, 1, 1])


@scenario.process("left")
def left(ctx):
    s[0].wait()
    s.op({2: -1, 1: -1})


@scenario.process("right")
def right(ctx):
    s[1].wait()
    s.op({2: -1, 0: -1})


@scenario.check("the deadlock was found")
def found(run):
    return bool(run.state.deadlocks), str(run.state.deadlocks)
"""


def test_a_deadlock_on_the_second_semaphore_of_one_semop_is_found(tmp_path: Path) -> None:
    """The watcher took the member the begin named (s-2, free: no obstacle, no edge) and
    never saw the cycle; the run ran into its time-out. It now takes the one the model
    counts the sleeper on, as the kernel does: the first too low."""
    result, _header, events = run_file(tmp_path, "set_deadlock_2", SET_DEADLOCK_SECOND, timeout=90)
    assert result.returncode == 0, result.stdout[-3000:]
    (cycle,) = [e["cycle"] for e in by_kind(events, "deadlock")]
    assert sorted((c["proc"], c["waits_for"], c["held_by"]) for c in cycle) == [
        ("left", "s-1", "right"),
        ("right", "s-0", "left"),
    ]
