"""mq-async: the receiver keeps working and is told by the kernel when a message arrives."""

import signal
import time

from ipcviz.scenario import Scenario
from ipcviz.tracer import codes as C
from ipcviz.tracer.current import tracer

scenario = Scenario(
    "mq-async",
    "Asynchronous receive: work on, get notified (mq_notify)",
    teaches=["T25"],
    description=(
        "Instead of sleeping in mq_receive(), the receiver registers with mq_notify(): the "
        "kernel will send it a signal when a message lands in the empty queue. Meanwhile it "
        "does its own work. When the signal comes it takes every waiting message without "
        "blocking, registers again, and goes back to work. The code stays a simple loop."
    ),
    params={"messages": 6, "gap": 0.8},
    quick={"messages": 5, "gap": 0.05},
    limits={"messages": (1, 10000), "gap": (0, 60)},
    timeout=40,
    title_ko="비동기 수신: 할 일을 하다가 알림을 받는다 (mq_notify)",
    description_ko=(
        "받는 쪽은 mq_receive()에서 잠들어 있는 대신 mq_notify()로 등록합니다. 빈 큐에 메시지가 "
        "들어오면 커널이 시그널을 보내 줍니다. 그동안 받는 쪽은 자기 일을 합니다. 시그널이 오면 "
        "기다리고 있는 메시지를 블록되지 않고 모두 가져간 뒤, 다시 등록하고 하던 일로 돌아갑니다. "
        "코드는 단순한 반복문 그대로입니다."
    ),
)
scenario.step(
    "register",
    "The receiver asks the kernel: 'signal me (SIGUSR1) when a message arrives in the empty "
    "queue' — mq_notify(). Then it gets on with its own work instead of waiting.",
    "받는 쪽은 커널에 '빈 큐에 메시지가 들어오면 시그널(SIGUSR1)로 알려 줘'라고 "
    "부탁합니다(mq_notify()). 그리고 기다리는 대신 자기 일을 계속합니다.",
    teaches=["T25"],
)
scenario.step(
    "notified",
    "A message arrived: the kernel sent the signal. The receiver takes what is waiting "
    "(mq_receive never blocks now), registers again, and resumes its work.",
    "메시지가 도착하자 커널이 시그널을 보냈습니다. 받는 쪽은 쌓인 메시지를 꺼내고(이제 "
    "mq_receive는 막히지 않습니다) 다시 등록한 뒤 하던 일을 이어 갑니다.",
    teaches=["T25"],
)
scenario.step(
    "tally",
    "Every message was received, and between messages the receiver did useful work instead "
    "of sleeping in mq_receive().",
    "모든 메시지를 받았고, 메시지 사이사이에 받는 쪽은 mq_receive()에서 잠자는 대신 쓸모 있는 "
    "일을 했습니다.",
    teaches=["T25"],
)
q = scenario.posix_queue("q", max_messages=10, max_message_size=256)


def catches(pid: int, signum: int, seconds: float = 30.0) -> bool:
    """Wait until process ``pid`` has a handler for ``signum`` (SigCgt in /proc/PID/status)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as f:
                mask = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
        except (OSError, StopIteration, ValueError):
            return False
        if mask >> (signum - 1) & 1:
            return True
        time.sleep(0.005)
    return False


@scenario.process("sender")
def sender(ctx):
    # mq_notify fires only when a message lands in an EMPTY queue: send nothing before the
    # receiver has registered. It installs its handler right after registering, so the
    # kernel's list of caught signals (SigCgt) proves it, instead of a head start.
    ctx.report("receiver_registered", catches(ctx.pid_of("receiver"), signal.SIGUSR1))
    for i in range(1, ctx.params["messages"] + 1):
        ctx.sleep(ctx.params["gap"])
        q.send(f"job {i}".encode())
    ctx.sleep(ctx.params["gap"])
    q.send(b"done")


@scenario.process("receiver")
def receiver(ctx):
    signals = []
    ctx.step("register")
    # Register first, then install the handler (SIGUSR1 blocked meanwhile: a notification
    # that comes early waits): the handler's presence tells the sender we are registered.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    q.mq.request_notification(signal.SIGUSR1)
    signal.signal(signal.SIGUSR1, lambda signum, frame: signals.append(signum))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
    got, work, notified = [], 0, 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not signals:
            sum(range(2000))  # a unit of the receiver's own work
            work += 1
            continue
        signals.clear()
        notified += 1
        tracer.emit(C.MQ_NOTIFY, q.index)  # record "the kernel told us" in the trace
        if notified == 1:
            ctx.step("notified")
        q.mq.request_notification(signal.SIGUSR1)  # re-arm first, then empty the queue
        while (msg := q.try_receive()) is not None:
            got.append(msg[0].decode())
        if got and got[-1] == "done":
            break
    ctx.step("tally")
    ctx.report("received", got)
    ctx.report("notifications", notified)
    ctx.report("work_units", work)


@scenario.check(
    "the receiver was notified and got every message without a blocking receive",
    ko="받는 쪽은 알림을 받았고, 블록되는 receive 없이 모든 메시지를 받았다",
)
def all_by_notification(run):
    n = run.params["messages"]
    got = run.report("receiver", "received", [])
    notes = run.report("receiver", "notifications", 0)
    registered = run.report("sender", "receiver_registered") is True
    ok = got == [f"job {i}" for i in range(1, n + 1)] + ["done"] and notes >= 1 and registered
    when = "" if registered else " (the receiver was never seen registered)"
    when_ko = "" if registered else " (받는 쪽이 등록하는 것을 보지 못했음)"
    return (
        ok,
        f"{len(got)} messages after {notes} notifications{when}",
        f"알림 {notes}번 뒤에 메시지 {len(got)}개{when_ko}",
    )


@scenario.check("meanwhile it kept working (T25)", ko="그동안 계속 자기 일을 했다 (T25)")
def kept_working(run):
    work = run.report("receiver", "work_units", 0)
    return (
        work > 0,
        f"{work} units of its own work done while messages were on their way",
        f"메시지가 오는 동안 자기 일을 {work}단위 했음",
    )
