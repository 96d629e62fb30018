"""c/two-locks: two_locks.c under strace — two locks taken in opposite order: a deadlock.

Each step is said when strace shows its event (see ipcviz/sources/strace/cscenario.py);
the checks read the recorded events and the deadlock ipcviz proved from the kernel.

The program forces the deadlock itself, never by timing: each child takes its first lock,
then the two meet at a handshake (a byte through a pipe each way) before either asks for
its second. Ending it: run headless, ipcviz kills one process of the cycle once it has
proven the deadlock (on the screen, ``k`` on a process does the same). The locks are
taken with SEM_UNDO, so the kernel gives the victim's lock back; the other child gets
both, the parent reaps both and removes the set itself. ipcviz removes nothing.
"""

from ipcviz.sources.strace.cscenario import ProgramScenario, of, root

scenario = ProgramScenario(
    "c/two-locks",
    "C: two locks taken in opposite order — a deadlock, proven and broken",
    example="c/two-locks",
    teaches=["T32", "T33", "T34"],
    description=(
        "two_locks.c: one System V set of two semaphores at 1: lock 0 and lock 1. Child A "
        "takes lock 0, child B lock 1; they meet at a handshake (a byte through a pipe each "
        "way), so each holds its first lock before either asks for its second: A asks for "
        "lock 1, B for lock 0. Each sleeps in semop on the lock the other holds: a cycle, a "
        "deadlock on every run. ipcviz proves it from the kernel (both asleep, nobody can "
        "wake them) and names the cycle; headless it kills one of them (k on the screen). "
        "SEM_UNDO gives the victim's lock back, the other finishes, the parent removes the "
        "set. Watched through strace: every call is real."
    ),
    timeout=60,
    title_ko="C: 두 잠금을 반대 순서로 잡기 — 증명되고 풀리는 교착 상태",
    description_ko=(
        "two_locks.c: 값이 1인 세마포어 두 개짜리 System V 집합 하나: 잠금 0과 잠금 1. 자식 A는 "
        "잠금 0을, 자식 B는 잠금 1을 잡습니다. 둘은 핸드셰이크(방향마다 파이프로 1바이트)에서 "
        "만나므로, 둘 다 두 번째 잠금을 요청하기 전에 첫 번째 잠금을 쥡니다. A는 잠금 1을, B는 "
        "잠금 0을 요청합니다. 각자 상대가 쥔 잠금을 기다리며 semop에서 잠듭니다. 순환이 생겨 매번 "
        "교착 상태가 됩니다. ipcviz는 커널로 이를 증명하고(둘 다 잠들었고 아무도 깨울 수 없음) "
        "순환에 이름을 붙입니다. 헤드리스에서는 둘 중 하나를 종료시킵니다(화면에서는 k). "
        "SEM_UNDO가 희생자의 잠금을 돌려주면 다른 쪽이 끝나고, 부모가 집합을 제거합니다. strace로 "
        "지켜보므로 모든 호출이 실제입니다."
    ),
)


def _children(events):
    parent = root(events)
    return {e["pid"] for e in of(events, "proc.start") if e["pid"] != parent}


def _firsts(events):
    """pid → the lock it took first (its first sem.wait), for the children."""
    kids = _children(events)
    out = {}
    for e in of(events, "sem.wait"):
        if e["pid"] in kids:
            out.setdefault(e["pid"], e["obj"])
    return out


def _asks_other(events):
    """Each child has begun waiting for the lock the other took first."""
    firsts = _firsts(events)
    if len(firsts) != 2 or len(set(firsts.values())) != 2:
        return False
    (a, lock_a), (b, lock_b) = sorted(firsts.items())
    begun = {(e["pid"], e["obj"]) for e in of(events, "sem.wait.begin")}
    return (a, lock_b) in begun and (b, lock_a) in begun


def _victims(events):
    kids = _children(events)
    return [e for e in of(events, "proc.exit") if e["pid"] in kids and e.get("signal")]


