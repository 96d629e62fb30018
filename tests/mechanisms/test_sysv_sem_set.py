"""A System V semaphore set in a Python scenario: several semaphores in one atomic semop,
recorded as the strace path records a C program's (the later parts ``joined``)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

from tests.conftest import ipcviz
from tests.mechanisms.helpers import by_kind, run_file

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
