"""pipe-bytestream: three separate writes come back in one read — a pipe keeps no boundaries."""

import fcntl
import struct
import termios
import time

from ipcviz.bytefmt import readable
from ipcviz.scenario import Scenario

scenario = Scenario(
    "pipe-bytestream",
    "A pipe is a byte stream: three writes, one read",
    teaches=["T19", "T8"],
    description=(
        "The writer makes three separate write() calls. The reader waits until all the bytes "
        "are in the pipe, then calls read() once: it gets everything glued together. A pipe "
        "keeps the order of the bytes but not where one message ended and the next began."
    ),
    params={"messages": ["one", "two", "three"], "pause": 0.8},
    quick={"pause": 0.02},
    limits={"pause": (0, 60)},
    timeout=30,
    title_ko="파이프는 바이트 스트림이다: write 세 번, read 한 번",
    description_ko=(
        "쓰는 쪽이 write()를 세 번 따로 호출합니다. 읽는 쪽은 모든 바이트가 파이프에 들어올 "
        "때까지 기다렸다가 read()를 한 번 호출하고, 모든 것이 붙은 채로 받습니다. 파이프는 "
        "바이트의 순서는 지키지만, 한 메시지가 어디서 끝나고 다음 메시지가 어디서 시작했는지는 "
        "지키지 않습니다."
    ),
)
scenario.step(
    "writes",
    "The writer calls write() three times: three separate messages, three system calls.",
    "쓰는 쪽이 write()를 세 번 호출합니다. 메시지 세 개, 시스템 콜 세 번입니다.",
    teaches=["T8"],
)
scenario.step(
    "waiting",
    "All the bytes now sit in the pipe's buffer, one after another. The kernel kept their "
    "order, but nothing marks where one write ended.",
    "이제 모든 바이트가 파이프 버퍼에 나란히 들어 있습니다. 커널은 순서는 지켰지만, 어디까지가 "
    "한 번의 write였는지는 어디에도 표시하지 않습니다.",
    teaches=["T8", "T19"],
)
scenario.step(
    "one-read",
    "One read() returns all three messages glued together: the boundaries are gone. A pipe "
    "is a byte stream, so it cannot number its messages — a message queue can (see "
    "sysv-mq-typed).",
    "read() 한 번에 세 메시지가 한 덩어리로 붙어서 나옵니다. 경계가 사라진 것이죠. 파이프는 "
    "바이트 스트림이라 데이터에 번호를 붙일 수 없습니다. 메시지 큐는 경계를 지킵니다"
    "(sysv-mq-typed 참고).",
    teaches=["T19"],
)
pipe = scenario.pipe("p", writer="writer", reader="reader")


def fionread(fd: int) -> int:
    """Bytes waiting in the pipe, as the kernel counts them (ioctl FIONREAD)."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


@scenario.process("writer")
def writer(ctx):
    ctx.step("writes")
    for text in ctx.params["messages"]:
        pipe.write(text.encode())
        ctx.sleep(ctx.params["pause"])
    ctx.report("writes", len(ctx.params["messages"]))
    pipe.close_write()


@scenario.process("reader")
def reader(ctx):
    total = sum(len(m) for m in ctx.params["messages"])
    deadline = time.monotonic() + 10
    while fionread(pipe.read_fd) < total and time.monotonic() < deadline:
        time.sleep(0.005)  # wait until every byte is in the pipe, without reading any
    ctx.step("waiting")
    data = pipe.read(4096)
    ctx.step("one-read")
    ctx.report("first_read", data.decode(errors="replace"))
    while pipe.read(4096):
        pass


@scenario.check(
    "three write() calls came back from ONE read(), glued together (T19)",
    ko="write() 세 번의 내용이 read() 한 번으로 붙어서 나왔다 (T19)",
)
def glued(run):
    msgs = run.params["messages"]
    got = run.report("reader", "first_read", "")
    writes = run.state.objects["p"].writes
    ok = got == "".join(msgs) and writes == len(msgs)
    return (
        ok,
        f"{writes} writes of {readable(msgs)}; the first read returned {got!r}",
        f"{readable(msgs, 'ko')}을(를) {writes}번에 나누어 씀; 첫 read가 돌려준 것: {got!r}",
    )
