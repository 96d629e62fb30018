"""mq-two-way: one System V queue carries requests one way and replies the other, by type."""

import os

from ipcviz.bytefmt import readable
from ipcviz.scenario import Scenario

TO_SERVER = 1  # message type of requests; replies go to type = the client's number + 1

scenario = Scenario(
    "mq-two-way",
    "One message queue, both directions",
    teaches=["T21", "T18"],
    description=(
        "Two clients and a server share ONE System V queue. Requests carry type 1; the server "
        "answers each client with that client's own type (2 or 3). Each process takes only the "
        "types meant for it, so a single queue serves both directions — a pipe would need one "
        "per direction."
    ),
    params={"requests": 3, "pause": 0.5},
    quick={"requests": 3, "pause": 0.0},
    limits={"requests": (1, 10000), "pause": (0, 60)},
    timeout=30,
    title_ko="메시지 큐 하나로 양방향 통신",
    description_ko=(
        "클라이언트 둘과 서버 하나가 System V 큐 하나를 함께 씁니다. 요청은 타입 1이고, 서버는 각 "
        "클라이언트에게 그 클라이언트만의 타입(2 또는 3)으로 답합니다. 각 프로세스는 자기에게 온 "
        "타입만 가져가므로, 큐 하나로 양방향을 모두 처리합니다 — 파이프였다면 방향마다 하나씩 "
        "필요했을 것입니다."
    ),
)
scenario.step(
    "request",
    "Clients send their requests with type 1 into the queue q.",
    "클라이언트들이 유형 1로 요청을 큐 q에 넣습니다.",
    teaches=["T21"],
)
scenario.step(
    "serve",
    "The server receives only type 1 and answers into the same queue, with the asking "
    "client's type.",
    "서버는 유형 1만 받아 가고, 같은 큐에 요청한 클라이언트의 유형으로 답을 넣습니다.",
    teaches=["T21", "T18"],
)
scenario.step(
    "reply",
    "Each client receives only its own type: its replies, never the other client's, never a "
    "request. One queue, two directions.",
    "각 클라이언트는 자기 유형만 받습니다. 자기 답만 받을 뿐, 다른 클라이언트의 답이나 요청은 "
    "가져가지 않습니다. 큐 하나로 양방향 통신을 한 것입니다.",
    teaches=["T21"],
)
q = scenario.sysv_queue("q", max_message_size=256)
CLIENTS = ["client1", "client2"]


@scenario.process("server")
def server(ctx):
    ctx.step("serve")
    served = 0
    for _ in range(len(CLIENTS) * ctx.params["requests"]):
        data, _ = q.receive(TO_SERVER)
        who, n = data.decode().split()
        q.send(f"{int(n) ** 2} for {who}".encode(), mtype=int(who) + 1)
        served += 1
    ctx.report("served", served)


@scenario.process("client", count=2)
def client(ctx):
    me = ctx.index + 1
    if me == 1:
        ctx.step("request")
    replies = []
    for n in range(1, ctx.params["requests"] + 1):
        q.send(f"{me} {n}".encode(), mtype=TO_SERVER)
        data, mtype = q.receive(me + 1)
        replies.append([mtype, data.decode()])
        ctx.sleep(ctx.params["pause"])
    if me == 1:
        ctx.step("reply")
    ctx.report("replies", replies)
    ctx.report("pid", os.getpid())


@scenario.check(
    "every client got exactly its own replies, through the one queue (T21)",
    ko="각 클라이언트는 하나의 큐를 통해 정확히 자기 답장만 받았다 (T21)",
)
def own_replies(run):
    n = run.params["requests"]
    bad = []
    for i, name in enumerate(CLIENTS, start=1):
        want = [[i + 1, f"{k * k} for {i}"] for k in range(1, n + 1)]
        if run.report(name, "replies") != want:
            bad.append(name)
    queues = [o for o in run.state.objects.values() if o.type in ("sysv_mq", "posix_mq")]
    ok = not bad and len(queues) == 1
    return (
        ok,
        f"{len(queues)} queue; wrong replies at {readable(bad)}" if bad else "all replies right",
        f"큐 {len(queues)}개; 잘못된 답장: {readable(bad, 'ko')}" if bad else "모든 답장이 맞음",
    )


@scenario.check(
    "the same queue carried both requests and replies",
    ko="같은 큐가 요청과 답장을 모두 실어 날랐다",
)
def both_ways(run):
    q_state = run.state.objects["q"]
    n = len(CLIENTS) * run.params["requests"]
    return (
        q_state.sent == 2 * n == q_state.received,
        f"sent {q_state.sent}, received {q_state.received}",
        f"보냄 {q_state.sent}, 받음 {q_state.received}",
    )
