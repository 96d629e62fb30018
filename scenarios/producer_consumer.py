"""producer-consumer: a bounded buffer in shared memory, guarded by empty, full and mutex."""

from ipcviz.bytefmt import readable
from ipcviz.scenario import Scenario

SLOTS = 5
# Shared memory layout: cells 0..SLOTS-1 are the ring buffer, then the bookkeeping.
IN, OUT, COUNT, LOW, HIGH = range(SLOTS, SLOTS + 5)
PILL = -1  # "no more items": one per producer, so each consumer stops after taking one

scenario = Scenario(
    "producer-consumer",
    "Producer–consumer: a bounded buffer with counting semaphores",
    teaches=["T32", "T33", "T26", "T31"],
    description=(
        f"Two producers put numbered items into a ring of {SLOTS} cells in shared memory; two "
        "consumers take them out. Three semaphores keep it correct: empty counts the free "
        "cells, full counts the filled ones, and mutex lets one process at a time move the "
        "in/out indexes. First the producers are fast: the buffer fills and producers wait on "
        "empty. Then the consumers are fast: it drains and consumers wait on full. The run "
        "starts with a declared schedule, so both waits happen on every run, whatever the "
        "speeds: consumer1 finds nothing to take, then producer1 alone fills every cell until "
        "its wait(empty) sleeps in the kernel."
    ),
    params={"items": 30, "fast": 0.08, "slow": 0.6},
    quick={"items": 12, "fast": 0.0, "slow": 0.01},
    limits={"items": (1, 100000), "fast": (0, 60), "slow": (0, 60)},
    timeout=120,
    # consumer1: one operation (try_wait(full) fails: nothing to take); then producer1 alone
    # until it blocks (all cells full: its wait(empty) sleeps); then everyone runs free.
    schedule="consumer1,producer1*",
    title_ko="생산자-소비자: 카운팅 세마포어로 만든 유한 버퍼",
    description_ko=(
        "생산자 둘이 공유 메모리에 있는 칸 5개짜리 원형 버퍼에 번호 붙은 항목을 넣고, 소비자 둘이 "
        "꺼냅니다. 세마포어 세 개가 이것을 올바르게 지킵니다. empty는 빈 칸 수를, full은 찬 칸 "
        "수를 세고, mutex는 한 번에 한 프로세스만 in/out 인덱스를 옮기게 합니다. 처음에는 "
        "생산자가 빠릅니다. 버퍼가 가득 차고 생산자들은 empty에서 기다립니다. 다음에는 소비자가 "
        "빠릅니다. 버퍼가 비고 소비자들은 full에서 기다립니다. 실행은 선언된 스케줄로 시작하므로, "
        "속도와 상관없이 매번 두 가지 대기가 모두 일어납니다. consumer1은 가져갈 것이 없고, "
        "그다음 producer1 혼자 모든 칸을 채우다가 wait(empty)에서 커널 안에 잠듭니다."
    ),
)
scenario.step(
    "setup",
    f"empty starts at {SLOTS} (all cells free), full at 0 (nothing to take), mutex at 1 (the "
    "key to the indexes). A semaphore is a counter the kernel changes atomically, and a "
    "queue of sleepers.",
    f"empty는 {SLOTS}(모든 칸이 비어 있음), full은 0(꺼낼 것이 없음), mutex는 1(인덱스를 만질 "
    "수 있는 열쇠)로 시작합니다. 세마포어는 커널이 원자적으로 바꾸는 카운터이자, 잠든 "
    "프로세스들의 대기열입니다.",
    teaches=["T32"],
)
scenario.step(
    "fill",
    "Producers are fast, consumers slow: the cells fill up. When empty reaches 0, a producer's "
    "wait(empty) blocks — it sleeps in the kernel until a consumer frees a cell.",
    "생산자는 빠르고 소비자는 느립니다. 칸이 차오르다가 empty가 0이 되면 생산자의 wait(empty)가 "
    "막힙니다. 소비자가 칸을 비울 때까지 커널 안에서 잠듭니다.",
    teaches=["T33"],
)
scenario.step(
    "mutex",
    "Moving an index is read-modify-write on shared memory: without mutex two producers could "
    "fill the same cell. Holding mutex makes it one indivisible step.",
    "인덱스를 옮기는 것은 공유 메모리에 대한 읽기-수정-쓰기입니다. mutex가 없으면 두 생산자가 "
    "같은 칸을 채울 수 있습니다. mutex를 쥐고 있으면 이 과정이 쪼갤 수 없는 한 단계가 됩니다.",
    teaches=["T31", "T32"],
)
scenario.step(
    "drain",
    "Now consumers are fast, producers slow: the buffer drains. When full reaches 0, a "
    "consumer's wait(full) blocks until a producer adds an item.",
    "이번에는 소비자가 빠르고 생산자가 느립니다. 버퍼가 비어 가다가 full이 0이 되면 소비자의 "
    "wait(full)이 막힙니다. 생산자가 물건을 넣을 때까지 기다립니다.",
    teaches=["T33"],
)
scenario.step(
    "done",
    "Every item was taken exactly once, in the order it was put in, and the buffer never held "
    "more than its cells nor less than nothing.",
    "모든 물건이 넣은 순서대로 정확히 한 번씩 꺼내졌고, 버퍼는 한 번도 넘치거나 모자라지 "
    "않았습니다.",
    teaches=["T32", "T33"],
)
# Named for the diagram; the cell indexes above stay the code's way to reach them.
buffer = scenario.shared_memory(
    "buffer", cells={"slots": SLOTS, "in": 1, "out": 1, "count": 1, "low": 1, "high": 1}
)
empty = scenario.semaphore("empty", value=SLOTS)
full = scenario.semaphore("full", value=0)
mutex = scenario.semaphore("mutex", value=1)


