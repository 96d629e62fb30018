"""philosophers: five philosophers, five forks in one System V set, both forks in one semop."""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "philosophers",
    "Dining philosophers: both forks in one semop, no deadlock",
    teaches=["T34", "T35"],
    description=(
        "Five philosophers sit around a table with five forks; each needs the fork on either "
        "side to eat. The forks are one System V semaphore set (one semget, five semaphores "
        "at 1). A philosopher takes both forks in ONE semop: the kernel gives both at one "
        "instant, or none and lets it sleep until both are free. Nobody ever holds one fork "
        "while waiting for the other, so no cycle of waits can form: compare deadlock, where "
        "each process takes one lock, then asks for the other."
    ),
    params={"meals": 20, "eat": 0.02},
    quick={"meals": 5, "eat": 0.0},
    limits={"meals": (1, 100000), "eat": (0, 10)},
    timeout=60,
    title_ko="식사하는 철학자: 포크 두 개를 semop 한 번에, 교착 상태 없음",
    description_ko=(
        "철학자 다섯 명이 포크 다섯 개가 놓인 식탁에 앉아 있고, 먹으려면 양쪽 포크가 모두 "
        "필요합니다. 포크는 System V 세마포어 집합 하나입니다(semget 한 번, 값이 1인 세마포어 "
        "다섯 개). 철학자는 두 포크를 semop 한 번으로 잡습니다. 커널은 두 개를 같은 순간에 "
        "주거나, 하나도 주지 않고 둘 다 빌 때까지 재웁니다. 한 포크를 쥔 채 다른 포크를 "
        "기다리는 사람이 없으니 대기의 순환이 생길 수 없습니다. 잠금 하나를 잡고 나서 다른 "
        "하나를 요청하는 교착 상태 시나리오(잠금 두 개를 반대 순서로 잡기)와 비교해 보세요."
    ),
)
scenario.step(
    "table",
    "Five forks, one System V semaphore set: one semget made five semaphores, each at 1 "
    "(a fork on the table). Philosopher N needs fork N-1 and fork N (philosopher 5: fork4 "
    "and fork0).",
    "포크 다섯 개는 System V 세마포어 집합 하나입니다. semget 한 번으로 값이 1인(식탁 위의 "
    "포크) 세마포어 다섯 개를 만들었습니다. 철학자 N은 포크 N-1과 포크 N이 필요합니다"
    "(철학자 5는 fork4와 fork0).",
    teaches=["T35"],
)
scenario.step(
    "both",
    "phil1 asks for fork0 and fork1 in ONE semop, {fork0: -1, fork1: -1}: the kernel "
    "applies the whole call at one instant, or none of it. If a neighbour holds either "
    "fork, phil1 sleeps in semop holding nothing, and the other fork stays on the table.",
    "phil1은 fork0과 fork1을 semop 한 번({fork0: -1, fork1: -1})으로 요청합니다. 커널은 호출 "
    "전체를 같은 순간에 적용하거나, 아무것도 적용하지 않습니다. 이웃이 둘 중 하나라도 쥐고 "
    "있으면 phil1은 아무것도 쥐지 않은 채 semop에서 잠들고, 다른 포크는 식탁에 그대로 남습니다.",
    teaches=["T35"],
)
scenario.step(
    "contrast",
    "Compare deadlock: there each process took one lock, then asked for the other in a "
    "second call, and slept holding the first: a cycle of waits. Here wait-for-both is one "
    "call, so nobody holds a fork while waiting: no cycle can form, in any order.",
    "교착 상태 시나리오(잠금 두 개를 반대 순서로 잡기)와 비교해 보세요. 그곳에서는 각 "
    "프로세스가 잠금 하나를 잡고, 두 번째 "
    "호출로 다른 잠금을 요청하며, 첫 잠금을 쥔 채 잠들었습니다. 그래서 대기의 순환이 "
    "생겼습니다. 여기서는 '둘 다 기다리기'가 호출 하나이므로 포크를 쥔 채 기다리는 사람이 "
    "없습니다. 어떤 순서로 실행되어도 순환은 생길 수 없습니다.",
    teaches=["T34"],
)
scenario.step(
    "put-down",
    "phil1 puts both forks back in one semop too: {fork0: +1, fork1: +1}. A neighbour "
    "asleep waiting for them wakes only if both of its own forks are now free.",
    "phil1은 두 포크를 내려놓을 때도 semop 한 번({fork0: +1, fork1: +1})을 씁니다. 그 포크를 "
    "기다리며 잠든 이웃은 자기에게 필요한 두 포크가 모두 비었을 때만 깨어납니다.",
    teaches=["T35"],
)
scenario.step(
    "full",
    "phil1 has eaten every meal. Every philosopher will: with no cycle of waits, each one "
    "waits only for a neighbour who is eating, and eating ends.",
    "phil1은 식사를 모두 마쳤습니다. 다른 철학자들도 모두 마칠 것입니다. 대기의 순환이 "
    "없으니 각자는 먹고 있는 이웃만 기다리고, 먹는 일은 끝나기 때문입니다.",
    teaches=["T34"],
)

