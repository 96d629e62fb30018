"""pipe-basic: the parent writes numbered messages into an anonymous pipe; the child reads them."""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "pipe-basic",
    "Anonymous pipe: parent writes, child reads, in order",
    teaches=["T4", "T7", "T8"],
    description=(
        "pipe() gives two file descriptors: a read end and a write end. The parent keeps the "
        "write end, the child the read end: data flows one way only. What the parent writes "
        "comes out at the child in the same order."
    ),
    params={"messages": 8, "pause": 0.4},
    quick={"messages": 5, "pause": 0.06},  # longer than the engine holds events: seen waiting
    limits={"messages": (1, 10000), "pause": (0, 60)},
    timeout=60,
    title_ko="익명 파이프: 부모가 쓰고 자식이 순서대로 읽는다",
    description_ko=(
        "pipe()는 파일 디스크립터 두 개, 즉 읽기 끝과 쓰기 끝을 줍니다. 부모는 쓰기 끝을, 자식은 "
        "읽기 끝을 가지므로 데이터는 한 방향으로만 흐릅니다. 부모가 쓴 것은 같은 순서 그대로 "
        "자식에게 나옵니다."
    ),
)
scenario.step(
    "pipe",
    "The engine called pipe(): the kernel returned two file descriptors, one to read and one "
    "to write. Both processes inherited them through fork(); each closes the end it does not use.",
    "엔진이 pipe()를 호출하자 커널이 파일 디스크립터 두 개를 돌려주었습니다. 하나는 읽기용, "
    "하나는 쓰기용입니다. 두 프로세스는 fork()로 이를 물려받고, 쓰지 않는 쪽은 각자 닫습니다.",
    teaches=["T7"],
)
scenario.step(
    "write",
    "The parent only writes, the child only reads: a pipe is half-duplex.",
    "부모는 쓰기만, 자식은 읽기만 합니다. 파이프는 한쪽 방향으로만 흐르는 반이중 통신입니다.",
    teaches=["T4"],
)
scenario.step(
    "order",
    "The child receives the messages in exactly the order the parent wrote them.",
    "자식은 부모가 쓴 순서 그대로 메시지를 받습니다.",
    teaches=["T8"],
)
scenario.step(
    "eof",
    "The parent closed its write end: with no writer left, read() returns 0 bytes — end of file.",
    "부모가 쓰기 끝을 닫았습니다. 쓰는 쪽이 하나도 남지 않으면 read()는 0바이트, 즉 EOF를 "
    "돌려줍니다.",
    teaches=["T7"],
)
pipe = scenario.pipe("p", writer="parent", reader="child")


@scenario.process("parent")
def parent(ctx):
    ctx.step("pipe")
    ctx.step("write")
    for i in range(1, ctx.params["messages"] + 1):
        pipe.write(f"message {i}\n".encode())
        ctx.sleep(ctx.params["pause"])
    pipe.close_write()


@scenario.process("child")
def child(ctx):
    received = b""
    while True:
        chunk = pipe.read(4096)
        if not chunk:
            break
        received += chunk
    ctx.step("order")
    ctx.step("eof")
    ctx.report("received", received.decode())


@scenario.check(
    "every message arrived, in the order it was written", ko="모든 메시지가 쓴 순서대로 도착했다"
)
def in_order(run):
    n = run.params["messages"]
    expected = "".join(f"message {i}\n" for i in range(1, n + 1))
    got = run.report("child", "received", "")
    return (
        got == expected,
        f"expected {n} messages, got {got.count(chr(10))}",
        f"메시지 {n}개 중 {got.count(chr(10))}개 받음",
    )


@scenario.check(
    "bytes written = bytes read, per the kernel-visible pipe",
    ko="커널에서 보이는 파이프 기준으로 쓴 바이트 = 읽은 바이트",
)
def balanced(run):
    p = run.state.objects["p"]
    return (
        p.written == p.read and p.nbytes == 0,
        f"written {p.written}, read {p.read}",
        f"쓴 바이트 {p.written}, 읽은 바이트 {p.read}",
    )
