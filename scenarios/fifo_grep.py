"""fifo-grep: a Python process and an ordinary shell pipeline meet at a FIFO; both are seen
whole (the Python side through ipcviz's wrappers, the shell's through strace)."""

from ipcviz.bytefmt import readable
from ipcviz.scenario import Scenario

LINES = [
    "INFO  boot",
    "INFO  disk ok",
    "ERR   fan stopped",
    "INFO  net up",
    "ERR   disk full",
    "INFO  user login",
    "INFO  backup",
    "ERR   backup failed",
]

scenario = Scenario(
    "fifo-grep",
    "A FIFO between your program and grep | wc",
    teaches=["T13", "T15", "T6", "T8"],
    description=(
        "The logger, a Python process, writes log lines into the FIFO `log`. An ordinary "
        "shell, started as `sh -c 'grep ERR \"$IPCVIZ_LOG\" | wc -l'`, opens the same FIFO "
        "by its path: grep reads it and writes the ERR lines into a pipe the shell made, "
        "and wc counts them. The shell knows nothing of ipcviz: strace shows its calls, so "
        "grep's reads, the shell's pipe and wc's reads appear beside the logger's writes, "
        "bytes and all."
    ),
    params={"pause": 0.3},
    quick={"pause": 0.0},
    limits={"pause": (0, 10)},
    timeout=60,
    title_ko="내 프로그램과 grep | wc 사이의 FIFO",
    description_ko=(
        "Python 프로세스인 logger가 FIFO `log`에 로그 줄을 씁니다. 평범한 셸이 "
        "`sh -c 'grep ERR \"$IPCVIZ_LOG\" | wc -l'`로 시작해 같은 FIFO를 경로로 엽니다. grep이 "
        "그것을 읽어 ERR 줄을 셸이 만든 파이프에 쓰고, wc가 그 줄을 셉니다. 셸은 ipcviz를 "
        "모릅니다. strace가 그 호출을 보여 주므로, grep의 읽기, 셸의 파이프, wc의 읽기가 logger의 "
        "쓰기 옆에 바이트까지 나타납니다."
    ),
)
scenario.step(
    "meet",
    "The logger opens the FIFO log for writing; grep, started by the shell, opens the same "
    "path for reading. Neither inherited anything from the other: they meet by name.",
    "logger가 FIFO log를 쓰기용으로 열고, 셸이 시작한 grep이 같은 경로를 읽기용으로 엽니다. "
    "서로에게서 아무것도 물려받지 않았습니다. 이름으로 만납니다.",
    teaches=["T13", "T15"],
)
scenario.step(
    "lines",
    "Each line the logger writes, grep reads in the same order; the ERR lines go on through "
    "the pipe the shell's | made, to wc.",
    "logger가 쓰는 줄을 grep이 같은 순서로 읽습니다. ERR 줄은 셸의 |가 만든 파이프를 지나 "
    "wc로 갑니다.",
    teaches=["T8", "T6"],
)
scenario.step(
    "eof",
    "The logger closes its end: grep reads end-of-file and exits, which closes the pipe, and "
    "wc prints its count.",
    "logger가 자기 끝을 닫습니다. grep은 파일 끝을 읽고 끝나며, 그러면 파이프가 닫히고 wc가 "
    "개수를 출력합니다.",
    teaches=["T8"],
)
log = scenario.fifo("log")
scenario.command("shell", ["sh", "-c", 'grep ERR "$IPCVIZ_LOG" | wc -l'])


@scenario.process("logger")
def logger(ctx):
    log.open_write()  # waits until grep has opened the FIFO for reading
    ctx.step("meet")
    ctx.step("lines")
    for line in LINES:
        log.write(f"{line}\n".encode())
        ctx.sleep(ctx.params["pause"])
    ctx.step("eof")
    log.close_write()


def _sent() -> bytes:
    return "".join(f"{line}\n" for line in LINES).encode()


def _errors() -> bytes:
    return "".join(f"{line}\n" for line in LINES if line.startswith("ERR")).encode()


@scenario.check(
    "ipcviz saw grep read every byte the logger wrote into the FIFO",
    ko="ipcviz는 logger가 FIFO에 쓴 모든 바이트를 grep이 읽는 것을 보았다",
)
def fifo_read(run):
    obj = run.state.objects.get("log")
    want = len(_sent())
    ok = obj is not None and obj.written == want and obj.read == want
    got = (obj.written, obj.read) if obj is not None else (0, 0)
    return (
        ok,
        f"{got[0]} B written, {got[1]} B read, of {want} B",
        f"{want} B 중 {got[0]} B 쓰고 {got[1]} B 읽음",
    )


@scenario.check(
    "ipcviz found the shell's pipe, and it carried exactly the ERR lines",
    ko="ipcviz는 셸의 파이프를 찾았고, 그 파이프는 ERR 줄만 정확히 날랐다",
)
def shell_pipe(run):
    pipes = [o for o in run.state.objects.values() if o.name.startswith("pipe:[")]
    carried = [o.written for o in pipes]
    want = len(_errors())
    ok = carried == [want] and pipes[0].read == want
    return (
        ok,
        f"{len(pipes)} pipe(s) carried {readable(carried)} B (want one, {want} B)",
        f"파이프 {len(pipes)}개가 {readable(carried, 'ko')} B를 날랐다 (하나, {want} B여야 함)",
    )


@scenario.check("the shell pipeline finished normally", ko="셸 파이프라인이 정상적으로 끝났다")
def finished(run):
    return run.exits.get("shell", {}).get("code") == 0
