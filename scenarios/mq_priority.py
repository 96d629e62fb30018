"""mq-priority: a POSIX message queue delivers urgent messages first, and can fill up."""

from ipcviz.bytefmt import readable
from ipcviz.scenario import Scenario

scenario = Scenario(
    "mq-priority",
    "POSIX message queue: priorities, a full queue, and polling",
    teaches=["T17", "T19", "T20", "T23", "T24", "T25"],
    description=(
        "The sender puts messages with priorities into a queue of 4. The receiver first polls "
        "the queue descriptor (it does not block: it could do other work), then takes the "
        "messages: the highest priority first, oldest first within one priority. The queue "
        "keeps each message whole. When it is full, the sender waits; when it is empty, the "
        "receiver waits."
    ),
    params={"pause": 1.0},
    quick={"pause": 0.3},
    limits={"pause": (0, 60)},
    timeout=60,
    title_ko="POSIX 메시지 큐: 우선순위, 가득 찬 큐, 폴링",
    description_ko=(
        "보내는 쪽이 크기 4인 큐에 우선순위가 있는 메시지를 넣습니다. 받는 쪽은 먼저 큐 "
        "디스크립터를 폴링합니다(블록되지 않으니 다른 일을 할 수도 있습니다). 그다음 메시지를 "
        "가져갑니다. 우선순위가 가장 높은 것부터, 같은 우선순위 안에서는 먼저 온 것부터입니다. "
        "큐는 메시지를 하나하나 온전히 보관합니다. 가득 차면 보내는 쪽이 기다리고, 비면 받는 쪽이 "
        "기다립니다."
    ),
)
scenario.step(
    "poll",
    "The receiver polls the queue: nothing yet, and it did not block — it could do other work.",
    "receiver가 큐를 poll합니다. 아직 아무것도 없지만 막히지 않았습니다. 다른 일을 할 수 있습니다.",
    teaches=["T25"],
)
scenario.step(
    "fill",
    "The sender sends 4 messages with priorities 1, 5, 3, 5: the queue (max 4) is now full.",
    "sender가 우선순위 1, 5, 3, 5인 메시지 4개를 보냅니다. 최대 4개인 큐가 가득 찼습니다.",
    teaches=["T20", "T23"],
)
scenario.step(
    "full",
    "A fifth message: the queue is full, so mq_send blocks until the receiver makes room.",
    "다섯 번째 메시지: 큐가 가득 차서 mq_send는 receiver가 자리를 만들 때까지 기다립니다.",
    teaches=["T23"],
)
scenario.step(
    "priority",
    "The receiver takes the highest priority first (oldest first within a priority): urgent "
    "data does not wait behind slow data.",
    "receiver는 가장 높은 우선순위부터 꺼냅니다(같은 우선순위에서는 먼저 온 것부터). 급한 "
    "데이터가 느린 데이터 뒤에서 기다리지 않습니다.",
    teaches=["T24"],
)
scenario.step(
    "boundaries",
    "Every message arrives whole, exactly as sent: a queue keeps message boundaries.",
    "모든 메시지는 보낸 그대로 통째로 도착합니다. 큐는 메시지 경계를 지킵니다.",
    teaches=["T19", "T17"],
)
scenario.step(
    "empty",
    "The queue is empty: mq_receive waits until the sender's last message arrives.",
    "큐가 비었습니다. mq_receive는 sender의 마지막 메시지가 올 때까지 기다립니다.",
    teaches=["T20"],
)
q = scenario.posix_queue("q", max_messages=4, max_message_size=64)
FIRST = [(b"low: log line", 1), (b"URGENT: disk full", 5), (b"mid: report", 3), (b"URGENT: fan", 5)]


@scenario.process("sender")
def sender(ctx):
    # Send nothing before the receiver's first poll: proof, not a head start. Once the
    # kernel has it asleep in its poll loop, that first poll (never blocking) is done.
    ctx.report("receiver_wchan", ctx.wait_for_wchan(ctx.pid_of("receiver"), "poll", 30))
    ctx.sleep(ctx.params["pause"])  # (for the eye)
    ctx.step("fill")
    for data, prio in FIRST:
        q.send(data, prio)
    ctx.step("full")
    q.send(b"extra: sent when there was room", 2)  # blocks: the queue is full
    ctx.sleep(ctx.params["pause"])
    q.send(b"bye", 0)


@scenario.process("receiver")
def receiver(ctx):
    ctx.step("poll")
    ctx.report("poll_empty", not q.poll(0))
    while not q.poll(0.05):  # non-blocking checks; a real program would do other work here
        pass
    # Take nothing until the queue is full and the sender sleeps in mq_send (wq_sleep): then
    # all four are in, and the kernel hands the fifth over at the first receive.
    ctx.report("sender_wchan", ctx.wait_for_wchan(ctx.pid_of("sender"), "wq_sleep", 30))
    ctx.sleep(ctx.params["pause"])  # (for the eye)
    ctx.step("priority")
    got = [q.receive() for _ in range(5)]
    ctx.step("boundaries")
    ctx.step("empty")
    got.append(q.receive())  # blocks: empty until "bye"
    ctx.report("received", [[d.decode(), p] for d, p in got])


@scenario.check(
    "the first poll found the queue empty without blocking",
    ko="첫 폴링은 블록되지 않고 큐가 비어 있음을 알았다",
)
def polled(run):
    wchan = run.report("sender", "receiver_wchan") or ""
    empty = run.report("receiver", "poll_empty") is True
    if "poll" not in wchan:
        return (
            False,
            f"the receiver was never seen polling (last wait point {wchan!r})",
            f"받는 쪽이 폴링하는 것을 보지 못했음 (마지막 대기 지점 {wchan!r})",
        )
    found = "empty" if empty else "a message already"
    found_ko = "비어 있음" if empty else "이미 메시지가 있음"
    return (
        empty,
        f"poll found {found}; the sender waited until the receiver slept in {wchan!r}",
        f"poll 결과 {found_ko}; 보내는 쪽은 받는 쪽이 {wchan!r}에서 잠들 때까지 기다렸음",
    )


@scenario.check(
    "messages came out by priority, oldest first within a priority",
    ko="메시지는 우선순위 순서로, 같은 우선순위에서는 먼저 온 것부터 나왔다",
)
def by_priority(run):
    got = run.report("receiver", "received", [])
    want = [
        ["URGENT: disk full", 5],
        ["URGENT: fan", 5],
        ["mid: report", 3],
        ["extra: sent when there was room", 2],
        ["low: log line", 1],
        ["bye", 0],
    ]
    prios = [g[1] for g in got]
    return got == want, f"got {readable(prios)}", f"받은 순서 {readable(prios, 'ko')}"


@scenario.check(
    "the model's queue is empty at the end, like the kernel's",
    ko="끝에 모델의 큐는 커널의 큐처럼 비어 있다",
)
def empty(run):
    obj = run.state.objects["q"]
    return len(obj.messages) == 0 and obj.sent == obj.received == 6
