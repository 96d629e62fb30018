"""cpu-layouts: CPU-bound workers squeezed onto one CPU, then spread over all CPUs."""

import mmap
import os
import time

from ipcviz.bytefmt import readable
from ipcviz.scenario import Scenario

CPUS = sorted(os.sched_getaffinity(0))
N = min(max(2, len(CPUS)), 4)

scenario = Scenario(
    "cpu-layouts",
    "Multiprogramming vs multiprocessing: one CPU or all of them",
    teaches=["T1", "T2"],
    description=(
        f"{N} workers count as fast as they can. First they are all pinned to ONE CPU "
        "(sched_setaffinity): they take turns on it — multiprogramming. Then they are spread "
        f"over every CPU ({len(CPUS)} here): they really run at the same time — multiprocessing. "
        "The layouts alternate a few times; each worker reports the CPU it ran on, its CPU "
        "share and how far it counted. Pinned, their CPU time adds up to at most one CPU's; "
        "spread, they can get more than that together and count faster — as much as the "
        "other programs on this machine leave them."
    ),
    params={"rounds": 3, "phase": 1.5},
    quick={"rounds": 5, "phase": 0.15},
    limits={"rounds": (1, 1000), "phase": (0.01, 60)},
    timeout=60,
    title_ko="멀티프로그래밍과 멀티프로세싱: CPU 하나냐, 전부냐",
    description_ko=(
        f"작업자 {N}개가 최대한 빨리 숫자를 셉니다. 먼저 모두 CPU 하나에 묶어 "
        "둡니다(sched_setaffinity). 그러면 그 CPU를 번갈아 씁니다 — 멀티프로그래밍입니다. "
        f"다음에는 모든 CPU(여기서는 {len(CPUS)}개)에 나누어 놓습니다. "
        "그러면 정말로 동시에 실행됩니다 — "
        "멀티프로세싱입니다. 두 배치를 몇 번 번갈아 가며, 각 작업자는 자기가 실행된 CPU, CPU "
        "점유율, 센 숫자를 보고합니다. 하나에 묶였을 때 CPU 시간을 다 합쳐도 CPU 하나 분량을 넘지 "
        "못합니다. 나누어 놓으면 합쳐서 그보다 많이 받고 더 빨리 셀 수 있습니다 — 이 기계의 다른 "
        "프로그램들이 남겨 주는 만큼입니다."
    ),
)
scenario.step(
    "pinned",
    f"All {N} workers are pinned to CPU {CPUS[0]}. Only one can run at any instant; the "
    "scheduler switches between them. That is multiprogramming: several processes, one "
    "processor — the CPU never sits idle, but they do not run at the same time.",
    f"워커 {N}개를 모두 CPU {CPUS[0]}에 묶었습니다. 한 순간에는 하나만 실행되고, 스케줄러가 "
    "번갈아 가며 돌립니다. 이것이 멀티프로그래밍입니다. 프로세서 하나에 프로세스 여럿, CPU는 "
    "쉬지 않지만 동시에 실행되지는 않습니다.",
    teaches=["T2"],
)
scenario.step(
    "spread",
    f"Now the workers are spread over all {len(CPUS)} CPUs, one CPU each (round robin), and "
    "they really run at the same time: multiprocessing. Watch each worker's CPU number and "
    "its CPU share.",
    f"이제 워커들을 CPU {len(CPUS)}개 전체에 하나씩(돌아가며) 나눠 배치했습니다. 이들은 정말로 "
    "동시에 실행됩니다. 이것이 멀티프로세싱입니다. 워커별 CPU 번호와 CPU 점유율을 보세요.",
    teaches=["T1"],
)
# Each later round says which layout it is: the first two steps stayed on the screen, so
# in round 2 (pinned) it said "spread over all CPUs" while every worker showed cpu# 0.
scenario.step(
    "pinned-again",
    f"Pinned again: all {N} workers are back on CPU {CPUS[0]}. They take turns on it; "
    f"every cpu# shows {CPUS[0]}, and their CPU shares add up to at most one CPU.",
    f"다시 묶었습니다: 워커 {N}개가 모두 다시 CPU {CPUS[0]}에 있습니다. 그 CPU를 번갈아 쓰므로 "
    f"cpu#는 모두 {CPUS[0]}이고, CPU 점유율을 다 더해도 CPU 하나를 넘지 않습니다.",
    teaches=["T2"],
)
scenario.step(
    "spread-again",
    f"Spread again: one CPU each over all {len(CPUS)} CPUs. They run at the same time once "
    "more; watch the cpu# column change.",
    f"다시 나눴습니다: CPU {len(CPUS)}개 전체에 하나씩 배치했습니다. 다시 동시에 실행됩니다. "
    "cpu# 열이 바뀌는 것을 보세요.",
    teaches=["T1"],
)
scenario.step(
    "compare",
    "Compare the two layouts: pinned, the workers' CPU shares add up to at most one CPU; "
    "spread, they can add up to more, and more work gets done in the same time — as far as "
    "other programs on this machine leave the CPUs free.",
    "두 배치를 비교해 보세요. 한 CPU에 묶으면 워커들의 CPU 점유율을 다 더해도 CPU 하나를 넘지 "
    "못합니다. 나눠 배치하면 그보다 많아질 수 있고, 같은 시간에 더 많은 일을 합니다. 다만 이 "
    "컴퓨터의 다른 프로그램들이 CPU를 비워 주는 만큼만 그렇습니다.",
    teaches=["T1", "T2"],
)
clock = scenario.shared_memory("clock", cells={"start_ns": 1, "spare": 1})


