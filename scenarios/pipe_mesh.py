"""pipe-mesh: N processes, everyone talks to everyone: N·(N−1) one-way pipes."""

import os

from ipcviz.scenario import Scenario

N = 4

scenario = Scenario(
    "pipe-mesh",
    f"A mesh of pipes: {N} processes need {N * (N - 1)} pipes",
    teaches=["T10", "T5"],
    description=(
        f"{N} processes, each sends a message to every other one. A pipe has one direction, "
        f"so every ordered pair needs its own pipe: N·(N−1) = {N * (N - 1)} pipes, and each "
        f"process holds 2·(N−1) = {2 * (N - 1)} pipe ends. Every process counts, live, the "
        "pipe ends in its own descriptor table."
    ),
    params={"pause": 0.5},
    quick={"pause": 0.0},
    limits={"pause": (0, 60)},
    timeout=30,
    title_ko="파이프 그물: 프로세스 4개에 파이프 12개가 필요하다",
    description_ko=(
        "프로세스 4개가 각자 다른 모든 프로세스에게 메시지를 보냅니다. 파이프는 방향이 "
        "하나뿐이어서, 순서 있는 쌍마다 파이프가 하나씩 필요합니다. N·(N−1) = 12개의 파이프가 "
        "필요하고, 각 프로세스는 파이프 끝을 2·(N−1) = 6개 쥡니다. 각 프로세스는 자기 디스크립터 "
        "테이블의 파이프 끝을 실시간으로 셉니다."
    ),
)
scenario.step(
    "count",
    f"{N} processes fully connected: one pipe per direction per pair, "
    f"{N}·{N - 1} = {N * (N - 1)} pipes.",
    f"프로세스 {N}개를 모두 서로 연결하려면 쌍마다, 방향마다 파이프가 하나씩 필요합니다. "
    f"{N}·{N - 1} = {N * (N - 1)}개입니다.",
    teaches=["T10"],
)
scenario.step(
    "fds",
    f"Each process looks into its own descriptor table (/proc/self/fd): {2 * (N - 1)} pipe "
    "ends, half to write, half to read. Add a process and every table grows.",
    f"각 프로세스가 자기 파일 디스크립터 표(/proc/self/fd)를 들여다봅니다. 파이프 끝이 "
    f"{2 * (N - 1)}개, 절반은 쓰기용, 절반은 읽기용입니다. 프로세스가 하나 늘면 모든 표가 "
    "커집니다.",
    teaches=["T10"],
)
scenario.step(
    "hello",
    "Everyone greets everyone, each greeting through the pipe of that ordered pair.",
    "모두가 모두에게 인사합니다. 인사마다 그 방향의 파이프를 따로 씁니다.",
    teaches=["T5"],
)
scenario.step(
    "manage",
    "All greetings arrived. It works, but the bookkeeping grows with N²: this is why many "
    "processes rarely talk through anonymous pipes.",
    "인사가 모두 도착했습니다. 동작은 하지만 관리할 파이프가 N²에 비례해 늘어납니다. 그래서 "
    "프로세스가 많을 때는 익명 파이프를 잘 쓰지 않습니다.",
    teaches=["T10"],
)
NAMES = [f"n{i}" for i in range(1, N + 1)]
PIPES = {
    (a, b): scenario.pipe(f"{a}to{b}", writer=a, reader=b) for a in NAMES for b in NAMES if a != b
}


def pipe_ends_held() -> int:
    """Count this process's descriptors that are ends of the mesh's pipes (from /proc)."""
    inodes = {p.kernel_name for p in PIPES.values()}
    held = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") in inodes:
                held += 1
        except OSError:
            pass
    return held


def node(ctx):
    me = ctx.name
    if me == NAMES[0]:
        ctx.step("count")
    ctx.report("pipe_ends", pipe_ends_held())
    if me == NAMES[0]:
        ctx.step("fds")
        ctx.step("hello")
    ctx.sleep(ctx.params["pause"])
    for other in NAMES:
        if other != me:
            PIPES[(me, other)].write(f"hello {other}, from {me}".encode())
            PIPES[(me, other)].close_write()
    got = []
    for other in NAMES:
        if other != me:
            got.append(PIPES[(other, me)].read_exactly(64).decode())
    ctx.report("got", sorted(got))
    if me == NAMES[0]:
        ctx.step("manage")


for _name in NAMES:
    scenario.process(_name)(node)


@scenario.check(
    f"{N} processes used N·(N−1) = {N * (N - 1)} pipes (T10)",
    ko=f"프로세스 {N}개가 N·(N−1) = {N * (N - 1)}개의 파이프를 썼다 (T10)",
)
def pipes_counted(run):
    pipes = [o for o in run.state.objects.values() if o.type == "pipe"]
    used = [o for o in pipes if o.written > 0]
    ok = len(pipes) == len(used) == N * (N - 1)
    return (
        ok,
        f"{len(pipes)} pipes declared, {len(used)} carried data",
        f"선언된 파이프 {len(pipes)}개, 데이터를 나른 파이프 {len(used)}개",
    )


@scenario.check(
    f"each process held 2·(N−1) = {2 * (N - 1)} pipe ends, per /proc/self/fd",
    ko=f"/proc/self/fd에 따르면 각 프로세스는 파이프 끝을 2·(N−1) = {2 * (N - 1)}개 쥐고 있었다",
)
def ends_held(run):
    held = {n: run.report(n, "pipe_ends") for n in NAMES}
    return (
        all(v == 2 * (N - 1) for v in held.values()),
        f"pipe ends held: {held}",
        f"쥔 파이프 끝: {held}",
    )


@scenario.check(
    "every process got a greeting from every other one",
    ko="모든 프로세스가 다른 모든 프로세스로부터 인사를 받았다",
)
def all_greeted(run):
    bad = [
        n
        for n in NAMES
        if run.report(n, "got") != sorted(f"hello {n}, from {o}" for o in NAMES if o != n)
    ]
    return (
        not bad,
        f"missing greetings at {bad}" if bad else f"{N * (N - 1)} greetings",
        f"빠진 인사: {bad}" if bad else f"인사 {N * (N - 1)}개",
    )
