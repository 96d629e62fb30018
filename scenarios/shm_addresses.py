"""shm-addresses: one shared-memory segment, mapped at a different address in each process."""

import mmap
import os
import time

import posix_ipc

from ipcviz.probe.shm import shm_address
from ipcviz.scenario import Scenario

MAGIC = 0x1CC0FFEE

scenario = Scenario(
    "shm-addresses",
    "Shared memory: one segment, different addresses",
    teaches=["T27", "T28", "T26"],
    description=(
        "The engine asks the kernel for a POSIX shared-memory segment (shm_open + ftruncate). "
        "Each worker then attaches it by name with mmap(). Every process has its own virtual "
        "address space, so the same physical pages show up at a different address in each "
        "process (read from /proc/self/maps) — and still, what one writes the other reads."
    ),
    params={"pause": 0.8},
    quick={"pause": 0.0},
    limits={"pause": (0, 60)},
    timeout=30,
    title_ko="공유 메모리: 세그먼트 하나, 서로 다른 주소",
    description_ko=(
        "엔진이 커널에 POSIX 공유 메모리 세그먼트를 요청합니다(shm_open + ftruncate). 그러면 각 "
        "작업자가 이름으로 mmap()해서 붙입니다. 프로세스마다 자기 가상 주소 공간이 있으므로, 같은 "
        "물리 페이지가 프로세스마다 다른 주소에 나타납니다(/proc/self/maps에서 읽습니다). 그래도 "
        "한쪽이 쓴 것을 다른 쪽이 읽습니다."
    ),
)
scenario.step(
    "ask",
    "The segment was requested from the kernel by name (shm_open) and sized (ftruncate). "
    "The kernel owns the pages; any process that knows the name may map them.",
    "공유 메모리 세그먼트는 이름으로 커널에 요청(shm_open)하고 크기를 정했습니다(ftruncate). "
    "페이지는 커널이 관리하고, 이름을 아는 프로세스라면 누구나 매핑할 수 있습니다.",
    teaches=["T27"],
)
scenario.step(
    "map",
    "Each worker maps the segment with mmap(). Their address spaces differ (each has mapped "
    "other things first), so the kernel picks a different virtual address in each.",
    "각 워커가 mmap()으로 세그먼트를 매핑합니다. 워커마다 주소 공간의 모양이 다르기 때문에"
    "(먼저 매핑해 둔 것이 다름) 커널은 프로세스마다 다른 가상 주소를 고릅니다.",
    teaches=["T28"],
)
scenario.step(
    "addresses",
    "Compare the addresses each process reports from /proc/self/maps: different numbers, "
    "same physical memory. That is virtual memory at work.",
    "각 프로세스가 /proc/self/maps에서 읽은 주소를 비교해 보세요. 숫자는 다르지만 같은 물리 "
    "메모리입니다. 가상 메모리가 하는 일이죠.",
    teaches=["T28"],
)
scenario.step(
    "write",
    "w1 writes a value into cell 0 — a plain store instruction, no system call.",
    "w1이 셀 0에 값을 씁니다. 시스템 콜 없이 평범한 메모리 쓰기 한 번입니다.",
    teaches=["T26"],
)
scenario.step(
    "seen",
    "w2 reads cell 0 at its own, different address and sees w1's value: no medium in between.",
    "w2가 자기 주소(다른 주소)에서 셀 0을 읽고 w1이 쓴 값을 봅니다. 중간에 매개체가 없습니다.",
    teaches=["T26", "T28"],
)
seg = scenario.shared_memory("seg", cells={"magic": 1, "spare": 7})
WORKERS = ["w1", "w2", "w3"]


def remap(index: int) -> int:
    """Drop the mapping inherited from the engine and map the segment afresh, by name.

    A forked child inherits its parent's mappings at the same addresses, so first each
    worker maps a different number of other pages: its next mapping lands elsewhere.
    """
    size = -(-seg.size // mmap.PAGESIZE) * mmap.PAGESIZE
    # Fillers the size of the segment take, one by one, the spots the kernel would pick next.
    keep = [mmap.mmap(-1, size) for _ in range(index)]
    shm = posix_ipc.SharedMemory(seg.kernel_name)  # open the existing segment by name
    fresh = mmap.mmap(shm.fd, seg.size)
    shm.close_fd()
    seg.mm.close()  # unmap the inherited copy only now, so the new mapping cannot reuse its spot
    seg.mm = fresh
    remap.keep = keep  # keep the filler mapped for the life of the process
    return shm_address(os.getpid(), seg.kernel_name) or 0


def worker(ctx):
    me = WORKERS.index(ctx.name)
    if me == 0:
        ctx.step("ask")
        ctx.step("map")
    address = remap(me)
    ctx.report("address", hex(address))
    seg[1 + me] = address  # post the address so the others (and the viewer) can compare
    deadline = time.monotonic() + 10
    while any(seg[1 + i] == 0 for i in range(len(WORKERS))) and time.monotonic() < deadline:
        time.sleep(0.005)
    if me == 0:
        ctx.step("addresses")
        ctx.sleep(ctx.params["pause"])
        ctx.step("write")
        seg[0] = MAGIC
    else:
        while seg[0] != MAGIC and time.monotonic() < deadline:
            time.sleep(0.002)
        if me == 1:
            ctx.step("seen")
        ctx.report("saw", hex(seg[0]))


for _name in WORKERS:
    scenario.process(_name)(worker)


@scenario.check(
    "each process mapped the segment at a different virtual address (T28)",
    ko="각 프로세스는 세그먼트를 서로 다른 가상 주소에 매핑했다 (T28)",
)
def different(run):
    addrs = [run.report(n, "address") for n in WORKERS]
    ok = all(a and a != "0x0" for a in addrs) and len(set(addrs)) == len(addrs)
    return (
        ok,
        "addresses " + ", ".join(f"{n} {a}" for n, a in zip(WORKERS, addrs, strict=True)),
        "주소: " + ", ".join(f"{n} {a}" for n, a in zip(WORKERS, addrs, strict=True)),
    )


@scenario.check(
    "a value written by w1 at its address was read by the others at theirs",
    ko="w1이 자기 주소에 쓴 값을 다른 프로세스들이 자기 주소에서 읽었다",
)
def shared(run):
    saw = [run.report(n, "saw") for n in WORKERS[1:]]
    return (
        all(s == hex(MAGIC) for s in saw),
        f"w1 wrote {hex(MAGIC)}; others saw {saw}",
        f"w1이 {hex(MAGIC)}을(를) 씀; 다른 프로세스들이 본 값 {saw}",
    )
