"""shm-race: several processes increment one shared counter with no lock, and lose updates."""

from ipcviz.model.analysis.races import missing
from ipcviz.scenario import Scenario

WORKERS = 3  # inc1..inc3


def schedule(params: dict) -> str:
    """The interleaving that makes the race happen on every run, on any machine.

    Each increment is two operations at the step gate: a read, then a write. One race round
    lets every worker read before any writes: all read the same value v, all write v + 1,
    so the counter grows by one for three increments: two updates lost per round. Then
    each worker runs alone to its end, stepped, so nothing else overlaps: exactly
    ``2 x races`` updates are lost, and the recorded order is the real one.
    """
    names = [f"inc{i}" for i in range(1, WORKERS + 1)]
    rounds = ",".join(",".join(names + names) for _ in range(params["races"]))
    return f"{rounds},{','.join(n + '*' for n in names)}"


scenario = Scenario(
    "shm-race",
    "Shared memory without a lock: lost updates",
    teaches=["T26", "T31"],
    description=(
        "Several processes add 1 to the same counter in shared memory, each as read, add, write. "
        "There is no medium in between and no lock: when two read the same value, one update "
        "is overwritten and lost. The run follows a declared schedule (ipcviz's step gate "
        "decides who performs the next operation): a few times every worker reads before any "
        "of them writes, so the race happens on every run, not only when the scheduler is "
        "unlucky. Give --schedule or --seed to try other interleavings."
    ),
    params={"workers": WORKERS, "increments": 1000, "races": 3},
    quick={"increments": 200, "races": 2},
    limits={"workers": (WORKERS, WORKERS), "increments": (1, 1000000), "races": (1, 100)},
    timeout=60,
    schedule=schedule,
    title_ko="잠금 없는 공유 메모리: 갱신 손실",
    description_ko=(
        "여러 프로세스가 공유 메모리의 같은 카운터에 1을 더합니다. 각자 읽고, 더하고, 쓰는 "
        "식입니다. 중간에 매개체도 없고 잠금도 없습니다. 둘이 같은 값을 읽으면 한쪽의 갱신이 "
        "덮어써져 사라집니다. 이것이 경쟁 상태입니다. 실행은 선언된 스케줄을 따릅니다(ipcviz의 "
        "스텝 게이트가 다음 연산을 누가 할지 정합니다). 몇 번은 모든 작업자가 누구도 쓰기 전에 "
        "읽으므로, 스케줄러 운이 나쁠 때만이 아니라 매번 경쟁이 일어납니다. 다른 인터리빙을 "
        "보려면 --schedule이나 --seed를 주세요."
    ),
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
    "Read, add one, write back — with no lock. The schedule lets all three workers read the "
    "counter before any of them writes: they read the same value and each writes that value "
    "plus one, so two of the three updates are overwritten and lost. The scheduler of a real "
    "machine can interleave them exactly like this at any time.",
    "값을 읽고, 1을 더하고, 다시 씁니다. 잠금이 없습니다. 스케줄에 따라 세 워커가 모두 쓰기 전에 "
    "카운터를 먼저 읽습니다. 모두 같은 값을 읽고 각자 그 값에 1을 더해 쓰므로, 세 번의 갱신 중 "
    "두 번이 덮어써져 사라집니다. 실제 컴퓨터의 스케줄러도 언제든 정확히 이렇게 끼워 넣을 수 "
    "있습니다.",
    teaches=["T31"],
)
scenario.step(
    "race-any",
    "Read, add one, write back — with no lock. Who goes when is decided by this run's "
    "schedule (yours, a seed's or explore's) or by the machine's scheduler: whenever one "
    "worker reads the counter and another writes it before the first writes back, the first "
    "one's write overwrites that update, and it is lost. Watch for lost-update marks.",
    "값을 읽고, 1을 더하고, 다시 씁니다. 잠금이 없습니다. 누가 언제 움직일지는 이 실행의 "
    "스케줄(직접 고른 것, 시드, explore)이나 컴퓨터의 스케줄러가 정합니다. 한 워커가 카운터를 "
    "읽은 뒤 다시 쓰기 전에 다른 워커가 카운터를 쓰면, 첫 워커의 쓰기가 그 갱신을 덮어써서 "
    "사라지게 합니다. 갱신 손실 표시를 지켜보세요.",
    teaches=["T31"],
)
scenario.step(
    "lost",
    "The last worker of the schedule is done. Compare the counter with the number of "
    "increments: the missing ones are lost updates — shared memory needs synchronization "
    "(see shm-semaphore).",
    "스케줄의 마지막 워커가 끝났습니다. 카운터 값과 실제 증가 횟수를 비교해 보세요. 모자란 만큼이 "
    "사라진 갱신입니다. 공유 메모리에는 동기화가 필요합니다(shm-semaphore 참고).",
    teaches=["T31"],
)
scenario.step(
    "lost-any",
    "inc3 is done. Once every worker is, compare the counter with the number of increments: "
    "any that are missing are lost updates (the check counts them) — shared memory needs "
    "synchronization (see shm-semaphore).",
    "inc3이 끝났습니다. 모든 워커가 끝나면 카운터 값과 실제 증가 횟수를 비교해 보세요. 모자란 "
    "만큼이 사라진 갱신입니다(검사가 그 수를 셉니다). 공유 메모리에는 동기화가 필요합니다"
    "(shm-semaphore 참고).",
    teaches=["T31"],
)
counter = scenario.shared_memory("counter", cells={"counter": 1, "spare": 3})


@scenario.process("inc", count=WORKERS)
def increment(ctx):
    # The narration tells the declared schedule's interleaving only when the run follows
    # it; under another (--schedule, --seed, stepping by hand, explore) it says what holds
    # whatever the order.
    declared = ctx.declared_schedule
    if ctx.index == 0:
        ctx.step("direct")
        ctx.step("race" if declared else "race-any")
    for _ in range(ctx.params["increments"]):
        value = counter[0]  # read
        counter[0] = value + 1  # write: no lock between the two
    ctx.report("done", ctx.params["increments"])
    if ctx.index == WORKERS - 1:  # the last to run in the declared schedule
        ctx.step("lost" if declared else "lost-any")


@scenario.check(
    "updates were lost: counter < workers x increments (T31)",
    ko="갱신이 사라졌다: 카운터 < 작업자 수 × 증가 횟수 (T31)",
)
def lost_updates(run):
    """Every increment the trace shows is one write of the counter: a worker killed part
    way (``k``) did some and reports none (shm-semaphore's check says the same)."""
    expected = run.state.objects["counter"].writes
    final = run.state.objects["counter"].cell(0)
    lost = missing(run.state, "counter")  # the number the checks panel shows, too
    detail = f"{lost} updates lost: counter {final}, increments {expected}"
    if lost != expected - final:
        detail += f" (but the counter is short by {expected - final}: events out of order?)"
    return (
        lost > 0 and final < expected,
        detail,
        f"갱신 {lost}개 손실: 카운터 {final}, 증가 횟수 {expected}"
        + (
            f" (그런데 카운터는 {expected - final}만큼 모자람: 이벤트 순서가 어긋났나?)"
            if lost != expected - final
            else ""
        ),
    )
