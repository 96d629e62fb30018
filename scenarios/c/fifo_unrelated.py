"""c/fifo-unrelated: fifo_unrelated.c under strace — a FIFO between two unrelated programs.

Each step is said when strace shows its event (see ipcviz/sources/strace/cscenario.py);
the checks read the recorded events.
"""

from ipcviz.sources.strace.cscenario import ProgramScenario, data, ever, of, root

scenario = ProgramScenario(
    "c/fifo-unrelated",
    "C: a FIFO between two unrelated programs — met by a name",
    example="c/fifo-unrelated",
    teaches=["T13", "T15", "T16"],
    description=(
        "fifo_unrelated.c: the launcher makes a FIFO in a private directory (mkfifo) and "
        "starts two separate programs (fork + exec, as a shell starts two commands) that "
        "share no descriptor: a writer and a reader. Each opens the FIFO by its path; an "
        "open waits until the other end is opened too. The writer sends three lines and "
        "closes; the reader reads until end of file. The launcher removes the name (unlink). "
        "Watched through strace: every call and every byte is real."
    ),
    title_ko="C: 관계없는 두 프로그램 사이의 FIFO — 이름으로 만난다",
    description_ko=(
        "fifo_unrelated.c: 실행기(launcher)가 전용 디렉터리에 FIFO를 만들고(mkfifo), 디스크립터를 "
        "하나도 공유하지 않는 별개의 프로그램 두 개(쓰는 쪽과 읽는 쪽)를 시작합니다(셸이 명령 두 "
        "개를 시작하듯 fork + exec). 각자 경로로 FIFO를 엽니다. 한쪽 끝을 열면 다른 쪽 끝도 열릴 "
        "때까지 기다립니다. 쓰는 쪽은 세 줄을 보내고 닫고, 읽는 쪽은 파일의 끝(EOF)까지 읽습니다. "
        "실행기는 이름을 지웁니다(unlink). strace로 지켜보므로 모든 호출과 모든 바이트가 "
        "실제입니다."
    ),
)


def _opens(events):
    """The FIFO's opens by the programs: end 1 (the writer's) and end 0 (the reader's)."""
    return of(events, "pipe.open")


def _both_open(events):
    opens = _opens(events)
    return {e.get("end") for e in opens} == {0, 1} and len({e["pid"] for e in opens}) == 2


def _bytes(events, kind):
    return b"".join(data(e) for e in of(events, kind))


def _all_read(events):
    written = _bytes(events, "pipe.write")
    eof = any(e.get("n") == 0 for e in of(events, "pipe.read"))
    return bool(written) and eof and _bytes(events, "pipe.read") == written


scenario.step(
    "mkfifo",
    "mkfifo made a FIFO: a pipe with a name in the file system. Any program that knows "
    "the name can open it; no shared parent is needed.",
    "mkfifo가 FIFO를 만들었습니다. 파일 시스템에 이름이 있는 파이프입니다. 이름을 아는 "
    "프로그램이면 누구든 열 수 있고, 같은 부모가 필요 없습니다.",
    teaches=["T13", "T15"],
    when=ever("obj.declare", type="fifo"),
)
scenario.step(
    "opened",
    "The writer and the reader, two separate programs sharing no descriptor, each opened "
    "the FIFO by its path. Neither open returned before the other end was open too.",
    "서로 디스크립터를 공유하지 않는 별개의 두 프로그램, writer와 reader가 각자 경로로 "
    "FIFO를 열었습니다. 어느 쪽의 open도 반대쪽 끝이 열리기 전에는 돌아오지 않았습니다.",
    teaches=["T15"],
    when=_both_open,
)
scenario.step(
    "read",
    "The reader got every byte the writer wrote, in order, then end of file once the "
    "writer closed: one direction only, from the writer to the reader.",
    "reader는 writer가 쓴 모든 바이트를 순서대로 받았고, writer가 닫자 파일 끝(EOF)을 "
    "보았습니다. 방향은 writer에서 reader로 하나뿐입니다.",
    teaches=["T16"],
    when=_all_read,
)


@scenario.trace_check(
    "the reader read exactly what the writer wrote, in order",
    ko="읽는 쪽은 쓰는 쪽이 쓴 것을 정확히, 순서대로 읽었다",
)
def same_bytes(events):
    written, got = _bytes(events, "pipe.write"), _bytes(events, "pipe.read")
    return (
        bool(written) and got == written,
        f"{len(written)} B written, {len(got)} B read",
        f"{len(written)} B 씀, {len(got)} B 읽음",
    )


@scenario.trace_check(
    "two programs met by the FIFO's name; the launcher never opened it",
    ko="두 프로그램은 FIFO의 이름으로 만났고, 실행기는 FIFO를 열지 않았다",
)
def by_name(events):
    opens = _opens(events)
    pids = {e["pid"] for e in opens}
    ok = _both_open(events) and root(events) not in pids
    return (
        ok,
        f"{len(opens)} opens by {len(pids)} programs",
        f"프로그램 {len(pids)}개가 {len(opens)}번 엶",
    )


@scenario.trace_check(
    "each open waited until the other end was open",
    ko="각 open은 다른 쪽 끝이 열릴 때까지 기다렸다",
)
def waited(events):
    opens = _opens(events)
    if len(opens) != 2:
        return False, f"{len(opens)} opens", f"open {len(opens)}번"
    a, b = opens
    ok = a["t"] >= _began(events, b) and b["t"] >= _began(events, a)
    return ok, "each returned after the other began", "각 open은 상대가 시작한 뒤에 돌아왔음"


def _began(events, op):
    """When an open began: its ``since``, else its own ``pipe.open.begin`` (seen waiting)."""
    if "since" in op:
        return op["since"]
    begins = [e for e in of(events, "pipe.open.begin", pid=op["pid"]) if e["seq"] < op["seq"]]
    return begins[-1]["t"] if begins else op["t"]
