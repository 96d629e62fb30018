"""deadlock: two processes take two semaphores in opposite order, and wait for each other."""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "deadlock",
    "Two locks taken in opposite order: deadlock",
    teaches=["T34"],
    description=(
        "left takes lock_a then wants lock_b; right takes lock_b then wants lock_a. Each holds "
        "what the other waits for: a cycle in the wait-for graph, and neither can ever move. "
        "ipcviz finds the cycle, names it, and ends the run (in the TUI, kill a victim). "
        "The run's declared schedule lets each take its first lock before either asks for "
        "its second, so the deadlock happens on every run, not only when the timing is unlucky."
    ),
    params={"hold": 0.3},
    quick={"hold": 0.15},
    limits={"hold": (0, 60)},
    timeout=30,
    schedule="left,right",  # each takes its first lock (one operation each), then free,
    title_ko="두 잠금을 반대 순서로 잡기: 교착 상태",
    description_ko=(
        "left는 lock_a를 잡고 lock_b를 원하고, right는 lock_b를 잡고 lock_a를 원합니다. 각자 "
        "상대가 기다리는 것을 쥐고 있으니, 대기 그래프에 순환이 생기고 둘 다 영원히 움직일 수 "
        "없습니다. ipcviz는 그 순환을 찾아 이름을 붙이고 실행을 끝냅니다(TUI에서는 희생자를 골라 "
        "종료시킵니다). 선언된 스케줄이 둘 다 두 번째 잠금을 요청하기 전에 첫 번째 잠금을 잡게 "
        "하므로, 타이밍이 나쁠 때만이 아니라 매번 교착 상태가 일어납니다."
    ),
)
scenario.step(
    "first",
    "Each process takes its first lock: left holds lock_a, right holds lock_b.",
    "각 프로세스가 첫 번째 잠금을 잡습니다. left는 lock_a를, right는 lock_b를 가집니다.",
    teaches=["T32"],
)
scenario.step(
    "second",
    "Now each asks for the lock the other one holds. sem_wait blocks: the value is 0.",
    "이제 각자 상대가 가진 잠금을 요청합니다. 값이 0이므로 sem_wait에서 잠듭니다.",
    teaches=["T33"],
)
scenario.step(
    "cycle",
    "left waits for right, right waits for left: a cycle. No post will ever come — deadlock.",
    "left는 right를, right는 left를 기다립니다. 순환이 생겼고 post는 영원히 오지 않습니다. "
    "교착 상태입니다.",
    teaches=["T34"],
)
scenario.step(
    "first-any",
    "left takes lock_a, then wants lock_b; right takes lock_b, then wants lock_a. Who goes "
    "when is up to this run's schedule (yours, a seed's or explore's).",
    "left는 lock_a를 잡은 뒤 lock_b를 원하고, right는 lock_b를 잡은 뒤 lock_a를 원합니다. "
    "누가 언제 움직일지는 이 실행의 스케줄(직접 고른 것, 시드, explore)이 정합니다.",
    teaches=["T32"],
)
scenario.step(
    "second-any",
    "left asks for lock_b. If right holds it, left sleeps in sem_wait; if right then asks "
    "for lock_a, each waits for the other: a cycle, a deadlock. Otherwise one gets both "
    "and lets them go.",
    "left가 lock_b를 요청합니다. right가 그것을 가지고 있으면 left는 sem_wait에서 잠듭니다. "
    "그때 right가 lock_a를 요청하면 서로가 서로를 기다리는 순환, 즉 교착 상태가 됩니다. "
    "그렇지 않으면 한쪽이 두 잠금을 모두 얻고 다시 놓아줍니다.",
    teaches=["T33", "T34"],
)
lock_a = scenario.semaphore("lock_a", value=1)
lock_b = scenario.semaphore("lock_b", value=1)


def take_both(ctx, first, second):
    """Take ``first``, pause (for a human to see it), then ``second``. The schedule, not
    the pause, makes sure the other has taken its own first lock by then."""
    declared = ctx.declared_schedule  # its story only when the run follows it
    if ctx.name == "left":
        ctx.step("first" if declared else "first-any")
    first.wait()
    ctx.sleep(ctx.params["hold"])
    if ctx.name == "left":
        if declared:
            ctx.step("second")
            ctx.step("cycle")
        else:
            ctx.step("second-any")
    second.wait()  # never returns while the other holds it
    ctx.report("got_both", True)
    second.post()
    first.post()


@scenario.process("left")
def left(ctx):
    take_both(ctx, lock_a, lock_b)


@scenario.process("right")
def right(ctx):
    take_both(ctx, lock_b, lock_a)


@scenario.check(
    "the deadlock was detected and its cycle named (T34)",
    ko="교착 상태를 찾아 그 순환에 이름을 붙였다 (T34)",
)
def detected(run):
    cycles = run.state.deadlocks
    if not cycles:
        return False, "no deadlock event", "교착 상태 이벤트 없음"
    cycle = cycles[0]
    procs = sorted(c["proc"] for c in cycle)
    objs = sorted(c["waits_for"] for c in cycle)
    ok = procs == ["left", "right"] and objs == ["lock_a", "lock_b"]
    text = "; ".join(
        f"{c['proc']} waits for {c['waits_for']} held by {c['held_by']}" for c in cycle
    )
    return (
        ok,
        text,
        "; ".join(
            f"{c['proc']}은(는) {c['held_by']}이(가) 쥔 {c['waits_for']}을(를) 기다림"
            for c in cycle
        ),
    )


@scenario.check(
    "nobody got both locks while the deadlock stood",
    ko="교착 상태인 동안 두 잠금을 모두 얻은 프로세스는 없었다",
)
def nobody_through(run):
    got = sorted(name for name, r in run.reports.items() if r.get("got_both"))
    if not got:
        return True, "both were stuck until the end", "둘 다 끝까지 멈춰 있었음"
    # The user broke it (k on a victim, as the screen suggests): the survivor then gets
    # the victim's lock back and both locks. Fine, as long as the deadlock came first.
    victims = sorted(n for n, x in run.exits.items() if x.get("signal"))
    broken = run.state.deadlocks and run.state.deadlocks_broken
    ok = bool(broken) and bool(victims) and not set(got) & set(victims)
    return (
        ok,
        f"{', '.join(got)} got both after {', '.join(victims) or 'nobody'} was killed",
        (
            f"{', '.join(victims) or '아무도 안 됨'}이(가) 종료된 뒤 "
            f"{', '.join(got)}이(가) 둘 다 얻었음"
        ),
    )
