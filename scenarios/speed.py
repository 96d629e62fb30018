"""speed: why shared memory is the fastest IPC — the data is not copied through the kernel.

The same bytes go through a pipe, a FIFO, a POSIX queue, a System V queue and a shared-memory
ring. For each, the receiver measures MiB/s, and both sides count what the transfer cost:
the system calls it made and the bytes those calls copied through the kernel. The read()/
write() counts are the kernel's own (/proc/self/io: syscr, syscw, rchar, wchar); the queue
and semaphore calls are counted where the code makes them.

The checks verify the lecture's claims by the counts, which no load can change: shared
memory passes no byte through the kernel (a pipe copies each byte twice) and needs a few
semaphore calls per batch (a pipe at least one read() per 64 KiB). Throughput is measured
and shown, but no check races one mechanism against another: on a busy machine the order
can change, the counts cannot.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from typing import Any

from ipcviz.scenario import Scenario

MIB = 1 << 20
MSG = 8192  # bytes per queue message: the largest every queue accepts by default
CHUNK = 64 * 1024  # bytes per pipe write(): the default pipe capacity
BATCH = 2 * MIB  # bytes per shared-memory batch: one slot of the ring
SLOTS = 2  # shared-memory ring: 2 slots of BATCH bytes, handed over with two semaphores
FIRST = 8192  # the first message of each mechanism goes through the recording wrappers
MECHANISMS = ["pipe", "fifo", "posix_mq", "sysv_mq", "shm"]
#: Each byte goes into the kernel (write, mq_send, msgsnd) and out again (read, mq_receive,
#: msgrcv): two copies; shared memory is written and read in place: none through the kernel.
KERNEL_COPIES = {"pipe": 2, "fifo": 2, "posix_mq": 2, "sysv_mq": 2, "shm": 0}

scenario = Scenario(
    "speed",
    "Why is shared memory the fastest IPC? Count the copies",
    teaches=["T11", "T29"],
    description=(
        "The sender pushes the same bytes through a pipe, a FIFO, a POSIX queue, a System V "
        "queue and a shared-memory ring. A pipe, a FIFO and a queue copy every byte into the "
        "kernel with one system call and out of it with another, in pieces of at most 64 KiB "
        f"(a pipe) or {MSG // 1024} KiB (a queue message). With shared memory the sender writes "
        f"a {BATCH // MIB} MiB batch straight into the segment and the receiver uses it where "
        "it lies: no byte passes through the kernel, and the only system calls are the "
        "semaphore operations that hand each batch over. For each mechanism the run shows "
        "MiB/s, the system calls per MiB and the MiB copied through the kernel per MiB "
        "delivered (read()/write() counted by the kernel itself, /proc/self/io). The timed "
        "loops talk to the kernel objects directly, so ipcviz's recording is not measured; "
        "the first message of each is recorded as usual."
    ),
    params={"mib": 128, "rounds": 3},
    quick={"mib": 32, "rounds": 2},
    limits={"mib": (1, 4096), "rounds": (1, 100)},
    timeout=120,
    title_ko="공유 메모리는 왜 가장 빠른 IPC인가? 복사 횟수를 세어 보자",
    description_ko=(
        "보내는 쪽이 같은 바이트를 파이프, FIFO, POSIX 큐, System V 큐, 공유 메모리 링으로 밀어 "
        "넣습니다. 파이프, FIFO, 큐는 시스템 콜 하나로 모든 바이트를 커널 안으로 복사하고, 또 "
        "다른 시스템 콜로 밖으로 복사합니다. 한 번에 최대 64 KiB(파이프)나 8 KiB(큐 "
        "메시지)씩입니다. 공유 메모리에서는 보내는 쪽이 2 MiB 묶음을 세그먼트에 바로 쓰고, 받는 "
        "쪽은 그 자리에서 씁니다. 커널을 거치는 바이트는 하나도 없고, 시스템 콜은 묶음을 넘겨주는 "
        "세마포어 연산뿐입니다. 메커니즘마다 MiB/s, MiB당 시스템 콜 수, 전달한 MiB당 커널을 거쳐 "
        "복사된 MiB를 보여 줍니다(read()/write()는 커널이 직접 센 값, /proc/self/io). 시간을 재는 "
        "반복문은 커널 객체와 직접 통신하므로 ipcviz의 기록은 측정에 들어가지 않습니다. 각 "
        "메커니즘의 첫 메시지는 평소처럼 기록됩니다."
    ),
)
scenario.step(
    "start",
    "The same bytes, through five mechanisms in turn. For each, the receiver measures the "
    "throughput, and both sides count the system calls and the bytes copied through the kernel.",
    "같은 데이터를 다섯 가지 방법으로 차례로 보냅니다. 받는 쪽은 각각의 처리량을 재고, 양쪽 모두 "
    "시스템 콜 수와 커널을 거쳐 복사된 바이트 수를 셉니다.",
    teaches=["T11"],
)
scenario.step(
    "kernel-copies",
    "Pipe, FIFO and queues: every byte is copied from the sender into the kernel "
    "(write/mq_send/msgsnd) and from the kernel to the receiver (read/mq_receive/msgrcv) — two "
    "copies, and on each side at least one system call per 64 KiB (a pipe holds no more) or "
    "per 8 KiB message (a queue).",
    "파이프, FIFO, 메시지 큐는 모든 바이트를 보내는 쪽에서 커널로(write/mq_send/msgsnd), 커널에서 "
    "받는 쪽으로(read/mq_receive/msgrcv) 복사합니다. 복사가 두 번이고, 양쪽 모두 64 KiB마다"
    "(파이프에는 그 이상 들어가지 않습니다) 또는 8 KiB 메시지마다(큐) 시스템 콜을 적어도 한 번씩 "
    "합니다.",
    teaches=["T11"],
)
scenario.step(
    "shm",
    f"Shared memory: the sender writes a {BATCH // MIB} MiB batch straight into the segment and "
    "the receiver checks it in place, without copying it out. No byte goes through the kernel; "
    "two semaphores only hand each batch over.",
    f"공유 메모리에서는 보내는 쪽이 {BATCH // MIB} MiB 묶음을 세그먼트에 직접 쓰고, 받는 쪽은 "
    "그것을 밖으로 복사하지 않고 그 자리에서 확인합니다. 커널을 거치는 바이트가 하나도 없고, "
    "세마포어 두 개는 묶음을 넘겨주는 역할만 합니다.",
    teaches=["T29"],
)
scenario.step(
    "result",
    "Compare the counts: shared memory copied nothing through the kernel and made a few "
    "system calls per MiB, the pipe copied every byte twice and made dozens. That is why shared "
    "memory is the fastest IPC; the MiB/s measured here usually show it, but on a busy "
    "machine the throughput varies — the counts do not.",
    "숫자를 비교해 보세요. 공유 메모리는 커널을 거쳐 복사한 것이 없고 MiB당 시스템 콜도 몇 번뿐"
    "이지만, 파이프는 모든 바이트를 두 번 복사하고 MiB당 수십 번의 시스템 콜을 했습니다. 그래서 "
    "공유 메모리가 가장 빠른 IPC입니다. 여기서 잰 MiB/s도 대개 그렇게 나오지만, 바쁜 컴퓨터에서는 "
    "처리량이 흔들립니다. 개수는 흔들리지 않습니다.",
    teaches=["T11", "T29"],
)
pipe = scenario.pipe("pipe", writer="sender", reader="receiver")
fifo = scenario.fifo("fifo")
pmq = scenario.posix_queue("posix_mq", max_messages=10, max_message_size=MSG)
smq = scenario.sysv_queue("sysv_mq", max_message_size=MSG)
ring = scenario.shared_memory("ring", cells={f"slot{i}": BATCH // 8 for i in range(SLOTS)})
empty = scenario.semaphore("empty", value=SLOTS)
full = scenario.semaphore("full", value=0)
for _obj in scenario.objects:
    _obj.traced = False  # used raw (no events) to measure speed: the prober does not compare

#: The bytes sent: batch ``i`` is ``SOURCE[i % 251 : i % 251 + BATCH]``, different for
#: consecutive batches, so a stale or mixed-up batch is caught.
SOURCE = memoryview(bytes(range(251)) * (BATCH // 251 + 2))


def expected(i: int, n: int = BATCH) -> memoryview:
    k = i % 251
    return SOURCE[k : k + n]


def checksums(n: int) -> list[int]:
    """adler32 of each distinct batch, computed before any timing: the receivers use every
    byte they get (a checksum, in C) and compare, the same way for every mechanism."""
    return [zlib.adler32(expected(k)) for k in range(min(n, 251))]


def batches(mib: int) -> int:
    """Batches of BATCH bytes per mechanism and round (every mechanism moves the same)."""
    return max(1, mib * MIB // BATCH)


class Cost:
    """What one side spent on one mechanism: calls made in the code, and the kernel's own
    count of read()/write() system calls and of the bytes they copied (/proc/self/io)."""

    def __init__(self) -> None:
        self.calls = 0
        self._io, self._own = _io()

    def done(self) -> dict[str, int]:
        after, _ = _io()
        # The first sample's own read() is in the difference: one call, its bytes.
        own = {"syscr": 1, "rchar": self._own}
        return {"calls": self.calls, **{k: after[k] - self._io[k] - own.get(k, 0) for k in after}}


def _io() -> tuple[dict[str, int], int]:
    """/proc/self/io's counters, read with exactly one read() (whose own bytes and call
    are counted from the next sample on), and how many bytes that read() returned."""
    fd = os.open("/proc/self/io", os.O_RDONLY)
    try:
        data = os.read(fd, 4096)
    finally:
        os.close(fd)
    fields = dict(line.split(b":") for line in data.splitlines())
    return {k: int(fields[k.encode()]) for k in ("syscr", "syscw", "rchar", "wchar")}, len(data)


# -- the sender ----------------------------------------------------------------------------


def send_stream(fd: int, n: int) -> dict[str, int]:
    cost = Cost()
    for i in range(n):
        data = expected(i)
        off = 0
        while off < BATCH:  # one write() per 64 KiB (fewer bytes only if interrupted)
            off += os.write(fd, data[off : off + CHUNK])
            cost.calls += 1
    return cost.done()


def send_queue(send: Any, n: int) -> dict[str, int]:
    cost = Cost()
    for i in range(n):
        data = expected(i)
        for off in range(0, BATCH, MSG):
            send(data[off : off + MSG])
            cost.calls += 1
    return cost.done()


def send_shm(n: int) -> dict[str, int]:
    cost = Cost()
    seg, sem_empty, sem_full = memoryview(ring.mm), empty.sem, full.sem
    for i in range(n):
        sem_empty.acquire()  # a free slot (a system call only if it has to sleep)
        off = (i % SLOTS) * BATCH
        seg[off : off + BATCH] = expected(i)  # written straight into the segment
        sem_full.release()  # the batch is there (a system call only if someone sleeps)
        cost.calls += 2
    seg.release()
    return cost.done()


@scenario.process("sender")
def sender(ctx):
    ctx.step("start")
    fifo.open_write()
    n = batches(ctx.params["mib"])
    first = bytes(expected(0, FIRST))
    for rnd in range(ctx.params["rounds"]):
        if rnd == 0:
            ctx.step("kernel-copies")
        cost = {}
        pipe.write(first)  # recorded, then the timed rest goes to the kernel object directly
        cost["pipe"] = send_stream(pipe.write_fd, n)
        fifo.write(first)
        cost["fifo"] = send_stream(fifo.write_fd, n)
        pmq.send(first)
        cost["posix_mq"] = send_queue(pmq.mq.send, n)
        smq.send(first)
        cost["sysv_mq"] = send_queue(smq.mq.send, n)
        if rnd == 0:
            ctx.step("shm")
        empty.wait()
        ring.write_bytes(0, first)
        full.post()
        cost["shm"] = send_shm(n)
        ctx.report(f"round{rnd + 1}_sender", cost)
        smq.send(json.dumps(cost).encode())  # the receiver sums both sides up
    pipe.close_write()
    fifo.close_write()


# -- the receiver --------------------------------------------------------------------------


def recv_stream(fd: int, n: int, sums: list[int]) -> tuple[dict[str, int], bool]:
    cost = Cost()
    buf = bytearray(BATCH)
    view = memoryview(buf)
    ok = True
    for i in range(n):
        got = 0
        while got < BATCH:
            k = os.readv(fd, [view[got:]])  # copied out of the kernel into our buffer
            cost.calls += 1
            if not k:
                raise EOFError("the sender closed early")
            got += k
        ok &= zlib.adler32(view) == sums[i % 251]  # then used: every byte
    return cost.done(), ok


def recv_queue(receive: Any, n: int, sums: list[int]) -> tuple[dict[str, int], bool]:
    cost = Cost()
    ok = True
    for i in range(n):
        check = 1  # adler32's start value
        for _ in range(BATCH // MSG):
            check = zlib.adler32(receive()[0], check)  # copied out of the kernel, then used
            cost.calls += 1
        ok &= check == sums[i % 251]
    return cost.done(), ok


def recv_shm(n: int, sums: list[int]) -> tuple[dict[str, int], bool]:
    cost = Cost()
    seg, sem_empty, sem_full = memoryview(ring.mm), empty.sem, full.sem
    ok = True
    for i in range(n):
        sem_full.acquire()
        off = (i % SLOTS) * BATCH
        ok &= zlib.adler32(seg[off : off + BATCH]) == sums[i % 251]  # used in place: no copy
        sem_empty.release()
        cost.calls += 2
    seg.release()
    return cost.done(), ok


@scenario.process("receiver")
def receiver(ctx):
    fifo.open_read()
    n = batches(ctx.params["mib"])
    sums = checksums(n)
    first = bytes(expected(0, FIRST))
    clock = time.perf_counter
    sides: list[dict[str, dict[str, int]]] = []  # per round: the sender's, then our counts
    rates: list[dict[str, float]] = []
    for rnd in range(ctx.params["rounds"]):
        cost, rate, intact = {}, {}, True
        for name, take_first, timed in (
            ("pipe", lambda: pipe.read_exactly(FIRST), lambda: recv_stream(pipe.read_fd, n, sums)),
            ("fifo", lambda: fifo.read_exactly(FIRST), lambda: recv_stream(fifo.read_fd, n, sums)),
            ("posix_mq", lambda: pmq.receive()[0], lambda: recv_queue(pmq.mq.receive, n, sums)),
            ("sysv_mq", lambda: smq.receive()[0], lambda: recv_queue(smq.mq.receive, n, sums)),
            ("shm", take_first_shm, lambda: recv_shm(n, sums)),
        ):
            intact &= take_first() == first
            t0 = clock()
            cost[name], ok = timed()
            rate[name] = round(n * BATCH / MIB / (clock() - t0), 1)
            intact &= ok
        ctx.report(f"round{rnd + 1}_receiver", cost)
        ctx.report(f"round{rnd + 1}_MiB_per_s", rate)
        ctx.report(f"round{rnd + 1}_intact", bool(intact))
        sides.append(json.loads(smq.receive()[0]))
        sides.append(cost)
        rates.append(rate)
    summary = summarize(sides, rates, ctx.params["rounds"] * n * BATCH / MIB)
    for m in MECHANISMS:
        ctx.report(m, describe(summary[m]))
    ctx.step("result")
    while pipe.read(65536):
        pass
    while fifo.read(65536):
        pass


def take_first_shm() -> bytes:
    full.wait()
    data = ring.read_bytes(0, FIRST)
    empty.post()
    return data


# -- what the checks and the report compute -------------------------------------------------


def summarize(
    sides: list[dict[str, dict[str, int]]], rates: list[dict[str, float]], mib: float
) -> dict[str, dict[str, float]]:
    """Per mechanism: the median round's MiB/s and, per MiB delivered, the system calls and
    the MiB copied through the kernel, both sides together, over every round.

    System calls: read()/write() as the kernel counted them, plus the queue and semaphore
    calls counted in the code (each semaphore operation counted as one, though an
    uncontended one makes none: an upper bound). Copies: read()/write() bytes as the kernel
    counted them; for the queues, whose calls /proc/self/io does not count, from the code
    path (every byte in with the send, out with the receive).
    """
    out: dict[str, dict[str, float]] = {}
    for m in MECHANISMS:
        costs = [side.get(m, {}) for side in sides]
        rw_calls = sum(c.get("syscr", 0) + c.get("syscw", 0) for c in costs)
        rw_mib = sum(c.get("rchar", 0) + c.get("wchar", 0) for c in costs) / MIB
        code_calls = sum(c.get("calls", 0) for c in costs)
        if m in ("posix_mq", "sysv_mq"):
            calls, copied = code_calls + rw_calls, KERNEL_COPIES[m] * mib + rw_mib
        elif m == "shm":
            calls, copied = code_calls + rw_calls, rw_mib
        else:
            calls, copied = rw_calls, rw_mib
        speeds = sorted(r.get(m, 0.0) for r in rates)
        out[m] = {
            "MiB_per_s": speeds[len(speeds) // 2] if speeds else 0.0,
            "syscalls_per_MiB": round(calls / mib, 2),
            "kernel_copies_per_MiB": round(copied / mib, 3),
        }
    return out


def describe(s: dict[str, float]) -> str:
    return (
        f"{s['MiB_per_s']:g} MiB/s, {s['syscalls_per_MiB']:g} system calls per MiB, "
        f"{s['kernel_copies_per_MiB']:g} MiB copied through the kernel per MiB"
    )


def _summary(run) -> dict[str, dict[str, float]]:
    """The same summary as the receiver's, from the raw per-round reports."""
    rounds = range(1, run.params["rounds"] + 1)
    sides = [
        run.report(side, f"round{r}_{side}", {}) for r in rounds for side in ("sender", "receiver")
    ]
    rates = [run.report("receiver", f"round{r}_MiB_per_s", {}) for r in rounds]
    return summarize(sides, rates, run.params["rounds"] * batches(run.params["mib"]) * BATCH / MIB)


