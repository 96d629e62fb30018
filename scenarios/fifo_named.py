"""fifo-named: two unrelated processes meet at a named pipe; the FIFO file outlives them."""

import os
import stat
import time

from ipcviz.scenario import Scenario

scenario = Scenario(
    "fifo-named",
    "Named pipe (FIFO): unrelated processes meet by name",
    teaches=["T13", "T14", "T15", "T16"],
    description=(
        "mkfifo() puts a pipe into the filesystem. The writer and the reader are not parent "
        "and child: neither inherited a descriptor, each opens the FIFO by its path. Opening "
        "one end waits until the other end is opened too. When both processes have exited, "
        "the FIFO file is still there, until it is removed."
    ),
    params={"messages": 6, "pause": 0.4, "late": 1.0},
    quick={"messages": 4, "pause": 0.02, "late": 0.05},
    limits={"messages": (1, 10000), "pause": (0, 60), "late": (0, 60)},
    timeout=60,
    title_ko="이름 있는 파이프(FIFO): 관계없는 프로세스들이 이름으로 만난다",
    description_ko=(
        "mkfifo()는 파일 시스템에 파이프를 만듭니다. 쓰는 쪽과 읽는 쪽은 부모와 자식이 아니어서, "
        "누구도 디스크립터를 물려받지 않았습니다. 각자 경로로 FIFO를 엽니다. 한쪽 끝을 열면 다른 "
        "쪽 끝도 열릴 때까지 기다립니다. 두 프로세스가 모두 끝나도 FIFO 파일은 지울 때까지 남아 "
        "있습니다."
    ),
)
scenario.step(
    "mkfifo",
    "The engine called mkfifo(): the FIFO is a file with a name, in a private directory.",
    "엔진이 mkfifo()를 호출했습니다. FIFO는 이름이 있는 파일이며, 전용 디렉터리에 있습니다.",
    teaches=["T13", "T15"],
)
scenario.step(
    "open-wait",
    "The writer opens the FIFO by its path and waits: nobody has opened it for reading yet.",
    "writer가 경로로 FIFO를 열고 기다립니다. 아직 아무도 읽기용으로 열지 않았기 때문입니다.",
    teaches=["T15"],
)
scenario.step(
    "meet",
    "The reader opens the same path: both opens return. Two processes that share no parent's "
    "descriptors are now connected.",
    "reader가 같은 경로를 엽니다. 두 open이 함께 반환됩니다. 부모에게서 디스크립터를 물려받지 "
    "않은 두 프로세스가 이제 연결되었습니다.",
    teaches=["T13"],
)
scenario.step(
    "one-way",
    "Data flows one way only, from the writer to the reader: a FIFO is still half-duplex.",
    "데이터는 writer에서 reader로 한 방향으로만 흐릅니다. FIFO도 여전히 반이중입니다.",
    teaches=["T16"],
)
scenario.step(
    "outlives",
    "Both processes are gone, but the FIFO file remains until someone unlinks it.",
    "두 프로세스는 끝났지만, FIFO 파일은 누군가 unlink할 때까지 남아 있습니다.",
    teaches=["T14"],
)
fifo = scenario.fifo("f")
#: Where the kernel has a process asleep in a blocking open() of a FIFO with no peer yet.
OPEN_WAITS = ("wait_for_partner", "fifo_open")


@scenario.process("writer")
def writer(ctx):
    ctx.step("mkfifo")
    ctx.report("pid", os.getpid())
    ctx.report("ppid", os.getppid())
    ctx.step("open-wait")
    fifo.open_write()  # blocks until the reader opens
    ctx.report("opened_at", time.monotonic_ns())
    ctx.step("one-way")
    for i in range(1, ctx.params["messages"] + 1):
        fifo.write(f"line {i}\n".encode())
        ctx.sleep(ctx.params["pause"])
    fifo.close_write()


