"""sysv-mq-typed: System V messages carry a type; a receiver chooses which type it takes."""

import os

from ipcviz.bytefmt import readable
from ipcviz.scenario import Scenario

scenario = Scenario(
    "sysv-mq-typed",
    "System V message queue: typed messages and msqid_ds",
    teaches=["T18", "T20", "T21", "T22", "T32", "T33"],
    description=(
        "The producer puts five typed messages into a System V queue, then raises a System V "
        "semaphore. The consumer waits on that semaphore, reads the kernel's msqid_ds "
        "(msg_qnum, msg_lspid...), then receives by exact type, by 'lowest type <= n' and "
        "'any type'. It answers on the same queue with type 9: one queue, both directions."
    ),
    params={"pause": 0.8},
    quick={"pause": 0.3},
    limits={"pause": (0, 60)},
    timeout=60,
    title_ko="System V 메시지 큐: 타입이 있는 메시지와 msqid_ds",
    description_ko=(
        "생산자가 System V 큐에 타입이 있는 메시지 다섯 개를 넣고, System V 세마포어를 올립니다. "
        "소비자는 그 세마포어를 기다렸다가 커널의 msqid_ds(msg_qnum, msg_lspid…)를 읽고, 정확한 "
        "타입으로, '타입 n 이하에서 가장 작은 것'으로, '아무 타입'으로 받습니다. 그리고 같은 큐에 "
        "타입 9로 답합니다. 큐 하나로 양방향입니다."
    ),
)
scenario.step(
    "send",
    "The producer sends five messages of types 3, 1, 2, 1, 3 into one queue.",
    "producer가 타입 3, 1, 2, 1, 3인 메시지 다섯 개를 하나의 큐에 보냅니다.",
    teaches=["T18", "T20"],
)
scenario.step(
    "sem-wait",
    "The consumer waits on a System V semaphore (value 0): P blocks until the producer's V.",
    "consumer가 System V 세마포어(값 0)에서 기다립니다. producer가 V를 할 때까지 P가 막힙니다.",
    teaches=["T32", "T33"],
)
scenario.step(
    "msqid_ds",
    "The kernel's msqid_ds: 5 messages on the queue, the last sender's pid, the bytes queued.",
    "커널의 msqid_ds: 큐에 메시지 5개, 마지막으로 보낸 프로세스의 pid, 큐에 있는 바이트 수.",
    teaches=["T22"],
    probe=True,
)
scenario.step(
    "by-type",
    "msgrcv(type 2) takes the oldest message of type 2, skipping older ones of other types.",
    "msgrcv(타입 2)는 다른 타입의 더 오래된 메시지를 건너뛰고 타입 2 중 가장 오래된 것을 꺼냅니다.",
    teaches=["T18"],
)
scenario.step(
    "lowest",
    "msgrcv(-2) takes the lowest type <= 2; msgrcv(0) takes the oldest of any type.",
    "msgrcv(-2)는 2 이하 중 가장 낮은 타입을, msgrcv(0)은 타입과 상관없이 "
    "가장 오래된 것을 꺼냅니다.",
    teaches=["T18"],
)
scenario.step(
    "reply",
    "The consumer answers with type 9 on the same queue: a queue can carry both directions.",
    "consumer가 같은 큐에 타입 9로 답합니다. 큐 하나로 양방향 통신이 가능합니다.",
    teaches=["T21"],
)
mq = scenario.sysv_queue("mq")
ready = scenario.sysv_semaphore("ready", value=0)
MESSAGES = [(b"c1", 3), (b"a1", 1), (b"b1", 2), (b"a2", 1), (b"c2", 3)]


@scenario.process("producer")
def producer(ctx):
    ctx.report("pid", os.getpid())
    ctx.sleep(ctx.params["pause"])  # the consumer is already waiting on the semaphore
    ctx.step("send")
    for data, mtype in MESSAGES:
        mq.send(data, mtype)
    ready.post()
    reply, mtype = mq.receive(9)  # only the answer: type 9
    ctx.report("reply", [reply.decode(), mtype])


@scenario.process("consumer")
def consumer(ctx):
    ctx.step("sem-wait")
    ready.wait()
    ctx.step("msqid_ds")
    ctx.report("stat", mq.stat())
    order = []
    ctx.step("by-type")
    order.append(mq.receive(2))
    ctx.step("lowest")
    order.append(mq.receive(-2))
    order.append(mq.receive(0))
    order.append(mq.receive(-3))
    order.append(mq.receive(0))
    ctx.report("order", [[d.decode(), t] for d, t in order])
    ctx.sleep(ctx.params["pause"])
    ctx.step("reply")
    mq.send(b"thanks", 9)


@scenario.check(
    "receive by type 2, lowest <= 2, any, lowest <= 3, any: b1 a1 c1 a2 c2",
    ko=("타입 2, 2 이하 최소, 아무 타입, 3 이하 최소, 아무 타입으로 받기: b1 a1 c1 a2 c2"),
)
def order(run):
    got = run.report("consumer", "order", [])
    want = [["b1", 2], ["a1", 1], ["c1", 3], ["a2", 1], ["c2", 3]]
    said = [g[0] for g in got]
    return got == want, f"got {readable(said)}", f"받은 것: {readable(said, 'ko')}"


@scenario.check(
    "msqid_ds after the sends: 5 messages, last sender = the producer",
    ko="send 후의 msqid_ds: 메시지 5개, 마지막으로 보낸 쪽 = 생산자",
)
def msqid_ds(run):
    st = run.report("consumer", "stat", {})
    pid = run.report("producer", "pid")
    ok = st.get("current_messages") == 5 and st.get("last_send_pid") == pid
    said = f"qnum {st.get('current_messages')}, lspid {st.get('last_send_pid')}"
    return ok, f"{said} (producer {pid})", f"{said} (생산자 {pid})"


@scenario.check(
    "the producer got the reply of type 9 on the same queue",
    ko="생산자는 같은 큐로 타입 9 답장을 받았다",
)
def reply(run):
    return run.report("producer", "reply") == ["thanks", 9]


@scenario.check(
    "semaphore back to 0 and the queue empty, in the model",
    ko="모델에서 세마포어는 0으로 돌아오고 큐는 비어 있다",
)
def final(run):
    q, s = run.state.objects["mq"], run.state.objects["ready"]
    return len(q.messages) == 0 and s.value == 0 and not s.waiters
