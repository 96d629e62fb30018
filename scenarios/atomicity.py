"""atomicity: a home-made flag "lock" lets two processes in at once; a semaphore does not."""

import os

from ipcviz.scenario import Scenario

# Shared cells: the naive flag, then "I am inside" flags per process and per phase.
FLAG, NAIVE_IN, SEM_IN = 0, 1, 3  # NAIVE_IN + 0/1 for p1/p2, SEM_IN + 0/1 likewise

#: The interleaving that breaks the flag "lock" on every run. Each step is one shared-memory
#: access at the step gate: p1 and p2 both test the flag (both see 0), both set it, both mark
#: themselves inside, both look for the other (both are caught). Then they run free.
SCHEDULE = ",".join(["p1,p2"] * 4)

scenario = Scenario(
    "atomicity",
    "Why wait and signal must be atomic: a flag is not a lock",
    teaches=["T35", "T31", "T32"],
    description=(
        "Two processes protect a critical section with a flag in shared memory: wait while "
        "flag = 1, then set flag = 1; clear it on the way out. Testing and setting are two "
        "separate steps, so both can see 0 and both go in. Each marks itself inside and looks "
        "for the other: every time both are in, it is caught. Then the same loop with a POSIX "
        "semaphore, whose wait tests and takes in one atomic kernel operation: never both. "
        "The run starts with a declared schedule (ipcviz's step gate lets one shared-memory "
        "access through at a time): both test the flag before either sets it, so the flag "
        "fails on every run, not only when the scheduler happens to switch at that moment."
    ),
    params={"rounds": 100, "pause": 0.0},
    quick={"rounds": 50},
    limits={"rounds": (1, 100000), "pause": (0, 60)},
    timeout=60,
    schedule=SCHEDULE,
    title_ko="wait와 signal은 왜 원자적이어야 하는가: 플래그는 잠금이 아니다",
    description_ko=(
        "두 프로세스가 공유 메모리의 플래그 하나로 임계 구역을 지키려 합니다. 플래그가 1인 동안 "
        "기다렸다가 플래그를 1로 세우고, 나올 때 0으로 지웁니다. 그런데 검사와 설정이 별개의 두 "
        "단계라서, 둘 다 0을 보고 둘 다 들어갈 수 있습니다. 각 프로세스는 들어가면 자기 표시를 "
        "하고 상대를 찾아보므로, 둘이 동시에 들어가면 매번 잡힙니다. 다음에는 같은 반복을 POSIX "
        "세마포어로 합니다. 세마포어의 wait는 검사와 획득을 커널 안에서 하나의 원자적 연산으로 "
        "하므로, 둘이 함께 들어가는 일은 없습니다. 실행은 선언된 스케줄로 시작합니다(ipcviz의 "
        "스텝 게이트가 공유 메모리 접근을 한 번에 하나씩 통과시킵니다). 둘 다 플래그를 세우기 "
        "전에 검사하므로, 스케줄러가 마침 그 순간에 전환할 때만이 아니라 매번 플래그 방식이 "
        "실패합니다."
    ),
)
scenario.step(
    "naive",
    "The home-made lock: 'while flag == 1: wait; flag = 1'. Looks right — but between "
    "seeing 0 and writing 1 the other process can do the same. The schedule makes it happen "
    "right away: both test the flag, then both set it.",
    "직접 만든 잠금: 'flag가 1인 동안 기다리고, 0이 되면 flag = 1'. 그럴듯해 보이지만, 0을 "
    "확인한 순간과 1을 쓰는 순간 사이에 다른 프로세스도 똑같이 할 수 있습니다. 스케줄이 바로 그 "
    "상황을 만듭니다. 둘 다 flag를 확인한 뒤, 둘 다 flag를 씁니다.",
    teaches=["T35"],
)
scenario.step(
    "naive-any",
    "The home-made lock: 'while flag == 1: wait; flag = 1'. Looks right — but between "
    "seeing 0 and writing 1 the other process can do the same. Whether it happens depends on "
    "who goes when: if both test the flag before either sets it, both go in.",
    "직접 만든 잠금: 'flag가 1인 동안 기다리고, 0이 되면 flag = 1'. 그럴듯해 보이지만, 0을 "
    "확인한 순간과 1을 쓰는 순간 사이에 다른 프로세스도 똑같이 할 수 있습니다. 실제로 그렇게 "
    "될지는 누가 언제 움직이느냐에 달려 있습니다. 둘 다 flag를 쓰기 전에 확인하면 둘 다 "
    "들어갑니다.",
    teaches=["T35"],
)
scenario.step(
    "caught",
    "Caught: both processes are inside the critical section at the same time. Checking and "
    "taking the lock were not one atomic step.",
    "잡혔습니다. 두 프로세스가 동시에 임계 구역 안에 있습니다. 잠금을 확인하는 것과 잡는 것이 "
    "하나의 원자적 단계가 아니었기 때문입니다.",
    teaches=["T35", "T31"],
)
scenario.step(
    "semaphore",
    "Now the same loop with a semaphore. sem_wait checks the value and takes it in one "
    "indivisible kernel operation: whoever finds 0 sleeps.",
    "이번에는 같은 반복을 세마포어로 합니다. sem_wait는 값을 확인하고 가져가는 일을 커널 안에서 "
    "쪼갤 수 없는 한 번의 연산으로 합니다. 0을 본 쪽은 잠듭니다.",
    teaches=["T32", "T35"],
)
scenario.step(
    "never",
    "With the semaphore, the two were never inside together. Correct synchronization needs "
    "atomic wait and signal — that is exactly what is hard to build by hand.",
    "세마포어를 쓰니 두 프로세스가 함께 들어간 적이 한 번도 없습니다. 올바른 동기화에는 원자적인 "
    "wait와 signal이 필요하고, 바로 그것을 손으로 만들기가 어렵습니다.",
    teaches=["T35"],
)
cells = scenario.shared_memory("cells", cells={"flag": 1, "naive_in": 2, "sem_in": 2})
mutex = scenario.semaphore("mutex", value=1)


