"""shm-semaphore: the same shared counter, protected by a POSIX semaphore: nothing is lost."""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "shm-semaphore",
    "Shared memory with a semaphore: no update lost",
    teaches=["T32", "T33"],
    description=(
        "The counter of shm-race, but every read-add-write happens while holding a POSIX "
        "semaphore used as a lock. A worker that finds it taken blocks until it is posted."
    ),
    params={"workers": 3, "increments": 1000},
    quick={"workers": 3, "increments": 300},
    limits={"workers": (3, 3), "increments": (1, 1000000)},  # N is read at import
    timeout=60,
    title_ko="세마포어를 쓴 공유 메모리: 사라지는 갱신이 없다",
    description_ko=(
        "shm-race의 카운터와 같지만, 읽고-더하고-쓰는 일을 모두 잠금으로 쓰는 POSIX 세마포어를 쥔 "
        "채로 합니다. 세마포어가 이미 잡혀 있으면 작업자는 그것이 올라갈(post) 때까지 블록됩니다."
    ),
)
scenario.step(
    "lock",
    "Before touching the counter a worker waits on the semaphore (the key). Only one worker "
    "holds it at a time.",
    "카운터를 건드리기 전에 워커는 세마포어(열쇠)를 기다립니다. 한 번에 한 워커만 열쇠를 가집니다.",
    teaches=["T32"],
)
scenario.step(
    "block",
    "A worker that finds the value 0 is blocked by the kernel until the holder posts.",
    "값이 0이면 워커는 커널에 의해 잠들고, 열쇠를 가진 워커가 post할 때까지 깨어나지 않습니다.",
    teaches=["T33"],
)
scenario.step(
    "none-lost",
    "Every increment counted: the lock made read-add-write one indivisible step.",
    "모든 증가가 반영되었습니다. 잠금 덕분에 읽기-더하기-쓰기가 쪼갤 수 없는 한 단계가 되었습니다.",
    teaches=["T32"],
)
N = scenario.params["workers"]
counter = scenario.shared_memory("counter", cells={"counter": 1, "spare": 3})
mutex = scenario.semaphore("mutex", value=1)


@scenario.process("inc", count=N)
def increment(ctx):
    if ctx.index == 0:
        ctx.step("lock")
        ctx.step("block")
    for _ in range(ctx.params["increments"]):
        with mutex:
            counter[0] = counter[0] + 1
    ctx.report("done", ctx.params["increments"])


@scenario.check(
    "no update lost: counter = workers x increments",
    ko="사라진 갱신 없음: 카운터 = 작업자 수 × 증가 횟수",
)
def none_lost(run):
    """Every increment the trace shows is one write of the counter: a worker killed part
    way (``k``) did some of its increments, and reports none, so the reports alone would
    call its surplus a lost update."""
    obj = run.state.objects["counter"]
    final, writes = obj.cell(0), obj.writes
    reported = sum(r.get("done", 0) for r in run.reports.values())
    en, ko = f"counter {final}, increments {writes}", f"카운터 {final}, 증가 횟수 {writes}"
    if run.killed:
        names = ", ".join(run.killed)
        en += f" ({reported} by the workers that finished, {writes - reported} by {names})"
        ko += f" (끝까지 한 작업자들이 {reported}, {names}이(가) {writes - reported})"
    return final == writes, en, ko


@scenario.check(
    "the semaphore ends where it started (value 1, no holder)",
    ko="세마포어는 시작한 상태로 끝난다 (값 1, 보유자 없음)",
)
def sem_released(run):
    sem = run.state.objects["mutex"]
    holders = ", ".join(run.state.proc_name(pid) for pid in sem.holders)
    return (
        sem.value == 1 and not sem.holders,
        f"value {sem.value}, " + (f"held by {holders}" if holders else "no holder"),
        f"값 {sem.value}, " + (f"보유자 {holders}" if holders else "보유자 없음"),
    )