def total_items(params) -> int:
    return 2 * params["items"]


def pause(ctx, first_half: bool, busy_first: bool) -> None:
    """Producers are fast in the first half and slow in the second; consumers the reverse."""
    fast, slow = ctx.params["fast"], ctx.params["slow"]
    ctx.sleep(fast if first_half == busy_first else slow)


@scenario.process("producer", count=2)
def producer(ctx):
    me = ctx.index + 1
    if me == 1:
        ctx.step("setup")
        ctx.step("fill")
    n = ctx.params["items"]
    put_log = []
    blocked = 0
    for seq in range(1, n + 2):
        item = PILL if seq == n + 1 else me * 1000 + seq
        if not empty.try_wait():  # no free cell: this wait will sleep in the kernel
            blocked += 1
            empty.wait()
        with mutex:
            pos = buffer[IN]
            buffer[pos % SLOTS] = item
            buffer[IN] = pos + 1
            count = buffer[COUNT] + 1
            buffer[COUNT] = count
            if count > buffer[HIGH]:
                buffer[HIGH] = count
            if pos == SLOTS:  # the first put after the buffer was full: two producers race
                ctx.step("mutex")
        full.post()  # one more item to take
        put_log.append([pos, item])
        if me == 1 and seq == n // 2:
            ctx.step("drain")
        pause(ctx, seq <= n // 2, busy_first=True)
    ctx.report("put", put_log)
    ctx.report("blocked", blocked)


@scenario.process("consumer", count=2)
def consumer(ctx):
    total = total_items(ctx.params)
    taken = []
    blocked = 0
    while True:
        if not full.try_wait():  # nothing to take: this wait will sleep in the kernel
            blocked += 1
            full.wait()
        with mutex:
            pos = buffer[OUT]
            item = buffer[pos % SLOTS]
            buffer[OUT] = pos + 1
            count = buffer[COUNT] - 1
            buffer[COUNT] = count
            if count < buffer[LOW]:
                buffer[LOW] = count
        empty.post()  # one more free cell
        taken.append([pos, item])
        if item == PILL:
            break
        pause(ctx, pos < total // 2, busy_first=False)
    ctx.report("taken", taken)
    ctx.report("blocked", blocked)
    if pos == total + 1:  # the very last cell of the run
        ctx.step("done")


def _logs(run, key: str, names: list[str]) -> list[list[int]]:
    return sorted(entry for n in names for entry in run.report(n, key, []))


@scenario.check(
    "every item produced was consumed exactly once, in the order it was put in",
    ko="생산한 항목은 모두 넣은 순서대로 정확히 한 번씩 소비되었다",
)
def once_in_order(run):
    put = _logs(run, "put", ["producer1", "producer2"])
    taken = _logs(run, "taken", ["consumer1", "consumer2"])
    items = [i for _, i in put if i != PILL]
    got = [i for _, i in taken if i != PILL]
    ok = put == taken and len(items) == total_items(run.params) and len(set(got)) == len(got)
    return (
        ok,
        f"{len(items)} items put, {len(got)} taken; same cell order: {readable(put == taken)}",
        f"넣은 항목 {len(items)}개, 꺼낸 항목 {len(got)}개; "
        f"칸 순서가 같음: {readable(put == taken, 'ko')}",
    )


@scenario.check(
    f"the buffer never overflowed nor underflowed (0 ≤ items held ≤ {SLOTS})",
    ko="버퍼는 넘치지도 모자라지도 않았다 (0 ≤ 담긴 항목 ≤ 5)",
)
def bounded(run):
    data = run.state.objects["buffer"].data
    cell = lambda i: int.from_bytes(data[8 * i : 8 * i + 8], "little", signed=True)  # noqa: E731
    low, high, count = cell(LOW), cell(HIGH), cell(COUNT)
    return (
        low >= 0 and high <= SLOTS and count == 0,
        f"held between {low} and {high}; now {count}",
        f"{low}~{high}개 사이로 담김; 지금 {count}개",
    )


@scenario.check(
    "the semaphores end where they started: empty = cells, full = 0, mutex = 1",
    ko="세마포어는 시작한 값으로 끝난다: empty = 칸 수, full = 0, mutex = 1",
)
def sems_back(run):
    o = run.state.objects
    vals = (o["empty"].value, o["full"].value, o["mutex"].value)
    return (
        vals == (SLOTS, 0, 1),
        f"empty {vals[0]}, full {vals[1]}, mutex {vals[2]}",
        f"empty {vals[0]}, full {vals[1]}, mutex {vals[2]}",
    )


@scenario.check(
    "waits really blocked: producers on a full buffer, consumers on an empty one",
    ko="대기는 실제로 블록되었다: 생산자는 가득 찬 버퍼에서, 소비자는 빈 버퍼에서",
)
def waited(run):
    producers = sum(run.report(n, "blocked", 0) for n in ("producer1", "producer2"))
    consumers = sum(run.report(n, "blocked", 0) for n in ("consumer1", "consumer2"))
    detail = f"producers found empty = 0 {producers} times, consumers found full = 0 {consumers}"
    return (
        producers > 0 and consumers > 0,
        detail,
        (f"생산자가 empty = 0을 만난 횟수 {producers}, 소비자가 full = 0을 만난 횟수 {consumers}"),
    )
