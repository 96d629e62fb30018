"""pipe-full-closed: a full pipe blocks the writer; closed ends give EOF and EPIPE."""

import fcntl
import struct
import termios
import time

from ipcviz.scenario import Scenario

CHUNK = 16384

scenario = Scenario(
    "pipe-full-closed",
    "A pipe fills up, then closes: blocking, EOF and EPIPE",
    teaches=["T7", "T12"],
    description=(
        "A pipe is a kernel buffer with a fixed capacity (64 KiB here). The writer fills it "
        "while the reader sleeps, and its next write() blocks. Then the ends are closed: a "
        "reader sees end-of-file once no writer is left, and a writer whose reader is gone "
        "gets EPIPE (in C, the SIGPIPE signal kills it first)."
    ),
    params={"reader_nap": 2.0, "pause": 0.3},
    quick={"reader_nap": 0.4, "pause": 0.0},
    limits={"reader_nap": (0, 60), "pause": (0, 60)},
    timeout=40,
    title_ko="파이프가 가득 찼다가 닫힌다: 블로킹, EOF, EPIPE",
    description_ko=(
        "파이프는 용량이 정해진 커널 버퍼입니다(여기서는 64 KiB). 읽는 쪽이 잠든 동안 쓰는 쪽이 "
        "버퍼를 채우면, 다음 write()는 블록됩니다. 그다음 끝들을 닫습니다. 쓰는 쪽이 하나도 남지 "
        "않으면 읽는 쪽은 파일의 끝(EOF)을 보고, 읽는 쪽이 사라진 파이프에 쓰는 쪽은 EPIPE를 "
        "받습니다(C에서는 그 전에 SIGPIPE 시그널이 프로세스를 죽입니다)."
    ),
)
scenario.step(
    "fill",
    "The reader is asleep. The writer writes 16 KiB at a time into pipe p; the kernel keeps "
    "the bytes in the pipe's buffer.",
    "읽는 쪽은 잠들어 있습니다. 쓰는 쪽이 파이프 p에 16 KiB씩 씁니다. 커널은 이 바이트들을 "
    "파이프 버퍼에 보관합니다.",
    teaches=["T7"],
)
scenario.step(
    "full",
    "The buffer is full (64 KiB). The next write() cannot finish: the kernel puts the writer "
    "to sleep until the reader makes room.",
    "버퍼가 가득 찼습니다(64 KiB). 다음 write()는 끝나지 못하고, 커널은 읽는 쪽이 자리를 "
    "비워 줄 때까지 쓰는 쪽을 재웁니다.",
    teaches=["T7"],
)
scenario.step(
    "drain",
    "The reader wakes up and reads; as soon as there is room, the blocked write completes.",
    "읽는 쪽이 깨어나 읽기 시작합니다. 자리가 생기자마자 막혀 있던 write가 끝납니다.",
    teaches=["T7"],
)
scenario.step(
    "eof",
    "The writer closed its end of pipe q. With no writer left, the reader's read() returns "
    "0 bytes: end of file.",
    "쓰는 쪽이 파이프 q의 자기 끝을 닫았습니다. 쓰는 쪽이 하나도 남지 않으니, 읽는 쪽의 "
    "read()는 0바이트, 즉 EOF를 돌려줍니다.",
    teaches=["T12"],
)
scenario.step(
    "epipe",
    "The reader closed its end of pipe p and is leaving. Writing into a pipe nobody can read "
    "fails with EPIPE (a C program gets SIGPIPE and dies; Python ignores that signal, so "
    "write() raises BrokenPipeError). A pipe lives only as long as the processes holding it.",
    "읽는 쪽이 p의 자기 끝을 닫고 떠났습니다. 아무도 읽을 수 없는 파이프에 쓰면 EPIPE 오류가 "
    "납니다(C 프로그램이라면 SIGPIPE 시그널을 받고 죽습니다. 파이썬은 이 시그널을 무시하므로 "
    "BrokenPipeError가 됩니다). 파이프는 그것을 가진 프로세스가 살아 있는 동안만 존재합니다.",
    teaches=["T12"],
)
p = scenario.pipe("p", writer="writer", reader="reader")
q = scenario.pipe("q", writer="writer", reader="reader")