def critical(me: int, other: int, base: int) -> bool:
    """Mark myself inside, look for the other, leave. True if the other was inside too."""
    cells[base + me] = 1
    os.sched_yield()  # stay inside a moment: let the other run if it can
    both = cells[base + other] == 1
    cells[base + me] = 0
    return both


@scenario.process("p", count=2)
def worker(ctx):
    me, other = ctx.index, 1 - ctx.index
    rounds = ctx.params["rounds"]
    if me == 0:  # the declared schedule's story only when the run follows it
        ctx.step("naive" if ctx.declared_schedule else "naive-any")
    naive_both = 0
    for _ in range(rounds):
        while cells[FLAG] == 1:  # test ...
            os.sched_yield()
        os.sched_yield()  # (the gap between test and set, made wide enough to see)
        cells[FLAG] = 1  # ... and set: two steps, not one
        if critical(me, other, NAIVE_IN):
            naive_both += 1
            if naive_both == 1:
                ctx.step("caught")
        cells[FLAG] = 0
    ctx.report("naive_both_inside", naive_both)
    if me == 0:
        ctx.step("semaphore")
    sem_both = 0
    for _ in range(rounds):
        with mutex:
            sem_both += critical(me, other, SEM_IN)
        if ctx.params["pause"]:
            ctx.sleep(ctx.params["pause"])
    ctx.report("sem_both_inside", sem_both)
    if me == 0:
        ctx.step("never")


@scenario.check(
    "with the flag 'lock', both processes were inside at once at least once (T35)",
    ko=("플래그 '잠금'으로는 두 프로세스가 적어도 한 번 동시에 임계 구역 안에 있었다 (T35)"),
)
def naive_fails(run):
    n = sum(run.report(f"p{i}", "naive_both_inside", 0) for i in (1, 2))
    return (
        n > 0,
        f"caught both inside {n} times in {2 * run.params['rounds']} entries",
        f"{2 * run.params['rounds']}번 들어가는 동안 둘이 함께 안에 있는 것을 {n}번 잡았음",
    )


@scenario.check(
    "with the semaphore, never both inside (T32)",
    ko="세마포어로는 둘이 동시에 안에 있은 적이 한 번도 없다 (T32)",
)
def sem_works(run):
    n = sum(run.report(f"p{i}", "sem_both_inside", -1) for i in (1, 2))
    return (
        n == 0,
        f"caught both inside {n} times in {2 * run.params['rounds']} entries",
        f"{2 * run.params['rounds']}번 들어가는 동안 둘이 함께 안에 있는 것을 {n}번 잡았음",
    )
