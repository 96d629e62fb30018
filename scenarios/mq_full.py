"""mq-full: a queue holds a bounded amount of memory; when it is full the sender blocks."""

import time
from pathlib import Path

from ipcviz.scenario import Scenario

SYSV_MSG = 4096  # bytes per System V message: msgmnb / SYSV_MSG of them fill the queue


def _sysctl(path: str, default: int) -> int:
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return default


MSG_MAX = _sysctl("/proc/sys/fs/mqueue/msg_max", 10)
MSGSIZE_MAX = _sysctl("/proc/sys/fs/mqueue/msgsize_max", 8192)
MSGMNB = _sysctl("/proc/sys/kernel/msgmnb", 16384)
POSIX_SLOTS = min(5, MSG_MAX)

scenario = Scenario(
    "mq-full",
    "A full message queue blocks the sender",
    teaches=["T23", "T17"],
    description=(
        "A message queue lives in kernel memory, and the kernel bounds that memory. A POSIX "
        f"queue holds at most mq_maxmsg messages (here {POSIX_SLOTS}; the system-wide ceiling "
        f"is fs.mqueue.msg_max = {MSG_MAX}) of at most mq_msgsize bytes (ceiling "
        f"fs.mqueue.msgsize_max = {MSGSIZE_MAX}). A System V queue holds at most msg_qbytes "
        f"bytes (default kernel.msgmnb = {MSGMNB}). The receiver sleeps; the sender fills each "
        "queue and its next send blocks until the receiver takes a message."
    ),
    params={"nap": 2.0},
    quick={"nap": 0.4},
    limits={"nap": (0, 60)},
    timeout=40,
    title_ko="가득 찬 메시지 큐는 보내는 쪽을 블록시킨다",
    description_ko=(
        "메시지 큐는 커널 메모리에 있고, 커널은 그 메모리에 한도를 둡니다. POSIX 큐는 최대 "
        "mq_maxmsg개(여기서는 5개, 시스템 전체 상한은 fs.mqueue.msg_max = 10)의 메시지를, 메시지 "
        "하나당 최대 mq_msgsize 바이트(상한 fs.mqueue.msgsize_max = 8192)까지 담습니다. System V "
        "큐는 최대 msg_qbytes 바이트(기본값 kernel.msgmnb = 16384)를 담습니다. 받는 쪽이 잠들어 "
        "있는 동안 보내는 쪽이 각 큐를 채우고, 다음 send는 받는 쪽이 메시지를 가져갈 때까지 "
        "블록됩니다."
    ),
)
scenario.step(
    "limits",
    f"How much can a queue hold? The kernel decides: POSIX queues at most fs.mqueue.msg_max = "
    f"{MSG_MAX} messages of at most fs.mqueue.msgsize_max = {MSGSIZE_MAX} bytes each; a System "
    f"V queue at most msg_qbytes bytes, by default kernel.msgmnb = {MSGMNB}.",
    f"큐에는 얼마나 담을 수 있을까요? 커널이 정합니다. POSIX 큐는 최대 fs.mqueue.msg_max = "
    f"{MSG_MAX}개의 메시지를, 메시지당 최대 fs.mqueue.msgsize_max = {MSGSIZE_MAX}바이트까지 "
    f"담고, System V 큐는 최대 msg_qbytes 바이트(기본값 kernel.msgmnb = {MSGMNB})까지 "
    "담습니다.",
    teaches=["T23", "T17"],
)
scenario.step(
    "posix-full",
    f"The POSIX queue pq holds its {POSIX_SLOTS} messages: it is full. The next mq_send() "
    "blocks — the sender sleeps in the kernel until a message is taken out.",
    f"POSIX 큐 pq에 메시지 {POSIX_SLOTS}개가 찼습니다. 다음 mq_send()는 막히고, 메시지가 "
    "빠져나갈 때까지 보내는 쪽은 커널 안에서 잠듭니다.",
    teaches=["T23"],
)
scenario.step(
    "sysv-full",
    f"The System V queue sq counts bytes, not messages: {MSGMNB // SYSV_MSG} messages of "
    f"{SYSV_MSG} bytes reach msg_qbytes = {MSGMNB}. The next msgsnd() blocks.",
    f"System V 큐 sq는 메시지 개수가 아니라 바이트로 셉니다. {SYSV_MSG}바이트짜리 메시지 "
    f"{MSGMNB // SYSV_MSG}개면 msg_qbytes = {MSGMNB}에 닿습니다. 다음 msgsnd()는 막힙니다.",
    teaches=["T23"],
)
scenario.step(
    "drained",
    "The receiver woke up and took messages: room appeared and the blocked send went "
    "through. Large data needs a queue big enough — or another mechanism, such as shared "
    "memory.",
    "받는 쪽이 깨어나 메시지를 꺼내자 자리가 생겼고, 막혀 있던 send가 통과했습니다. 큰 데이터를 "
    "보내려면 충분히 큰 큐가 필요하고, 아니면 공유 메모리 같은 다른 방법을 써야 합니다.",
    teaches=["T23"],
)
pq = scenario.posix_queue("pq", max_messages=POSIX_SLOTS, max_message_size=1024)
sq = scenario.sysv_queue("sq", max_message_size=SYSV_MSG)


