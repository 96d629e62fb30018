"""pipe-two-way: one pipe cannot carry a conversation; two pipes, one per direction, can."""

import time

from ipcviz.bytefmt import readable
from ipcviz.scenario import Scenario

scenario = Scenario(
    "pipe-two-way",
    "Two-way talk needs two pipes",
    teaches=["T4", "T5"],
    description=(
        "First the two processes try to talk both ways through ONE pipe that both may read and "
        "write: process a reads back its own question, because a pipe is one stream with one "
        "direction. Then they use two pipes, a→b and b→a, and the conversation works."
    ),
    params={"rounds": 3, "pause": 0.6},
    quick={"rounds": 3, "pause": 0.01},
    limits={"rounds": (1, 10000), "pause": (0, 60)},
    timeout=30,
    title_ko="양방향 대화에는 파이프 두 개가 필요하다",
    description_ko=(
        "먼저 두 프로세스가 둘 다 읽고 쓸 수 있는 파이프 하나로 양방향 대화를 시도합니다. "
        "프로세스 a는 자기가 보낸 질문을 도로 읽어 버립니다. 파이프는 방향이 하나인 스트림 "
        "하나이기 때문입니다. 다음에는 a→b, b→a 두 파이프를 쓰고, 그러면 대화가 됩니다."
    ),
)
scenario.step(
    "one-pipe",
    "One pipe, used both ways: a writes its question into it and then reads, hoping for b's "
    "answer...",
    "파이프 하나를 양쪽에서 같이 쓰면 어떻게 될까요? a가 질문을 쓰고, b의 대답을 기대하며 바로 "
    "읽습니다.",
    teaches=["T4"],
)
scenario.step(
    "own-echo",
    "...and a reads back its own question. A pipe has one direction: whoever reads first gets "
    "the bytes, even the writer itself. Half-duplex.",
    "그런데 a가 읽은 것은 자기가 쓴 질문입니다. 파이프는 방향이 하나뿐이라, 먼저 읽는 쪽이 "
    "데이터를 가져갑니다. 쓴 당사자라도 말이죠. 이것이 반이중 통신입니다.",
    teaches=["T4"],
)
scenario.step(
    "two-pipes",
    "Now two pipes: a writes only into a2b, b writes only into b2a. Each pipe still flows "
    "one way; together they make a two-way channel.",
    "이번에는 파이프 두 개입니다. a는 a2b에만 쓰고, b는 b2a에만 씁니다. 각 파이프는 여전히 "
    "한 방향이지만, 둘을 합치면 양방향 통신이 됩니다.",
    teaches=["T5"],
)
scenario.step(
    "answered",
    "Every question got its answer, each on its own pipe.",
    "모든 질문이 각자의 파이프를 통해 대답을 받았습니다.",
    teaches=["T5"],
)
shared = scenario.pipe("shared", writer=["a", "b"], reader=["a", "b"])
a2b = scenario.pipe("a2b", writer="a", reader="b")
b2a = scenario.pipe("b2a", writer="b", reader="a")


@scenario.process("a")
def proc_a(ctx):
    ctx.step("one-pipe")
    question = b"a: how are you?"
    shared.write(question)
    got = shared.read(4096)  # nobody else reads this pipe yet: a gets its own bytes back
    ctx.step("own-echo")
    ctx.report("one_pipe_got", got.decode())
    ctx.step("two-pipes")
    answers = []
    for i in range(1, ctx.params["rounds"] + 1):
        a2b.write(f"question {i}\n".encode())
        answers.append(b2a.read(4096).decode())
        ctx.sleep(ctx.params["pause"])
    a2b.close_write()
    ctx.step("answered")
    ctx.report("answers", answers)


@scenario.process("b")
def proc_b(ctx):
    shared.close_write()  # b only listens to a2b from here on
    shared.close_read()
    while True:
        line = a2b.read(4096)
        if not line:
            break
        n = line.decode().split()[1]
        time.sleep(0.001)
        b2a.write(f"answer {n}\n".encode())


@scenario.check(
    "with one pipe, a read back its own question (one direction only, T4)",
    ko="파이프 하나로는 a가 자기 질문을 도로 읽었다 (한 방향뿐, T4)",
)
def own_echo(run):
    got = run.report("a", "one_pipe_got")
    return (
        got == "a: how are you?",
        f"a read {got!r} from the shared pipe",
        f"a가 공유 파이프에서 {got!r}을(를) 읽었음",
    )


@scenario.check(
    "with two pipes, every question got its answer (T5)",
    ko="파이프 두 개로는 모든 질문에 답이 왔다 (T5)",
)
def answered(run):
    n = run.params["rounds"]
    got = run.report("a", "answers", [])
    return (
        got == [f"answer {i}\n" for i in range(1, n + 1)],
        f"answers {readable(got)}",
        f"답: {readable(got, 'ko')}",
    )
