"""c/sysv-mq-typed: sysv_mq_typed.c under strace — msgget, typed msgsnd/msgrcv, a reply.

Each step is said when strace shows its event (see ipcviz/sources/strace/cscenario.py);
the checks read the recorded events.
"""

from ipcviz.bytefmt import readable
from ipcviz.sources.strace.cscenario import ProgramScenario, data, ever, of, root

scenario = ProgramScenario(
    "c/sysv-mq-typed",
    "C: System V message queue — typed messages, msgrcv by type, a reply",
    example="c/sysv-mq-typed",
    teaches=["T18", "T20", "T21", "T22"],
    description=(
        "sysv_mq_typed.c: the parent makes a private queue (msgget) and sends five messages "
        "of types 3, 1, 2, 1, 3, then forks. The child reads the kernel's msqid_ds, receives "
        "by exact type (2), by lowest type up to 2 (-2), any type (0), lowest up to 3 (-3) and "
        "any type again, and answers with type 9 on the same queue. The parent removes the "
        "queue (IPC_RMID). Watched through strace: every call and every message is real."
    ),
    title_ko="C: System V 메시지 큐 — 타입이 있는 메시지, 타입으로 받는 msgrcv, 답장",
    description_ko=(
        "sysv_mq_typed.c: 부모는 전용 큐를 만들고(msgget) 타입이 3, 1, 2, 1, 3인 메시지 다섯 개를 "
        "보낸 뒤 fork합니다. 자식은 커널의 msqid_ds를 읽고, 정확한 타입(2), 2 이하에서 가장 작은 "
        "타입(-2), 아무 타입(0), 3 이하에서 가장 작은 타입(-3), 다시 아무 타입으로 받은 다음, "
        "같은 큐에 타입 9로 답장합니다. 부모는 큐를 제거합니다(IPC_RMID). strace로 지켜보므로 "
        "모든 호출과 모든 메시지가 실제입니다."
    ),
)
TYPES = [3, 1, 2, 1, 3]


def _sent_types(events):
    """The types sent before the first receive."""
    recvs = of(events, "mq.recv")
    first = recvs[0]["seq"] if recvs else None
    return [e.get("mtype") for e in of(events, "mq.send") if first is None or e["seq"] < first]


def _received(events):
    return [(e.get("want"), e.get("mtype"), data(e)) for e in of(events, "mq.recv")]


scenario.step(
    "get",
    "msgget made a private System V queue: the kernel keeps its messages in a list in its "
    "own memory.",
    "msgget이 개인용 System V 큐를 만들었습니다. 커널은 메시지를 자기 메모리의 리스트에 "
    "보관합니다.",
    teaches=["T20"],
    when=ever("obj.declare", type="sysv_mq"),
)
scenario.step(
    "typed",
    "Five messages waited, typed 3, 1, 2, 1, 3: each message carries a type the sender "
    "chose. The kernel's msqid_ds counted them (msg_qnum 5).",
    "메시지 5개가 타입 3, 1, 2, 1, 3으로 기다렸습니다. 각 메시지는 보낸 쪽이 정한 타입을 "
    "가집니다. 커널의 msqid_ds가 그 수를 셌습니다(msg_qnum 5).",
    teaches=["T18", "T22"],
    when=lambda ev: _sent_types(ev) == TYPES,
)
scenario.step(
    "exact",
    "msgrcv with type 2 took the one message of type 2 (b1), although c1 and a1 came first.",
    "타입 2로 msgrcv하여 c1과 a1이 먼저 왔어도 타입 2인 메시지(b1)를 가져갔습니다.",
    teaches=["T18"],
    when=lambda ev: _received(ev)[:1] == [(2, 2, b"b1")],
)
scenario.step(
    "lowest",
    "msgrcv with type -2 took the lowest type up to 2, the oldest of them: a1.",
    "타입 -2로 msgrcv하여 2 이하에서 가장 낮은 타입 중 가장 오래된 것, a1을 가져갔습니다.",
    teaches=["T18"],
    when=lambda ev: _received(ev)[1:2] == [(-2, 1, b"a1")],
)
scenario.step(
    "any",
    "msgrcv with type 0 took the oldest message of any type: c1.",
    "타입 0으로 msgrcv하여 타입과 상관없이 가장 오래된 메시지, c1을 가져갔습니다.",
    teaches=["T20"],
    when=lambda ev: _received(ev)[2:3] == [(0, 3, b"c1")],
)
scenario.step(
    "reply",
    "The child answered on the same queue with type 9, and the parent received it: one "
    "queue carries both directions.",
    "자식이 같은 큐에 타입 9로 답했고 부모가 그것을 받았습니다. 큐 하나로 양방향이 됩니다.",
    teaches=["T21"],
    when=lambda ev: bool(of(ev, "mq.recv", mtype=9, pid=root(ev))),
)


@scenario.trace_check(
    "the child received b1 a1 c1 a2 c2 (types 2 1 3 1 3)",
    ko="자식은 b1 a1 c1 a2 c2를 받았다 (타입 2 1 3 1 3)",
)
def by_type(events):
    child = [r for r in of(events, "mq.recv") if r["pid"] != root(events)]
    got = [data(e).decode("ascii", "replace") for e in child]
    return (
        got == ["b1", "a1", "c1", "a2", "c2"],
        f"got {' '.join(got)}",
        f"받은 것: {' '.join(got)}",
    )


@scenario.trace_check(
    "the parent got the child's type-9 reply on the same queue",
    ko="부모는 같은 큐로 자식의 타입 9 답장을 받았다",
)
def replied(events):
    got = [data(e) for e in of(events, "mq.recv", pid=root(events), mtype=9)]
    return got == [b"thanks"], f"got {readable(got)}", f"받은 것: {readable(got, 'ko')}"


@scenario.trace_check(
    "the parent removed the queue (IPC_RMID): nothing left behind",
    ko="부모가 큐를 제거했다(IPC_RMID): 남은 것이 없다",
)
def removed(events):
    return bool(of(events, "obj.remove")), "msgctl(IPC_RMID)", "msgctl(IPC_RMID)"