@scenario.process("sender")
def sender(ctx):
    ctx.step("limits")
    n = 0
    while pq.mq.current_messages < pq.max_messages:
        n += 1
        pq.send(f"posix message {n}".encode())
    ctx.report("pq_held", pq.mq.current_messages)
    ctx.step("posix-full")
    t0 = time.monotonic()
    pq.send(b"one too many")
    ctx.report("pq_blocked_s", round(time.monotonic() - t0, 3))
    n = 0
    qbytes = sq.mq.max_size
    while (sq.mq.current_messages + 1) * SYSV_MSG <= qbytes:
        n += 1
        sq.send(bytes([65 + n % 26]) * SYSV_MSG)
    ctx.report("sq_held", sq.mq.current_messages * SYSV_MSG)
    ctx.report("sq_qbytes", qbytes)
    ctx.step("sysv-full")
    t0 = time.monotonic()
    sq.send(b"!" * SYSV_MSG)
    ctx.report("sq_blocked_s", round(time.monotonic() - t0, 3))


@scenario.process("receiver")
def receiver(ctx):
    sender_pid = ctx.pid_of("sender")
    # Ask the kernel where the sender sleeps: wq_sleep = blocked in mq_send on a full queue.
    ctx.report("pq_sender_wchan", ctx.wait_for_wchan(sender_pid, "wq_sleep"))
    ctx.sleep(ctx.params["nap"])
    got = [pq.receive()[0] for _ in range(pq.max_messages + 1)]
    ctx.report("pq_received", len(got))
    # do_msgsnd = blocked in msgsnd because the System V queue holds msg_qbytes bytes.
    ctx.report("sq_sender_wchan", ctx.wait_for_wchan(sender_pid, "do_msgsnd"))
    ctx.sleep(ctx.params["nap"])
    count = sq.mq.max_size // SYSV_MSG + 1
    got = [sq.receive()[0] for _ in range(count)]
    ctx.step("drained")
    ctx.report("sq_received", len(got))


@scenario.check(
    "the POSIX queue was full (mq_curmsgs = mq_maxmsg) and the next send blocked",
    ko="POSIX 큐가 가득 찼고(mq_curmsgs = mq_maxmsg) 다음 send가 블록되었다",
)
def posix_blocked(run):
    held = run.report("sender", "pq_held")
    blocked = run.report("sender", "pq_blocked_s", 0)
    wchan = run.report("receiver", "pq_sender_wchan") or ""
    ok = held == POSIX_SLOTS and "wq_sleep" in wchan
    return (
        ok,
        (
            f"{held}/{POSIX_SLOTS} messages held; the kernel had the sender asleep in {wchan!r}; "
            f"the send waited {blocked} s"
        ),
        (
            f"메시지 {held}/{POSIX_SLOTS}개 담김; 커널은 보내는 쪽을 {wchan!r}에서 재우고 있었음; "
            f"send는 {blocked}초 기다렸음"
        ),
    )


@scenario.check(
    "the System V queue was full (bytes = msg_qbytes) and the next send blocked",
    ko="System V 큐가 가득 찼고(바이트 = msg_qbytes) 다음 send가 블록되었다",
)
def sysv_blocked(run):
    held, qbytes = run.report("sender", "sq_held"), run.report("sender", "sq_qbytes")
    blocked = run.report("sender", "sq_blocked_s", 0)
    wchan = run.report("receiver", "sq_sender_wchan") or ""
    ok = held is not None and held + SYSV_MSG > qbytes and "do_msgsnd" in wchan
    return (
        ok,
        (
            f"{held}/{qbytes} bytes held; the kernel had the sender asleep in {wchan!r}; "
            f"the send waited {blocked} s"
        ),
        (
            f"{held}/{qbytes} 바이트 담김; 커널은 보내는 쪽을 {wchan!r}에서 재우고 있었음; "
            f"send는 {blocked}초 기다렸음"
        ),
    )


@scenario.check("every message sent was received", ko="보낸 메시지는 모두 받았다")
def all_received(run):
    p, s = run.report("receiver", "pq_received"), run.report("receiver", "sq_received")
    ok = p == POSIX_SLOTS + 1 and s == MSGMNB // SYSV_MSG + 1
    return (
        ok,
        f"{p} POSIX and {s} System V messages received",
        f"POSIX 메시지 {p}개, System V 메시지 {s}개 받음",
    )
