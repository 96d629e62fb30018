"""shm-race: several processes increment one shared counter with no lock, and lose updates."""

import os

from ipcviz.scenario import Scenario

scenario = Scenario(
    "shm-race",
    "Shared memory without a lock: lost updates",
    teaches=["T26", "T31"],
    description=(
        "Several processes add 1 to the same counter in shared memory, each as read, add, write. "
        "There is no medium in between and no lock: when two read the same value, one update "
        "is overwritten and lost."
    ),
    params={"workers": 3, "increments": 3000, "yield": True},
    quick={"workers": 3, "increments": 1000},
    timeout=60,
)
scenario.step(
    "direct",
    "Every worker maps the same segment: a read or write is a plain memory access, with no "
    "kernel call in between.",
    "모든 워커가 같은 세그먼트를 매핑합니다. 읽기와 쓰기는 커널을 거치지 않는 평범한 메모리 "
    "접근입니다.",
    teaches=["T26"],
)
scenario.step(
    "race",
    "Read, add one, write back — with no lock. When two workers read the same value, one "
    "write overwrites the other: that update is lost. (Each worker yields the CPU between its "
    "read and its write, so the race shows up even on one CPU.)",
    "값을 읽고, 1을 더하고, 다시 씁니다. 잠금이 없으니 두 워커가 같은 값을 읽으면 한쪽의 쓰기가 "
    "다른 쪽을 덮어써서 갱신 하나가 사라집니다. (워커는 읽기와 쓰기 사이에 CPU를 양보하므로, "
    "CPU가 하나뿐이어도 경쟁 상태가 드러납니다.)",
    teaches=["T31"],
)
scenario.step(
    "lost",
    "All workers are done: compare the counter with the number of increments. The missing "
    "ones are lost updates — shared memory needs synchronization (see shm-semaphore).",
    "모든 워커가 끝났습니다. 카운터 값과 실제 증가 횟수를 비교해 보세요. 모자란 만큼이 사라진 "
    "갱신입니다. 공유 메모리에는 동기화가 필요합니다(shm-semaphore 참고).",
    teaches=["T31"],
)
N = scenario.params["workers"]
counter = scenario.shared_memory("counter", cells=4)


@scenario.process("inc", count=N)
def increment(ctx):
    if ctx.index == 0:
        ctx.step("direct")
        ctx.step("race")
    widen = os.sched_yield if ctx.params["yield"] else (lambda: None)
    for _ in range(ctx.params["increments"]):
        value = counter[0]  # read
        widen()  # give the CPU away between read and write: the race window, made visible
        counter[0] = value + 1  # write: no lock between the two
    ctx.report("done", ctx.params["increments"])


@scenario.check("updates were lost: counter < workers x increments (T31)")
def lost_updates(run):
    expected = sum(r["done"] for r in run.reports.values())
    final = int.from_bytes(run.state.objects["counter"].data[0:8], "little", signed=True)
    return final < expected, f"counter {final}, increments {expected}, lost {expected - final}"