@scenario.check(
    "every batch arrived intact, through every mechanism, in every round",
    ko="모든 묶음이 모든 메커니즘을 통해, 매 회차마다 온전히 도착했다",
)
def intact(run):
    rounds = run.params["rounds"]
    flags = [run.report("receiver", f"round{r + 1}_intact") for r in range(rounds)]
    return all(flags), f"intact per round: {flags}", f"회차별 온전함: {flags}"


@scenario.check(
    "claim (T29): shared memory copies no byte through the kernel; a pipe, two copies",
    ko=("주장 (T29): 공유 메모리는 커널을 거쳐 복사하는 바이트가 없고, 파이프는 두 번 복사한다"),
)
def no_kernel_copies(run):
    cost = _summary(run)
    shm, p = (cost[m]["kernel_copies_per_MiB"] for m in ("shm", "pipe"))
    ok = shm < 0.01 and p >= 1.99  # the kernel's own byte counts, per MiB delivered
    detail = ", ".join(f"{m} {cost[m]['kernel_copies_per_MiB']:g}" for m in MECHANISMS)
    return (
        ok,
        (
            f"MiB copied through the kernel per MiB delivered: {detail} (shared memory's only "
            "copy is the sender's own write into the segment)"
        ),
        (
            f"전달한 MiB당 커널을 거쳐 복사된 MiB: {detail} (공유 메모리의 유일한 복사는 "
            "보내는 쪽이 세그먼트에 직접 쓰는 것)"
        ),
    )


@scenario.check(
    "claim (T11): shared memory needs far fewer system calls per MiB (≤ 1/4 a pipe's)",
    ko="주장 (T11): 공유 메모리는 MiB당 시스템 콜이 훨씬 적다 (파이프의 1/4 이하)",
)
def fewer_syscalls(run):
    cost = _summary(run)
    shm, p = (cost[m]["syscalls_per_MiB"] for m in ("shm", "pipe"))
    ok = shm > 0 and 4 * shm <= p
    detail = ", ".join(f"{m} {cost[m]['syscalls_per_MiB']:g}" for m in MECHANISMS)
    return (
        ok,
        f"system calls per MiB (at most, for semaphores): {detail}",
        f"MiB당 시스템 콜 (세마포어는 최대값): {detail}",
    )
