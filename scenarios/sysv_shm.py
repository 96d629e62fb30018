"""sysv-shm: System V shared memory (shmget, shmat), handed over with System V semaphores."""

from ipcviz.bytefmt import readable
from ipcviz.scenario import Scenario

scenario = Scenario(
    "sysv-shm",
    "System V shared memory: shmget, shmat and two semaphores",
    teaches=["T26", "T27", "T28", "T32", "T33"],
    description=(
        "The shared memory most C courses use: the engine asks the kernel for a segment by "
        "key (shmget) and attaches it (shmat) before forking, so the producer inherits the "
        "attachment; the consumer calls shmat itself and gets the same segment at another "
        "address. The producer writes squares into the segment one at a time; two System V "
        "semaphores hand each value over (empty = 1, full = 0), so nothing is overwritten "
        "before it is read. ipcs -m lists the segment while the run lasts."
    ),
    params={"values": 8},
    quick={"values": 5},
    limits={"values": (1, 10000)},
    timeout=60,
    title_ko="System V 공유 메모리: shmget, shmat, 그리고 세마포어 두 개",
    description_ko=(
        "대부분의 C 수업에서 쓰는 공유 메모리입니다. 엔진이 키로 커널에 세그먼트를 "
        "요청하고(shmget) fork하기 전에 붙이므로(shmat), 생산자는 그 연결을 물려받습니다. "
        "소비자는 직접 shmat을 호출해서 같은 세그먼트를 다른 주소에서 얻습니다. 생산자는 제곱수를 "
        "하나씩 세그먼트에 쓰고, System V 세마포어 두 개(empty = 1, full = 0)가 값을 하나씩 "
        "넘겨주므로, 읽기 전에 덮어써지는 값은 없습니다. 실행하는 동안 ipcs -m으로 세그먼트를 볼 "
        "수 있습니다."
    ),
)
scenario.step(
    "shmget",
    "shmget made one segment, named by a number (its key) and known to the kernel by its id. "
    "It was attached (shmat) before fork, so the producer inherited the attachment.",
    "shmget으로 세그먼트를 하나 만들었습니다. 이름 대신 숫자(키)로 부르고 커널은 id로 관리합니다. "
    "fork 전에 shmat으로 붙였기 때문에 생산자는 그 연결을 물려받았습니다.",
    teaches=["T27"],
)
scenario.step(
    "shmat",
    "The consumer attached the segment itself with shmat: the same physical pages, at a "
    "different address in its own address space (see 'mapped at'), and the kernel counts "
    "one more attachment (nattch).",
    "소비자는 shmat으로 세그먼트를 직접 붙였습니다. 같은 물리 페이지지만 자기 주소 공간의 다른 "
    "주소에 있습니다('mapped at' 참고). 커널은 연결 수(nattch)를 하나 더 셉니다.",
    teaches=["T28"],
    probe=True,
)
scenario.step(
    "handoff",
    "Writing and reading the segment are plain memory accesses, no system call. Two semaphores "
    "take turns: the producer waits on 'empty' before writing and posts 'full'; the consumer "
    "waits on 'full' before reading and posts 'empty'.",
    "세그먼트를 쓰고 읽는 것은 시스템 콜 없는 평범한 메모리 접근입니다. 두 세마포어가 차례를 "
    "정합니다. 생산자는 쓰기 전에 'empty'를 기다리고 'full'을 post하며, 소비자는 읽기 전에 "
    "'full'을 기다리고 'empty'를 post합니다.",
    teaches=["T26", "T32", "T33"],
)
scenario.step(
    "done",
    "Every value arrived exactly once. The segment outlives the processes that detach from it: "
    "the engine removes it (shmctl IPC_RMID) at the end, or ipcviz clean does after a crash.",
    "모든 값이 정확히 한 번씩 도착했습니다. 세그먼트는 연결을 끊은 프로세스보다 오래 남습니다. "
    "실행이 끝나면 엔진이 지우고(shmctl IPC_RMID), 비정상 종료 뒤에는 ipcviz clean이 지웁니다.",
    teaches=["T27"],
)
slot = scenario.sysv_shared_memory("slot", cells={"square": 1, "i": 1, "spare": 2})
empty = scenario.sysv_semaphore("empty", value=1)
full = scenario.sysv_semaphore("full", value=0)


@scenario.process("producer")
def producer(ctx):
    ctx.step("shmget")
    total = 0
    for i in range(1, ctx.params["values"] + 1):
        empty.wait()
        slot[0] = i * i  # a plain store into the segment
        slot[1] = i
        full.post()
        total += i * i
    ctx.report("sent", total)


@scenario.process("consumer")
def consumer(ctx):
    ctx.report("address", hex(slot.reattach()))
    ctx.step("shmat")
    ctx.step("handoff")
    total, seen = 0, []
    for _ in range(ctx.params["values"]):
        full.wait()
        seen.append(slot[1])
        total += slot[0]
        empty.post()
    ctx.report("received", total)
    ctx.report("order", seen)
    ctx.step("done")


@scenario.check(
    "the consumer read every value the producer wrote, once and in order",
    ko="소비자는 생산자가 쓴 값을 모두 한 번씩 순서대로 읽었다",
)
def all_received(run):
    sent, got = run.report("producer", "sent"), run.report("consumer", "received")
    order = run.report("consumer", "order", [])
    ok = sent == got and order == list(range(1, len(order) + 1)) and len(order) > 0
    return (
        ok,
        f"sent {readable(sent)}, received {readable(got)}, order {readable(order)}",
        f"보냄 {readable(sent, 'ko')}, 받음 {readable(got, 'ko')}, 순서 {readable(order, 'ko')}",
    )


@scenario.check(
    "the segment holds the last value, and both semaphores are back where they started",
    ko="세그먼트에는 마지막 값이 있고, 세마포어 둘은 시작한 값으로 돌아왔다",
)
def final_state(run):
    seg = run.state.objects["slot"]
    last = int.from_bytes(seg.data[0:8], "little", signed=True)
    n = len(run.report("consumer", "order", []))
    e, f = run.state.objects["empty"], run.state.objects["full"]
    ok = last == n * n and e.value == 1 and f.value == 0
    return (
        ok,
        f"cell 0 = {last}, empty = {e.value}, full = {f.value}",
        f"칸 0 = {last}, empty = {e.value}, full = {f.value}",
    )