def fionread(fd: int) -> int:
    """Bytes waiting in the pipe, as the kernel counts them (works on either end)."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


@scenario.process("writer")
def writer(ctx):
    ctx.step("fill")
    capacity = p.capacity
    while fionread(p.write_fd) + CHUNK <= capacity:
        p.write(b"x" * CHUNK)
        ctx.sleep(ctx.params["pause"])
    queued = fionread(p.write_fd)
    ctx.report("queued_before_block", queued)
    ctx.report("capacity", capacity)
    ctx.step("full")
    t0 = time.monotonic()
    p.write(b"y" * CHUNK)  # no room: blocks until the reader reads
    ctx.report("blocked_s", round(time.monotonic() - t0, 3))
    q.write(b"last words")
    q.close_write()
    deadline = time.monotonic() + 10
    sent = 0
    while time.monotonic() < deadline:
        try:
            p.write(b"are you there?")
            sent += 1
        except BrokenPipeError:
            ctx.step("epipe")
            ctx.report("epipe_after_writes", sent)
            return
        time.sleep(0.02)
    ctx.report("epipe_after_writes", None)


@scenario.process("reader")
def reader(ctx):
    # Wait (without reading) until the writer sleeps, the pipe full: ask the kernel where
    # it sleeps (anon_pipe_write = blocked writing into a pipe). A loop of our own here
    # (sleep until FIONREAD says full) held a seeded run 10 s: the step gate waits for a
    # sleeper, and the writer fills the pipe only when the gate lets it.
    ctx.report("writer_wchan", ctx.wait_for_wchan(ctx.pid_of("writer"), "pipe_write"))
    ctx.sleep(ctx.params["reader_nap"])
    ctx.step("drain")
    expected = (p.capacity // CHUNK + 1) * CHUNK
    got = len(p.read_exactly(expected))
    ctx.report("drained", got)
    data = b""
    while True:
        chunk = q.read(4096)
        if not chunk:
            break
        data += chunk
    ctx.step("eof")
    ctx.report("q_data", data.decode())
    ctx.report("q_eof", True)
    p.close_read()


@scenario.check(
    "the writer blocked on a full pipe: queued = capacity, asleep in pipe_write (T7)",
    ko=("쓰는 쪽은 가득 찬 파이프에서 블록되었다: 쌓인 양 = 용량, pipe_write에서 잠듦 (T7)"),
)
def blocked_full(run):
    queued = run.report("writer", "queued_before_block")
    cap = run.report("writer", "capacity")
    blocked = run.report("writer", "blocked_s", 0)
    wchan = run.report("reader", "writer_wchan")
    ok = queued == cap and "pipe_write" in (wchan or "")
    return (
        ok,
        (
            f"{queued} of {cap} bytes queued; the kernel had the writer asleep in {wchan!r}; "
            f"its write waited {blocked} s"
        ),
        (
            f"{cap} 바이트 중 {queued} 바이트 쌓임; 커널은 쓰는 쪽을 {wchan!r}에서 재우고 있었음; "
            f"write는 {blocked}초 기다렸음"
        ),
    )


@scenario.check(
    "the reader saw EOF after the writer closed q (T12)",
    ko="읽는 쪽은 쓰는 쪽이 q를 닫은 뒤 EOF를 보았다 (T12)",
)
def eof_seen(run):
    ok = bool(run.report("reader", "q_eof")) and run.report("reader", "q_data") == "last words"
    return (
        ok,
        f"q delivered {run.report('reader', 'q_data')!r}, then EOF",
        f"q가 {run.report('reader', 'q_data')!r}을(를) 전달한 뒤 EOF",
    )


@scenario.check(
    "writing to p after its reader left failed with EPIPE (T12)",
    ko="읽는 쪽이 떠난 p에 쓰기는 EPIPE로 실패했다 (T12)",
)
def epipe(run):
    n = run.state.objects["p"].epipe
    return n >= 1, f"{n} EPIPE error(s) on p", f"p에서 EPIPE 오류 {n}번"