def current_cpu() -> int:
    """The CPU this process last ran on (field 39 of /proc/self/stat)."""
    with open("/proc/self/stat") as f:
        stat = f.read()
    return int(stat.rsplit(")", 1)[1].split()[36])


#: One progress counter per worker, in anonymous shared memory made before the fork. It is
#: not an IPC object of the lesson, so it is not traced: each worker bumps it ~10 000 times/s.
PROGRESS = mmap.mmap(-1, 8 * N)
COUNTERS = memoryview(PROGRESS).cast("q")


def spin_until(end: float, me: int) -> dict:
    """Count until ``end`` (monotonic seconds), in short windows.

    After each window, look at the next worker's progress counter: if it moved while this
    worker ran without being interrupted, the two really ran at the same instant (T1).
    On one CPU that is impossible: the other could only move while this one was off the CPU,
    which makes the window much longer than usual, and such windows are not counted.
    """
    other = (me + 1) % N
    count = windows = overlaps = 0
    fastest = 1.0
    cpus = set()
    clock = time.perf_counter
    while time.monotonic() < end:
        t0, seen = clock(), COUNTERS[other]
        for _ in range(2000):
            count += 1
        moved, dt = COUNTERS[other] != seen, clock() - t0
        COUNTERS[me] += 1
        fastest = min(fastest, dt)
        if dt < 3 * fastest:  # not interrupted: nobody else could use this CPU meanwhile
            windows += 1
            overlaps += moved
        if windows % 64 == 0:
            cpus.add(current_cpu())
    cpus.add(current_cpu())
    return {"count": count, "cpus": sorted(cpus), "windows": windows, "overlaps": overlaps}


def worker(ctx):
    first = ctx.name == "w1"
    index = int(ctx.name[1:]) - 1
    if first:
        clock[0] = time.monotonic_ns() + 50_000_000  # everyone starts 50 ms from now
    while clock[0] == 0:
        time.sleep(0.001)
    start = clock[0] / 1e9
    phase = ctx.params["phase"]
    results = []
    for i in range(2 * ctx.params["rounds"]):
        layout = "pinned" if i % 2 == 0 else "spread"
        mine = CPUS[0] if layout == "pinned" else CPUS[index % len(CPUS)]
        os.sched_setaffinity(0, {mine})
        while time.monotonic() < start + i * phase:
            time.sleep(0.001)
        if first:  # every round says which layout it is, not only the first two
            ctx.step(layout if i < 2 else f"{layout}-again")
        cpu0 = time.process_time()
        result = spin_until(start + (i + 1) * phase, index)
        result["cpu_pct"] = round(100 * (time.process_time() - cpu0) / phase, 1)
        result["layout"] = layout
        results.append(result)
        ctx.report(f"round{i // 2 + 1}_{layout}", results[-1])
    ctx.report("phases", results)
    if first:
        ctx.step("compare")