scenario.step(
    "locks",
    "semget made a set of two System V semaphores, and semctl set each to 1: two locks, "
    "lock 0 and lock 1.",
    "semget이 System V 세마포어 두 개짜리 집합을 만들었고 semctl이 각각을 1로 정했습니다. "
    "잠금 두 개, 잠금 0과 잠금 1입니다.",
    teaches=["T32"],
    when=lambda ev: len(of(ev, "obj.declare", type="sysv_sem", value=1)) >= 2,
)
scenario.step(
    "first",
    "Each child took its first lock: A holds lock 0, B holds lock 1 (semop -1 at value 1).",
    "각 자식이 첫 번째 잠금을 잡았습니다. A는 잠금 0을, B는 잠금 1을 가집니다(값 1에서 semop -1).",
    teaches=["T33"],
    when=lambda ev: len(set(_firsts(ev).values())) == 2,
)
scenario.step(
    "second",
    "After the handshake, each asked for the lock the other holds. Its value was 0: semop "
    "put both to sleep. A waits for B, B waits for A: a cycle, a deadlock.",
    "핸드셰이크 뒤에 각자 상대가 가진 잠금을 요청했습니다. 값이 0이어서 semop이 둘 다 "
    "재웠습니다. A는 B를, B는 A를 기다립니다. 순환, 곧 교착 상태입니다.",
    teaches=["T34"],
    when=_asks_other,
)
scenario.step(
    "victim",
    "ipcviz proved from the kernel that neither could ever move, and one was killed to "
    "break the cycle. It held its lock with SEM_UNDO: as it died, the kernel gave it back.",
    "ipcviz가 커널을 보고 둘 다 영원히 움직일 수 없음을 증명했고, 순환을 끊으려고 하나를 "
    "종료했습니다. 그 프로세스는 SEM_UNDO로 잠금을 잡았으므로 죽을 때 커널이 잠금을 "
    "돌려주었습니다.",
    teaches=["T34"],
    when=lambda ev: bool(_victims(ev)),
)
scenario.step(
    "through",
    "The other child got both locks and let them go; the parent reaped both and removed "
    "the set (IPC_RMID): nothing is left behind.",
    "다른 자식이 두 잠금을 모두 얻고 놓아주었습니다. 부모가 둘을 거두고 집합을 "
    "지웠습니다(IPC_RMID). 남은 것이 없습니다.",
    when=lambda ev: len(of(ev, "obj.remove")) >= 2 and bool(_victims(ev)),
)


@scenario.check(
    "ipcviz proved the deadlock and named its cycle: each child waits for the other",
    ko=("ipcviz가 교착 상태를 증명하고 순환에 이름을 붙였다: 각 자식은 서로를 기다린다"),
)
def detected(run):
    if not run.state.deadlocks:
        return False, "no deadlock event", "교착 상태 이벤트 없음"
    cycle = run.state.deadlocks[0]
    procs = sorted(c["proc"] for c in cycle)
    locks = sorted(c["waits_for"] for c in cycle)
    ok = len(cycle) == 2 and len(set(procs)) == 2 and len(set(locks)) == 2
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


@scenario.trace_check(
    "one victim broke it; the other then got both locks",
    ko="희생자 하나가 교착 상태를 풀었고, 다른 쪽이 그 뒤 두 잠금을 모두 얻었다",
)
def broken(events):
    victims = _victims(events)
    if len(victims) != 1:
        return False, f"{len(victims)} children killed", f"종료된 자식 {len(victims)}개"
    dead = victims[0]
    other = next(iter(_children(events) - {dead["pid"]}))
    after = [e for e in of(events, "sem.wait", pid=other) if e["seq"] > dead["seq"]]
    return (
        len(after) == 1,
        f"{len(after)} lock taken by the survivor after the victim died",
        f"희생자가 죽은 뒤 살아남은 쪽이 잠금 {len(after)}개를 얻었음",
    )


@scenario.trace_check(
    "the program removed its semaphores itself: nothing left behind",
    ko="프로그램이 세마포어를 직접 제거했다: 남은 것이 없다",
)
def removed(events):
    gone = {e["obj"] for e in of(events, "obj.remove")}
    made = {e["obj"] for e in of(events, "obj.declare", type="sysv_sem")}
    return (
        bool(made) and made <= gone,
        f"{len(gone & made)} of {len(made)} removed",
        f"{len(made)}개 중 {len(gone & made)}개 제거됨",
    )
