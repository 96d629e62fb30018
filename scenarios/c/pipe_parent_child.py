"""c/pipe-parent-child: pipe_parent_child.c under strace — pipe(), fork(), one-way bytes, EOF.

Each step is said when strace shows its event (see ipcviz/sources/strace/cscenario.py);
the checks read the recorded events.
"""

from ipcviz.sources.strace.cscenario import ProgramScenario, data, ever, of, root

scenario = ProgramScenario(
    "c/pipe-parent-child",
    "C: pipe(), fork(), parent writes, child reads to end of file",
    example="c/pipe-parent-child",
    teaches=["T4", "T7", "T8"],
    description=(
        "pipe_parent_child.c: pipe() gives two descriptors; fork() copies them into the child. "
        "The parent keeps the write end, the child the read end; each closes the end it does "
        "not use. The child reads until end of file, which comes once no writer is left. "
        "Watched through strace: every call and every byte is what the program really did."
    ),
    title_ko="C: pipe(), fork(), 부모는 쓰고 자식은 파일 끝까지 읽는다",
    description_ko=(
        "pipe_parent_child.c: pipe()는 디스크립터 두 개를 주고, fork()는 이것을 자식에게 "
        "복사합니다. 부모는 쓰기 끝을, 자식은 읽기 끝을 갖고, 각자 쓰지 않는 끝은 닫습니다. "
        "자식은 파일의 끝(EOF)까지 읽는데, EOF는 쓰는 쪽이 하나도 남지 않을 때 옵니다. strace로 "
        "지켜보므로 모든 호출과 모든 바이트는 프로그램이 실제로 한 일입니다."
    ),
)


def _closed_unused(events):
    """The parent closed the read end (0) and the child the write end (1)."""
    parent = root(events)
    return bool(of(events, "pipe.close", pid=parent, end=0)) and any(
        e["pid"] != parent for e in of(events, "pipe.close", end=1)
    )


scenario.step(
    "pipe",
    "pipe() made one kernel buffer with two descriptors: a read end and a write end.",
    "pipe()가 커널 버퍼 하나와 두 개의 디스크립터(읽기 끝, 쓰기 끝)를 만들었습니다.",
    teaches=["T7"],
    when=ever("obj.declare", type="pipe"),
)
scenario.step(
    "one-way",
    "After fork() the parent closed its read end and the child its write end: the bytes "
    "can only go one way, parent → child.",
    "fork() 후 부모는 읽기 끝을, 자식은 쓰기 끝을 닫았습니다. 바이트는 한 방향(부모 → 자식)으로만 "
    "갈 수 있습니다.",
    teaches=["T4"],
    when=_closed_unused,
)
scenario.step(
    "write",
    "The parent has written into the pipe: each write() adds its bytes at the end of the buffer.",
    "부모가 파이프에 썼습니다. write()마다 바이트가 버퍼의 끝에 붙습니다.",
    when=lambda ev: bool(of(ev, "pipe.write", pid=root(ev))),
)
scenario.step(
    "read",
    "The child has read: the bytes came out in the order they were written, as one stream "
    "(one read may take several writes).",
    "자식이 읽었습니다. 바이트는 쓰인 순서대로 하나의 스트림으로 나왔습니다(한 번의 read가 여러 "
    "write를 가져갈 수 있습니다).",
    teaches=["T8"],
    when=lambda ev: any(e.get("n", 0) > 0 for e in of(ev, "pipe.read")),
)
scenario.step(
    "eof",
    "The parent closed the write end: with no writer left, the child's read returned 0 — "
    "end of file.",
    "부모가 쓰기 끝을 닫았습니다. 쓰는 쪽이 남지 않아 자식의 read는 0, 즉 파일의 끝을 "
    "돌려받았습니다.",
    teaches=["T4"],
    when=lambda ev: bool(of(ev, "pipe.read", n=0) and of(ev, "pipe.close", pid=root(ev), end=1)),
)


@scenario.trace_check(
    "every byte written was read, in the order written", ko="쓴 바이트는 모두, 쓴 순서대로 읽혔다"
)
def in_order(events):
    written = b"".join(data(e) for e in of(events, "pipe.write"))
    read = b"".join(data(e) for e in of(events, "pipe.read"))
    return (
        written == read and bool(written),
        f"{len(written)} B written, {len(read)} B read",
        f"{len(written)} B 씀, {len(read)} B 읽음",
    )


@scenario.trace_check(
    "each process closed the end it does not use", ko="각 프로세스는 자기가 쓰지 않는 끝을 닫았다"
)
def closed_unused(events):
    return (
        _closed_unused(events),
        "parent: read end, child: write end",
        "부모: 읽기 끝, 자식: 쓰기 끝",
    )


@scenario.trace_check(
    "the child's last read was end of file, after the parent closed",
    ko="자식의 마지막 read는 부모가 닫은 뒤의 파일 끝(EOF)이었다",
)
def end_of_file(events):
    reads = of(events, "pipe.read")
    closed = of(events, "pipe.close", pid=root(events), end=1)
    ok = bool(reads and closed) and reads[-1].get("n") == 0 and closed[0]["seq"] < reads[-1]["seq"]
    return (
        ok,
        f"{len(reads)} reads, the last of {reads[-1].get('n') if reads else '-'} B",
        f"read {len(reads)}번, 마지막은 {reads[-1].get('n') if reads else '-'} B",
    )