for _i in range(1, N + 1):
    scenario.process(f"w{_i}")(worker)


def phases(run, layout: str) -> list[list[dict]]:
    """Per round, the results of every worker in that layout."""
    per_worker = [
        [p for p in run.report(f"w{n}", "phases", []) if p["layout"] == layout]
        for n in range(1, N + 1)
    ]
    return [list(r) for r in zip(*per_worker, strict=True)]


@scenario.check(
    "pinned workers all ran on the one CPU they were pinned to (T2)",
    ko="한 CPU에 묶인 작업자들은 모두 그 CPU에서만 실행되었다 (T2)",
)
def pinned_on_one(run):
    seen = {c for rnd in phases(run, "pinned") for p in rnd for c in p["cpus"]}
    return (
        seen == {CPUS[0]},
        f"CPUs seen while pinned: {readable(sorted(seen))}",
        f"한 CPU에 묶인 동안 본 CPU: {readable(sorted(seen), 'ko')}",
    )


@scenario.check(
    "spread over the CPUs, workers ran at the same instant; pinned, never (T1)",
    ko=("여러 CPU에 나누었을 때는 같은 순간에 실행되었고, 하나에 묶였을 때는 그런 적이 없다 (T1)"),
)
def simultaneous(run):
    def share(layout: str) -> tuple[int, int]:
        ps = [p for rnd in phases(run, layout) for p in rnd]
        return sum(p["overlaps"] for p in ps), sum(p["windows"] for p in ps)

    (po, pw), (so, sw) = share("pinned"), share("spread")
    detail = (
        f"the other worker moved during {so}/{sw} uninterrupted windows spread, {po}/{pw} pinned"
    )
    if len(CPUS) < 2:
        return (
            True,
            f"only 1 CPU is available here: nothing can run in parallel; {detail}",
            (
                "여기서는 CPU를 1개만 쓸 수 있어 아무것도 병렬로 실행할 수 없음; "
                f"끊기지 않은 구간 중 다른 작업자가 움직인 구간: "
                f"나누었을 때 {so}/{sw}, 묶었을 때 {po}/{pw}"
            ),
        )
    # Spread: seen at least once (other programs may keep the other CPUs busy most of the
    # time, so how often is not a claim); pinned: essentially never, whatever the load.
    return (
        pw > 0 and so > 0 and po / pw <= 0.01,
        detail,
        (
            f"끊기지 않은 구간 중 다른 작업자가 움직인 구간: "
            f"나누었을 때 {so}/{sw}, 묶었을 때 {po}/{pw}"
        ),
    )


@scenario.check(
    "pinned, the workers together never got more than one CPU's time (T2)",
    ko=("한 CPU에 묶였을 때 작업자들이 받은 시간은 합쳐도 CPU 하나 분량을 넘지 않았다 (T2)"),
)
def one_cpu_at_most(run):
    """What the kernel guarantees on one CPU, load or not: their CPU shares add up to at most
    100 % of the phase. The throughput of both layouts is shown, not compared: how much
    faster spread is depends on what else runs on this machine."""
    pinned = [sum(p["cpu_pct"] for p in rnd) for rnd in phases(run, "pinned")]
    spread = [sum(p["cpu_pct"] for p in rnd) for rnd in phases(run, "spread")]
    per_s = run.params["rounds"] * run.params["phase"]
    one = sum(p["count"] for rnd in phases(run, "pinned") for p in rnd) / per_s
    many = sum(p["count"] for rnd in phases(run, "spread") for p in rnd) / per_s
    detail = (
        f"CPU time of all workers per round, pinned: {', '.join(f'{c:.0f} %' for c in pinned)}; "
        f"spread: {', '.join(f'{c:.0f} %' for c in spread)}; counts/s pinned {one:,.0f}, "
        f"spread {many:,.0f}"
    )
    return (
        bool(pinned) and max(pinned) <= 105,
        detail,
        (
            "회차마다 모든 작업자의 CPU 시간, "
            f"묶었을 때: {', '.join(f'{c:.0f} %' for c in pinned)}; "
            f"나누었을 때: {', '.join(f'{c:.0f} %' for c in spread)}; "
            f"초당 센 수: 묶었을 때 {one:,.0f}, 나누었을 때 {many:,.0f}"
        ),
    )
