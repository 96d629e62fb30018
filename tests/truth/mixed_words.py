"""mixed-words (written from docs/scenarios.md): several producers, two consumers, one
System V queue, short look-alike messages ("x", "y", "xy", "xyz")."""

import random
from collections import Counter

from ipcviz.scenario import Scenario

WORDS = ["x", "y", "xy", "xyz"]

scenario = Scenario(
    "mixed-words",
    "Many producers, two consumers, one System V queue",
    teaches=["T18", "T20"],
    description=(
        "Four producers each send a random mix of short messages ('x', 'y', 'xy', 'xyz'; "
        "seeded, so every run sends the same) into one System V queue. Two consumers take "
        "the oldest message each time. When every producer is done (a System V semaphore "
        "counts them), a closer sends one 'stop' per consumer: behind every message, since "
        "a queue keeps the order messages came in. Nothing is lost and nothing is taken twice."
    ),
    params={"per_producer": 800, "seed": 7},
    quick={"per_producer": 50, "seed": 7},
    limits={"per_producer": (0, 100000)},
    timeout=600,
    title_ko="생산자 여럿, 소비자 둘, System V 큐 하나",
    description_ko=(
        "생산자 네 개가 각자 짧은 메시지('x', 'y', 'xy', 'xyz')를 무작위로 섞어(시드가 정해져 "
        "있어 매번 같은 것을) System V 큐 하나에 보냅니다. 소비자 두 개는 매번 가장 오래된 "
        "메시지를 꺼냅니다. 생산자가 모두 끝나면(System V 세마포어로 셉니다) closer가 소비자마다 "
        "'stop'을 하나씩 보냅니다. 큐는 들어온 순서를 지키므로 'stop'은 모든 메시지 뒤에 있습니다. "
        "잃어버리는 것도, 두 번 꺼내는 것도 없습니다."
    ),
)

scenario.step(
    "produce",
    "Producers send short messages of four kinds into one System V queue, all at once.",
    "생산자들이 네 종류의 짧은 메시지를 한꺼번에 System V 큐 하나에 보냅니다.",
    teaches=["T20"],
)
scenario.step(
    "consume",
    "Each consumer takes the oldest message on the queue (msgrcv type 0).",
    "소비자는 각자 큐에서 가장 오래된 메시지를 꺼냅니다(msgrcv 타입 0).",
    teaches=["T18"],
)
scenario.step(
    "close",
    "Every producer is done: the closer sends one 'stop' per consumer, behind every message.",
    "생산자가 모두 끝났습니다. closer가 소비자마다 'stop'을 하나씩, 모든 메시지 뒤에 보냅니다.",
    teaches=["T18"],
)

PRODUCERS = 4
CONSUMERS = 2
queue = scenario.sysv_queue("queue")
finished = scenario.sysv_semaphore("finished", value=0)


@scenario.process("producer", count=PRODUCERS)
def producer(ctx):
    ctx.step("produce")
    rng = random.Random(ctx.params["seed"] * 100 + ctx.index)
    sent = Counter()
    for _ in range(ctx.params["per_producer"]):
        word = rng.choice(WORDS)
        queue.send(word.encode())
        sent[word] += 1
    ctx.report("sent", dict(sent))
    finished.post()


@scenario.process("closer")
def closer(ctx):
    for _ in range(PRODUCERS):
        finished.wait()
    ctx.step("close")
    for _ in range(CONSUMERS):
        queue.send(b"stop")


@scenario.process("consumer", count=CONSUMERS)
def consumer(ctx):
    ctx.step("consume")
    got = Counter()
    while True:
        data, _mtype = queue.receive()  # type 0: the oldest
        if data == b"stop":
            break
        got[data.decode()] += 1
    ctx.report("got", dict(got))


@scenario.check(
    "every message sent was taken exactly once", ko="보낸 메시지는 모두 정확히 한 번씩 꺼냈다"
)
def exactly_once(run):
    sent, got = Counter(), Counter()
    for i in range(1, PRODUCERS + 1):
        sent.update(run.report(f"producer{i}", "sent", {}))
    for i in range(1, CONSUMERS + 1):
        got.update(run.report(f"consumer{i}", "got", {}))
    ok = sent == got and sum(sent.values()) == PRODUCERS * run.params["per_producer"]
    detail = ", ".join(f"{w}: {sent[w]} sent / {got[w]} taken" for w in WORDS)
    return ok, detail, detail.replace("sent", "보냄").replace("taken", "꺼냄")
