"""c/posix-mq-priority: posix_mq_priority.c under strace — a notice, a full queue, priorities.

Each step is said when strace shows its event (see ipcviz/sources/strace/cscenario.py);
the checks read the recorded events.
"""

from ipcviz.bytefmt import readable
from ipcviz.sources.strace.cscenario import ProgramScenario, data, ever, of

scenario = ProgramScenario(
    "c/posix-mq-priority",
    "C: POSIX message queue — a notice, a full queue, urgent messages first",
    example="c/posix-mq-priority",
    teaches=["T17", "T23", "T24", "T25"],
    description=(
        "posix_mq_priority.c: the parent makes a queue of at most 4 messages and asks to be "
        "notified (mq_notify, SIGUSR1) when a message arrives in the empty queue. The child "
        "sends five messages with priorities 1, 5, 3, 5, 2; the fifth finds the queue full and "
        "waits. The parent then receives: the highest priority first, the oldest first within "
        "one priority. Watched through strace: every call and every message is real."
    ),
    title_ko="C: POSIX 메시지 큐 — 도착 알림, 가득 찬 큐, 급한 메시지 먼저",
    description_ko=(
        "posix_mq_priority.c: 부모는 메시지를 최대 4개 담는 큐를 만들고, 빈 큐에 메시지가 "
        "도착하면 알려 달라고(mq_notify, SIGUSR1) 요청합니다. 자식은 우선순위 1, 5, 3, 5, 2인 "
        "메시지 다섯 개를 보내는데, 다섯 번째는 큐가 가득 차 있어 기다립니다. 그다음 부모가 "
        "받습니다. 우선순위가 가장 높은 것부터, 같은 우선순위 안에서는 먼저 온 것부터 나옵니다. "
        "strace로 지켜보므로 모든 호출과 모든 메시지가 실제입니다."
    ),
)


def _queued(events):
    """Messages in the queue after the events so far (sent minus received)."""
    return len(of(events, "mq.send")) - len(of(events, "mq.recv"))


def _sent_before_receiving(events):
    """Sends seen before the first receive."""
    recvs = of(events, "mq.recv")
    first = recvs[0]["seq"] if recvs else None
    return sum(1 for e in of(events, "mq.send") if first is None or e["seq"] < first)


def _capacity(events):
    declared = of(events, "obj.declare", type="posix_mq")
    return declared[0].get("max_messages", 0) if declared else 0


def _fifth_waited(events):
    """The fifth send began before the first receive and ended after it: it waited."""
    sends, recvs = of(events, "mq.send"), of(events, "mq.recv")
    if len(sends) < 5 or not recvs:
        return False
    fifth, first = sends[4], recvs[0]
    return fifth.get("since", 0) < first["since"] and fifth["seq"] > first["seq"]


scenario.step(
    "open",
    "mq_open made a queue in kernel memory: at most 4 messages of at most 64 bytes.",
    "mq_open이 커널 메모리에 큐를 만들었습니다. 최대 64바이트짜리 메시지를 최대 4개 담습니다.",
    teaches=["T17"],
    when=ever("obj.declare", type="posix_mq", max_messages=4),
)
scenario.step(
    "notify",
    "The parent asks the kernel for a signal (mq_notify) when a message arrives in the empty "
    "queue: it need not sit in mq_receive to learn of it.",
    "부모는 빈 큐에 메시지가 도착하면 신호를 달라고 커널에 요청합니다(mq_notify). 알기 위해 "
    "mq_receive에서 기다릴 필요가 없습니다.",
    teaches=["T25"],
    when=ever("mq.notify"),
)
scenario.step(
    "full",
    "The child sent four messages before any was received: the queue was full (4 of 4). "
    "A send to a full queue waits until there is room.",
    "아무것도 받기 전에 자식이 메시지 4개를 보냈습니다. 큐가 가득 찼습니다(4/4). 가득 찬 큐에 "
    "보내는 mq_send는 자리가 날 때까지 기다립니다.",
    teaches=["T23"],
    when=lambda ev: _capacity(ev) > 0 and _sent_before_receiving(ev) >= _capacity(ev),
)
scenario.step(
    "priority",
    "The parent's first receive took priority 5, not the oldest message (priority 1): urgent "
    "messages do not wait behind older ones.",
    "부모의 첫 수신은 가장 오래된 메시지(우선순위 1)가 아니라 우선순위 5를 가져갔습니다. 급한 "
    "메시지는 오래된 메시지 뒤에서 기다리지 않습니다.",
    teaches=["T24"],
    when=lambda ev: (
        [e.get("prio") for e in of(ev, "mq.recv")][:1] == [5]
        and [e.get("prio") for e in of(ev, "mq.send")][:1] == [1]
    ),
)
scenario.step(
    "room",
    "That receive made room: the child's fifth send (priority 2), waiting since before it, "
    "went in.",
    "그 수신으로 자리가 생겼습니다. 그 전부터 기다리던 자식의 다섯 번째 send(우선순위 2)가 "
    "들어갔습니다.",
    teaches=["T23"],
    when=lambda ev: _fifth_waited(ev),
)
scenario.step(
    "empty",
    "Five sent, five received: the queue is empty again.",
    "다섯 개를 보내고 다섯 개를 받았습니다. 큐가 다시 비었습니다.",
    when=lambda ev: _queued(ev) == 0 and len(of(ev, "mq.recv")) == 5,
)


@scenario.trace_check(
    "messages came out by priority, oldest first within one: 5 5 3 2 1",
    ko=("메시지는 우선순위 순서로, 같은 우선순위에서는 먼저 온 것부터 나왔다: 5 5 3 2 1"),
)
def by_priority(events):
    got = [(e.get("prio"), data(e)) for e in of(events, "mq.recv")]
    sent = [(e.get("prio"), data(e)) for e in of(events, "mq.send")]
    # the order the kernel owes: highest priority first, then the oldest (a stable sort)
    want = sorted(sent, key=lambda m: -int(m[0] or 0))
    return (
        got == want and [p for p, _ in got] == [5, 5, 3, 2, 1],
        f"got {readable([p for p, _ in got])}",
        f"받은 순서 {readable([p for p, _ in got], 'ko')}",
    )


@scenario.trace_check(
    "the fifth send waited in the full queue until a receive made room",
    ko="다섯 번째 send는 가득 찬 큐에서 receive가 자리를 낼 때까지 기다렸다",
)
def waited(events):
    sends, recvs = of(events, "mq.send"), of(events, "mq.recv")
    detail = f"{len(sends)} sends, {len(recvs)} receives"
    return (
        _fifth_waited(events),
        detail + ": the fifth began before the first receive",
        (f"send {len(sends)}번, receive {len(recvs)}번: 다섯 번째 send는 첫 receive 전에 시작했음"),
    )


@scenario.trace_check(
    "the notice was asked for before the first message arrived",
    ko="도착 알림은 첫 메시지가 도착하기 전에 요청되었다",
)
def notified(events):
    notes, sends = of(events, "mq.notify"), of(events, "mq.send")
    ok = bool(notes and sends) and notes[0]["seq"] < sends[0]["seq"]
    return ok, "mq_notify, then the first mq_send", "mq_notify 다음에 첫 mq_send"
