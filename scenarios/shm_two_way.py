"""shm-two-way: both processes write and read the same segment: a two-way conversation."""

from ipcviz.bytefmt import readable
from ipcviz.scenario import Scenario

scenario = Scenario(
    "shm-two-way",
    "Shared memory goes both ways",
    teaches=["T30", "T26"],
    description=(
        "left and right share one segment with two mailboxes: cell 0 carries questions from "
        "left to right, cell 1 answers from right to left. Unlike a pipe, one shared-memory "
        "segment serves both directions; two semaphores only say whose turn it is."
    ),
    params={"rounds": 8, "pause": 0.5},
    quick={"rounds": 5, "pause": 0.0},
    limits={"rounds": (1, 10000), "pause": (0, 60)},
    timeout=30,
    title_ko="공유 메모리는 양방향이다",
    description_ko=(
        "left와 right가 우편함 두 개가 있는 세그먼트 하나를 함께 씁니다. 칸 0은 left에서 right로 "
        "가는 질문을, 칸 1은 right에서 left로 가는 답을 나릅니다. 파이프와 달리 공유 메모리 "
        "세그먼트 하나로 양방향을 모두 처리합니다. 세마포어 두 개는 누구 차례인지만 알려 줍니다."
    ),
)
scenario.step(
    "mailboxes",
    "One segment, two cells: cell 0 is left's mailbox to right, cell 1 is right's to left.",
    "세그먼트 하나에 셀 두 개를 둡니다. 셀 0은 left가 right에게, 셀 1은 right가 left에게 보내는 "
    "우편함입니다.",
    teaches=["T30"],
)
scenario.step(
    "ask",
    "left writes a number into cell 0 and posts to_right: 'your turn'.",
    "left가 셀 0에 숫자를 쓰고 to_right를 post합니다. '네 차례야'라는 뜻입니다.",
    teaches=["T30"],
)
scenario.step(
    "answer",
    "right reads cell 0 directly from memory, writes its answer (the square) into cell 1 "
    "and posts to_left. Data went both ways through the same memory.",
    "right가 셀 0을 메모리에서 바로 읽고, 답(제곱)을 셀 1에 쓴 뒤 to_left를 post합니다. 같은 "
    "메모리를 통해 데이터가 양쪽으로 오갔습니다.",
    teaches=["T30", "T26"],
)
scenario.step(
    "done",
    "Every question was answered through the same segment: shared memory is two-way.",
    "모든 질문이 같은 세그먼트를 통해 답을 받았습니다. 공유 메모리는 양방향입니다.",
    teaches=["T30"],
)
box = scenario.shared_memory("box", cells={"question": 1, "answer": 1})
to_right = scenario.semaphore("to_right", value=0)
to_left = scenario.semaphore("to_left", value=0)


@scenario.process("left")
def left(ctx):
    ctx.step("mailboxes")
    answers = []
    for i in range(1, ctx.params["rounds"] + 1):
        if i == 1:
            ctx.step("ask")
        box[0] = i
        to_right.post()
        to_left.wait()
        answers.append(box[1])
        ctx.sleep(ctx.params["pause"])
    box[0] = 0  # 0 = goodbye
    to_right.post()
    ctx.step("done")
    ctx.report("answers", answers)


@scenario.process("right")
def right(ctx):
    first = True
    while True:
        to_right.wait()
        q = box[0]
        if q == 0:
            return
        box[1] = q * q
        if first:
            ctx.step("answer")
            first = False
        to_left.post()


@scenario.check(
    "every question from left got right's answer through the same segment (T30)",
    ko="left의 모든 질문이 같은 세그먼트를 통해 right의 답을 받았다 (T30)",
)
def answered(run):
    n = run.params["rounds"]
    got = run.report("left", "answers", [])
    return (
        got == [i * i for i in range(1, n + 1)],
        f"answers {readable(got)}",
        f"답: {readable(got, 'ko')}",
    )


@scenario.check(
    "both processes wrote into the segment: cell 0 by left, cell 1 by right",
    ko="두 프로세스 모두 세그먼트에 썼다: 칸 0은 left가, 칸 1은 right가",
)
def both_wrote(run):
    st = run.state
    names = [st.proc_name(pid) for pid in st.objects["box"].last_writer]
    return (
        names == ["left", "right"],
        f"last writer of cell 0, cell 1: {names}",
        f"칸 0, 칸 1에 마지막으로 쓴 프로세스: {names}",
    )