SEATS = 5
forks = scenario.sysv_semaphore_set(
    "forks", values=[1] * SEATS, names=[f"fork{i}" for i in range(SEATS)]
)


@scenario.process("phil", count=SEATS)
def philosopher(ctx):
    left, right = ctx.index, (ctx.index + 1) % SEATS
    first = ctx.index == 0
    if first:
        ctx.step("table")
        ctx.step("both")
    meals = 0
    for meal in range(ctx.params["meals"]):
        with forks.take(left, right):  # one semop: both forks, or sleep holding none
            meals += 1
            if first and meal == 0:
                ctx.step("contrast")
            ctx.sleep(ctx.params["eat"])
        if first and meal == 0:
            ctx.step("put-down")
        ctx.sleep(ctx.params["eat"])  # think
    ctx.report("meals", meals)
    if first:
        ctx.step("full")


@scenario.check(
    "every philosopher ate every meal",
    ko="모든 철학자가 식사를 모두 마쳤다",
)
def everyone_ate(run):
    want = run.params["meals"]
    ate = {f"phil{i + 1}": run.report(f"phil{i + 1}", "meals", 0) for i in range(SEATS)}
    ok = all(n == want for n in ate.values())
    said = ", ".join(f"{p} {n}" for p, n in ate.items())
    return ok, f"{said} (of {want})", f"{said} ({want}번 중)"


@scenario.check(
    "each fork was taken and put down by its two neighbours, once per meal",
    ko="각 포크는 양쪽 이웃이 식사마다 한 번씩 잡고 내려놓았다",
)
def each_fork_twice(run):
    want = 2 * run.params["meals"]
    got = [
        (run.state.objects[f"fork{i}"].waits, run.state.objects[f"fork{i}"].posts)
        for i in range(SEATS)
    ]
    ok = all(w == p == want for w, p in got)
    said = ", ".join(f"fork{i} {w}/{p}" for i, (w, p) in enumerate(got))
    return ok, f"taken/put down: {said} (want {want})", f"잡음/내려놓음: {said} ({want}번이어야 함)"


@scenario.check(
    "nobody held a fork while waiting for another (no hold and wait)",
    ko="포크를 쥔 채 다른 포크를 기다린 철학자는 없었다 (점유 대기 없음)",
)
def no_hold_and_wait(run):
    procs = run.state.procs
    seen = [
        (procs[pid].name if pid in procs else str(pid), f"fork{i}", held)
        for i in range(SEATS)
        for pid, held in run.state.objects[f"fork{i}"].hold_and_wait.items()
    ]
    if not seen:
        return True, "every wait began holding no fork", "모든 대기가 포크 없이 시작됨"
    en = "; ".join(f"{p} waited for {f} holding {h}" for p, f, h in seen)
    ko = "; ".join(f"{p}이(가) {h}을(를) 쥔 채 {f}을(를) 기다림" for p, f, h in seen)
    return False, en, ko


@scenario.check(
    "no deadlock: the engine found no cycle of waits",
    ko="교착 상태 없음: 엔진이 대기의 순환을 찾지 못했다",
)
def no_deadlock(run):
    cycles = run.state.deadlocks
    return not cycles, f"{len(cycles)} cycles found", f"순환 {len(cycles)}개 발견"


@scenario.check(
    "every fork is back on the table (value 1, nobody holds it, nobody waits)",
    ko="모든 포크가 식탁에 돌아왔다 (값 1, 쥔 사람 없음, 기다리는 사람 없음)",
)
def forks_back(run):
    objs = [run.state.objects[f"fork{i}"] for i in range(SEATS)]
    ok = all(o.value == 1 and not +o.holders and not o.waiters for o in objs)
    said = " ".join(str(o.value) for o in objs)
    return ok, f"values {said}", f"값 {said}"