@scenario.process("reader")
def reader(ctx):
    ctx.report("pid", os.getpid())
    ctx.report("ppid", os.getppid())
    # Proof, not luck: wait until the kernel has the writer asleep in its open() ...
    ctx.report("writer_wchan", ctx.wait_for_wchan(ctx.pid_of("writer"), OPEN_WAITS, 20.0))
    ctx.sleep(ctx.params["late"])  # ... and let a human see it waiting a moment
    ctx.report("opening_at", time.monotonic_ns())
    fifo.open_read()
    ctx.step("meet")
    got = b""
    while chunk := fifo.read(4096):
        got += chunk
    fifo.close_read()
    ctx.report("received", got.decode())
    ctx.step("outlives")


@scenario.check("every line arrived, in order", ko="모든 줄이 순서대로 도착했다")
def all_lines(run):
    n = run.params["messages"]
    want = "".join(f"line {i}\n" for i in range(1, n + 1))
    got = run.report("reader", "received", "")
    return (
        got == want,
        f"got {got.count(chr(10))} of {n} lines",
        f"{n}줄 중 {got.count(chr(10))}줄 받음",
    )


@scenario.check(
    "writer and reader are not parent and child of each other",
    ko="쓰는 쪽과 읽는 쪽은 서로 부모 자식 관계가 아니다",
)
def unrelated(run):
    w, r = run.reports.get("writer", {}), run.reports.get("reader", {})
    ok = w.get("pid") not in (None, r.get("ppid")) and r.get("pid") not in (None, w.get("ppid"))
    return (
        ok,
        f"writer {w.get('pid')} (parent {w.get('ppid')}), reader {r.get('pid')} "
        + (f"(parent {r.get('ppid')})"),
        (
            f"쓰는 쪽 {w.get('pid')} (부모 {w.get('ppid')}), 읽는 쪽 {r.get('pid')} "
            f"(부모 {r.get('ppid')})"
        ),
    )


@scenario.check(
    "the writer's open() waited for the reader: asleep in the kernel until it came",
    ko=("쓰는 쪽의 open()은 읽는 쪽을 기다렸다: 읽는 쪽이 올 때까지 커널 안에서 잠들어 있었다"),
)
def open_waited(run):
    wchan = run.report("reader", "writer_wchan") or ""
    opened = run.report("writer", "opened_at", 0)
    opening = run.report("reader", "opening_at", 0)
    asleep = wchan in OPEN_WAITS
    ok = asleep and 0 < opening <= opened
    if ok:
        return (
            ok,
            (
                f"the kernel had the writer asleep in {wchan!r} before the reader opened; its "
                f"open(O_WRONLY) returned {(opened - opening) / 1e6:.1f} ms after the reader came"
            ),
            (
                f"읽는 쪽이 열기 전에 커널은 쓰는 쪽을 {wchan!r}에서 재우고 있었음. 쓰는 쪽의 "
                f"open(O_WRONLY)은 읽는 쪽이 온 지 {(opened - opening) / 1e6:.1f} ms 뒤에 돌아왔음"
            ),
        )
    if not asleep:
        return (
            ok,
            f"the writer was never seen asleep in open() (last wait point {wchan!r})",
            f"쓰는 쪽이 open()에서 잠든 것을 보지 못했음 (마지막 대기 지점 {wchan!r})",
        )
    return (
        ok,
        "the writer's open(O_WRONLY) returned before the reader came to open the FIFO",
        "쓰는 쪽의 open(O_WRONLY)이 읽는 쪽이 FIFO를 열러 오기 전에 돌아왔음",
    )


@scenario.check(
    "the FIFO file still exists after both processes exited (mode 0600)",
    ko="두 프로세스가 끝난 뒤에도 FIFO 파일이 남아 있다 (모드 0600)",
)
def outlives(run):
    try:
        st = os.stat(fifo.path)
    except OSError as exc:
        return False, f"{exc.strerror}", f"{exc.strerror}"
    mode = stat.S_IMODE(st.st_mode)
    return (
        stat.S_ISFIFO(st.st_mode) and mode == 0o600,
        f"FIFO file, mode {mode:o}",
        f"FIFO 파일, 모드 {mode:o}",
    )
